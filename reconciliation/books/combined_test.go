package books_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// TestCloseCombinesPlatforms closes Korea's October with two workers each
// on two platforms: KRW 400,000 here and 600,000 there meet the 800,000
// threshold together, so neither platform refunds; 300,000 and 400,000 stay
// short together, so both refund their own share.
func TestCloseCombinesPlatforms(t *testing.T) {
	f := newFixture(t)
	if err := f.db.CreatePlatform(f.ctx, postgres.Platform{ID: "baemin", Name: "Food", Country: "KR", Currency: "KRW",
		ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), RemittanceAccount: "KR-110-222-444",
		Schemes: []postgres.PlatformScheme{{SchemeID: "kr-ei", PlanID: "platform-workers"}}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ platform, ref, key string }{
		{"coupang", "c1", "wk-1"}, {"baemin", "b1", "wk-1"}, {"coupang", "c2", "wk-2"}, {"baemin", "b2", "wk-2"},
	} {
		reg := postgres.Registration{PlatformID: r.platform, WorkerRef: r.ref, WorkerKey: r.key, SchemeID: "kr-ei",
			Change: postgres.RegistrationStart, Effective: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
		w := postgres.NewWorker{WorkerKey: r.key, Country: "KR", Sealed: []byte{1}}
		if _, _, err := f.db.Register(f.ctx, w, reg, sha256.Sum256([]byte(r.platform+r.ref))); err != nil {
			t.Fatal(err)
		}
	}
	f.send(
		ev("coupang", "a", "c1", "2026-10-05T10:00:00+09:00", "KRW", "400000"),
		ev("baemin", "b", "b1", "2026-10-06T10:00:00+09:00", "KRW", "600000"),
		ev("coupang", "c", "c2", "2026-10-07T10:00:00+09:00", "KRW", "300000"),
		ev("baemin", "d", "b2", "2026-10-08T10:00:00+09:00", "KRW", "400000"),
	)
	// Each platform is charged 0.8% + 0.8% of its own share.
	if n := f.scalar(`SELECT sum(worker_minor) FROM ledger_entries`); n != 3200+4800+2400+3200 {
		t.Errorf("withheld %d won in all, want 13,600", n)
	}
	rep := f.close("kr-ei", "2026-10")
	if rep.Settled != 4 || rep.Adjustments != 2 {
		t.Fatalf("report = %+v, want 4 settled and 2 adjustments", rep)
	}
	for _, tt := range []struct {
		worker string
		refund int64
	}{{"wk-1", 0}, {"wk-2", -2400 - 3200}} {
		got := f.scalar(`SELECT coalesce(sum(worker_minor), 0) FROM settlement_adjustments
			WHERE worker_id = $1 AND kind = 'refund_provisional'`, tt.worker)
		if got != tt.refund {
			t.Errorf("%s refunded %d won, want %d", tt.worker, got, tt.refund)
		}
	}
}

// TestGigWorkersTargetCheck closes Malaysia's Gig Workers Act October: a
// worker who selected SESS plan 2 (RM19.40 a month) had RM5.00 deducted
// and is told of the RM14.40 shortfall; a worker with no SESS
// registration has no selected plan to check against.
func TestGigWorkersTargetCheck(t *testing.T) {
	f := newFixture(t)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []postgres.Registration{
		{PlatformID: "grab", WorkerRef: "g1", WorkerKey: "wk-g1", SchemeID: "my-gig", Change: postgres.RegistrationStart, Effective: start},
		{PlatformID: "grab", WorkerRef: "g1", WorkerKey: "wk-g1", SchemeID: "my-sess", PlanID: "2", Change: postgres.RegistrationStart, Effective: start},
		{PlatformID: "grab", WorkerRef: "g2", WorkerKey: "wk-g2", SchemeID: "my-gig", Change: postgres.RegistrationStart, Effective: start},
	} {
		w := postgres.NewWorker{WorkerKey: r.WorkerKey, Country: "MY", Sealed: []byte{1}}
		if _, _, err := f.db.Register(f.ctx, w, r, sha256.Sum256([]byte(r.WorkerRef+r.SchemeID))); err != nil {
			t.Fatal(err)
		}
	}
	f.send(
		ev("grab", "a", "g1", "2026-10-05T10:00:00+08:00", "MYR", "400.00"), // 1.25%: RM5.00
		ev("grab", "b", "g2", "2026-10-06T10:00:00+08:00", "MYR", "400.00"),
	)
	rep := f.close("my-gig", "2026-10")
	if rep.Notices != 1 {
		t.Fatalf("report = %+v, want 1 notice", rep)
	}
	got := f.scalar(`SELECT amount_minor * 1000000 + withheld_minor * 1000 + (kind = 'shortfall')::int
		FROM settlement_notices WHERE worker_id = 'wk-g1'`)
	if want := int64(1440*1000000 + 500*1000 + 1); got != want {
		t.Errorf("notice = %d, want a shortfall of 1440 sen with 500 withheld (%d)", got, want)
	}
}
