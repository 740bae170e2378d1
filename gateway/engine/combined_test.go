package engine_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// TestWorkerOnTwoPlatforms registers one worker with two SESS platforms:
// plan 1's RM13.10 a month is the worker's, so what one platform withheld
// counts on the other, and each platform's row keeps only what its own
// earnings added. Earnings the second platform kept in suspense before it
// registered the worker join the worker's totals when it does, and the
// engine, which remembers the worker's totals between batches, sees them.
func TestWorkerOnTwoPlatforms(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.addSESSPlatform("ride")
	register := func(platform, ref string) {
		t.Helper()
		r := postgres.Registration{PlatformID: platform, WorkerRef: ref, WorkerKey: "wk-7", SchemeID: "my-sess",
			Change: postgres.RegistrationStart, Effective: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
		w := postgres.NewWorker{WorkerKey: "wk-7", Country: "MY", Sealed: []byte{1}}
		if _, _, err := f.db.Register(ctx, w, r, sha256.Sum256([]byte(platform))); err != nil {
			t.Fatal(err)
		}
	}
	register("food", "f7")
	// Half of each earning until RM13.10 is withheld, on either platform.
	f.send(ev("ride", "r1", "r7", "2026-10-01T10:00:00+08:00", "4.00")) // suspense: 2.00 of ride's own 13.10
	f.send(ev("food", "a", "f7", "2026-10-02T10:00:00+08:00", "10.00")) // 5.00
	register("ride", "r7")                                              // moves r1 to the worker: 7.00 withheld
	f.send(ev("food", "b", "f7", "2026-10-03T10:00:00+08:00", "20.00")) // 6.10: the rest of 13.10
	f.send(ev("ride", "c", "r7", "2026-10-04T10:00:00+08:00", "10.00"), // 0
		ev("food", "d", "f7", "2026-10-05T10:00:00+08:00", "10.00")) // 0
	f.send(ev("ride", "e", "r7", "2026-11-01T10:00:00+08:00", "10.00")) // a new month: 5.00
	for _, tt := range []struct {
		platform, id string
		want         int64
	}{{"ride", "r1", 200}, {"food", "a", 500}, {"food", "b", 610}, {"ride", "c", 0}, {"food", "d", 0}, {"ride", "e", 500}} {
		if got := f.earning(tt.platform, tt.id).Entries[0].Worker; got != tt.want {
			t.Errorf("%s/%s withheld %d sen, want %d", tt.platform, tt.id, got, tt.want)
		}
	}
	for platform, want := range map[string]int64{"food": 3*100000 + 1110, "ride": 2*100000 + 200} {
		got := f.scalar(`SELECT events * 100000 + worker_minor FROM worker_periods
			WHERE worker_id = 'wk-7' AND platform_id = $1 AND period = '2026-10'`, platform)
		if got != want {
			t.Errorf("%s's October row: %d, want %d (events × 100000 + sen withheld)", platform, got, want)
		}
	}
}

// TestTwoEnginesOneWorkerTwoPlatforms sends a worker's earnings on two
// platforms through two engines on two partitions (messages keyed against
// the contract): an engine that remembers the worker's totals on one
// platform must learn of the row the other engine added for the other.
func TestTwoEnginesOneWorkerTwoPlatforms(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.addSESSPlatform("ride")
	for _, p := range []string{"food", "ride"} {
		r := postgres.Registration{PlatformID: p, WorkerRef: "w8", WorkerKey: "wk-8", SchemeID: "my-sess",
			Change: postgres.RegistrationStart, Effective: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
		if _, _, err := f.db.Register(ctx, postgres.NewWorker{WorkerKey: "wk-8", Country: "MY", Sealed: []byte{1}}, r,
			sha256.Sum256([]byte(p))); err != nil {
			t.Fatal(err)
		}
	}
	g := f.second(t)
	f.send(ev("food", "a", "w8", "2026-10-01T10:00:00+08:00", "10.00")) // 5.00
	g.send(ev("ride", "b", "w8", "2026-10-02T10:00:00+08:00", "10.00")) // 5.00
	f.send(ev("food", "c", "w8", "2026-10-03T10:00:00+08:00", "10.00")) // 3.10: the rest of 13.10
	g.send(ev("ride", "d", "w8", "2026-10-04T10:00:00+08:00", "10.00")) // 0
	for _, tt := range []struct {
		platform, id string
		want         int64
	}{{"food", "a", 500}, {"ride", "b", 500}, {"food", "c", 310}, {"ride", "d", 0}} {
		if got := f.earning(tt.platform, tt.id).Entries[0].Worker; got != tt.want {
			t.Errorf("%s/%s withheld %d sen, want %d", tt.platform, tt.id, got, tt.want)
		}
	}
}

// addSESSPlatform creates a second platform under SESS plan 1, beside the
// fixture's "food".
func (f *fixture) addSESSPlatform(id string) {
	f.t.Helper()
	if err := f.db.CreatePlatform(context.Background(), postgres.Platform{ID: id, Name: id, Country: "MY", Currency: "MYR",
		ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Schemes:    []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "1"}}}); err != nil {
		f.t.Fatal(err)
	}
}
