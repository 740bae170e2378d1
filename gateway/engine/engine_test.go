package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is an engine on a database of its own, owning partition 0.
type fixture struct {
	t      *testing.T
	db     *postgres.DB
	eng    *engine.Engine
	claim  kafkabus.Claim
	offset int64
}

var now = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []postgres.Platform{
		{ID: "grab", Name: "Ride", Country: "MY", Currency: "MYR", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}},
		{ID: "food", Name: "Food", Country: "MY", Currency: "MYR", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "1"}}},
	} {
		if err := db.CreatePlatform(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, eng: engine.New(engine.Config{Store: db, Catalog: catalog, Now: func() time.Time { return now }})}
	f.claim = kafkabus.Claim{Group: "g", Topic: "earnings", Partition: 0, Generation: 1}
	f.claim.Epoch, _, err = f.eng.ClaimPartition(ctx, f.claim)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// send applies one batch of raw messages.
func (f *fixture) send(values ...string) {
	f.t.Helper()
	var msgs []kafka.Message
	for _, v := range values {
		msgs = append(msgs, kafka.Message{Topic: "earnings", Offset: f.offset, Value: []byte(v)})
		f.offset++
	}
	if err := f.eng.HandleBatch(context.Background(), f.claim, msgs); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) earning(platform, id string) postgres.RecordedEarning {
	f.t.Helper()
	r, err := f.db.Earning(context.Background(), platform, id)
	if err != nil {
		f.t.Fatalf("event %s/%s: %v", platform, id, err)
	}
	return r
}

func (f *fixture) scalar(sql string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func ev(platform, id, worker, at, value string, extra ...string) string {
	s := fmt.Sprintf(`{"event_id":%q,"platform_id":%q,"worker_ref":%q,"occurred_at":%q,"gross":{"currency":"MYR","value":%q}`,
		id, platform, worker, at, value)
	for _, x := range extra {
		s += "," + x
	}
	return s + "}"
}

func TestDeductionRecorded(t *testing.T) {
	f := newFixture(t)
	// 1.25% of 23.50 minus a 3.50 commission = 0.25; tips are excluded too.
	f.send(ev("grab", "o1", "d1", "2026-10-03T08:15:00+08:00", "23.50",
		`"exclusions":{"commission":{"currency":"MYR","value":"3.50"}}`))
	r := f.earning("grab", "o1")
	if r.Status != "recorded" || len(r.Entries) != 1 {
		t.Fatalf("o1 = %+v", r)
	}
	en := r.Entries[0]
	if en.Worker != 25 || en.Platform != 0 || en.Period != "2026-10" || en.BookedPeriod != "2026-10" || en.Late || en.PlanVersion != 1 {
		t.Errorf("entry = %+v, want worker 25 sen in 2026-10", en)
	}
	// Redelivery of the same message changes nothing.
	f.offset--
	f.send(ev("grab", "o1", "d1", "2026-10-03T08:15:00+08:00", "23.50",
		`"exclusions":{"commission":{"currency":"MYR","value":"3.50"}}`))
	if n := f.scalar(`SELECT count(*) FROM ledger_entries`); n != 1 {
		t.Errorf("ledger entries after redelivery = %d, want 1", n)
	}
}

// TestProgressiveAcrossBatch sends several earnings of one worker in one
// batch: SESS plan 1 withholds at most half of each earning until RM13.10 is
// met, never more.
func TestProgressiveAcrossBatch(t *testing.T) {
	f := newFixture(t)
	f.send(
		ev("food", "a", "r1", "2026-10-01T10:00:00+08:00", "10.00"), // 5.00 (half)
		ev("food", "b", "r1", "2026-10-02T10:00:00+08:00", "4.00"),  // 2.00 (half)
		ev("food", "c", "r1", "2026-10-03T10:00:00+08:00", "30.00"), // 6.10 (the rest)
		ev("food", "d", "r1", "2026-10-04T10:00:00+08:00", "30.00"), // 0
		ev("food", "e", "r1", "2026-11-01T10:00:00+08:00", "8.00"),  // 4.00: a new month
	)
	want := map[string]int64{"a": 500, "b": 200, "c": 610, "d": 0, "e": 400}
	for id, w := range want {
		if got := f.earning("food", id).Entries[0].Worker; got != w {
			t.Errorf("event %s withholds %d, want %d", id, got, w)
		}
	}
	if n := f.scalar(`SELECT worker_minor FROM worker_periods WHERE period = '2026-10'`); n != 1310 {
		t.Errorf("October total = %d, want 1310", n)
	}
}

func TestDuplicatesConflictsAndRejections(t *testing.T) {
	f := newFixture(t)
	f.send(
		ev("grab", "o1", "d1", "2026-10-03T08:15:00+08:00", "10.00"),
		ev("grab", "o1", "d1", "2026-10-03T08:15:00+08:00", "10.0"),  // same content, other spelling
		ev("grab", "o1", "d1", "2026-10-03T08:15:00+08:00", "11.00"), // conflict
		ev("nobody", "x1", "d1", "2026-10-03T08:15:00+08:00", "10.00"),
		`{"event_id":"bad","platform_id":"grab","gross":12}`,
		`{"event_id":"sgd","platform_id":"grab","worker_ref":"d1","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"SGD","value":"1.00"}}`,
		ev("grab", "old", "d1", "2024-10-03T08:15:00+08:00", "10.00"),
	)
	if n := f.scalar(`SELECT count(*) FROM earning_events`); n != 1 {
		t.Errorf("recorded events = %d, want 1", n)
	}
	wantCodes := map[string]string{"nobody/x1": "unknown_platform", "grab/bad": "wrong_type", "grab/sgd": "wrong_currency", "grab/old": "before_platform"}
	for k, code := range wantCodes {
		platform, id, _ := strings.Cut(k, "/")
		r, err := f.db.Earning(context.Background(), platform, id)
		if err != nil || r.Status != "rejected" || r.Rejection.Code != code {
			t.Errorf("%s: %+v %v, want rejected %s", k, r.Rejection, err, code)
		}
	}
	if n := f.scalar(`SELECT count(*) FROM rejected_events WHERE event_id = 'o1' AND code = 'conflict'`); n != 1 {
		t.Errorf("conflict rejections = %d, want 1", n)
	}
	// The first content stays.
	if got := f.earning("grab", "o1").Entries[0].Gross; got != 1000 {
		t.Errorf("o1 gross = %d, want 1000", got)
	}
}

func TestReversals(t *testing.T) {
	f := newFixture(t)
	rev := func(id, of string) string {
		return ev("food", id, "r1", "2026-10-05T10:00:00+08:00", "-10.00", `"kind":"reversal"`, fmt.Sprintf(`"reverses":%q`, of))
	}
	f.send(ev("food", "a", "r1", "2026-10-01T10:00:00+08:00", "10.00"), rev("ra", "a"))
	f.send(rev("ra2", "a"), rev("rx", "nope"))

	r := f.earning("food", "ra")
	if len(r.Entries) != 1 || r.Entries[0].Worker != -500 || r.Entries[0].Kind != postgres.EntryReversal || r.Entries[0].Reverses != "a" {
		t.Fatalf("ra = %+v, want -500 reversing a", r.Entries)
	}
	if n := f.scalar(`SELECT worker_minor + events FROM worker_periods WHERE period = '2026-10'`); n != 0 {
		t.Errorf("October after reversal = %d, want 0", n)
	}
	for id, code := range map[string]string{"ra2": "already_reversed", "rx": "unknown_original"} {
		if r := f.earning("food", id); r.Status != "rejected" || r.Rejection.Code != code {
			t.Errorf("%s = %+v, want rejected %s", id, r.Rejection, code)
		}
	}
	// After the reversal the worker owes the full period amount again.
	f.send(ev("food", "b", "r1", "2026-10-06T10:00:00+08:00", "100.00"))
	if rb := f.earning("food", "b"); len(rb.Entries) != 1 || rb.Entries[0].Worker != 1310 {
		t.Errorf("b = %+v, rejection %+v; want 1310 withheld", rb, rb.Rejection)
	}
}

// TestLateEvent closes October and sends an October event: it is booked in
// the open period (November, by the engine's clock), marked late, and
// October's balance is not touched.
func TestLateEvent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.send(ev("grab", "o1", "d1", "2026-10-03T08:15:00+08:00", "100.00"))
	if err := f.db.ClosePeriod(ctx, "my-gig", "2026-10"); err != nil {
		t.Fatal(err)
	}
	f.send(ev("grab", "o2", "d1", "2026-10-30T08:15:00+08:00", "100.00"))
	en := f.earning("grab", "o2").Entries[0]
	if !en.Late || en.Period != "2026-10" || en.BookedPeriod != "2026-11" || en.Worker != 125 {
		t.Errorf("late entry = %+v, want 125 booked in 2026-11 for 2026-10", en)
	}
	balances, err := f.db.PeriodBalances(ctx, "grab")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, b := range balances {
		got[b.Period] = b.Worker
	}
	if got["2026-10"] != 125 || got["2026-11"] != 125 {
		t.Errorf("balances = %v, want 125 in each of October and November", got)
	}
}

func TestFencedBatchIsRefused(t *testing.T) {
	f := newFixture(t)
	stale := f.claim
	if _, _, err := f.eng.ClaimPartition(context.Background(), f.claim); err != nil {
		t.Fatal(err)
	}
	err := f.eng.HandleBatch(context.Background(), stale, []kafka.Message{{Value: []byte(ev("grab", "o1", "d1", "2026-10-03T08:15:00+08:00", "1.00"))}})
	if err != kafkabus.ErrFenced {
		t.Fatalf("stale owner: %v, want ErrFenced", err)
	}
	if n := f.scalar(`SELECT count(*) FROM earning_events`); n != 0 {
		t.Errorf("fenced batch recorded %d events", n)
	}
}

// TestStateAfterReversalInSameBatch reverses a worker's only event of the
// month in the batch that recorded it, which stores the month's running
// totals as empty; the next earnings must build on the totals as they then
// stand, not on the empty state: SESS withholds the month's RM13.10 once.
func TestStateAfterReversalInSameBatch(t *testing.T) {
	f := newFixture(t)
	f.send(ev("food", "a", "r1", "2026-10-01T10:00:00+08:00", "40.00"),
		ev("food", "ra", "r1", "2026-10-01T11:00:00+08:00", "-40.00", `"kind":"reversal"`, `"reverses":"a"`))
	f.send(ev("food", "b", "r1", "2026-10-02T10:00:00+08:00", "40.00"))
	f.send(ev("food", "c", "r1", "2026-10-03T10:00:00+08:00", "40.00"))
	want := map[string]int64{"a": 1310, "ra": -1310, "b": 1310, "c": 0}
	for id, w := range want {
		if got := f.earning("food", id).Entries[0].Worker; got != w {
			t.Errorf("event %s withholds %d, want %d", id, got, w)
		}
	}
	if n := f.scalar(`SELECT worker_minor FROM worker_periods WHERE period = '2026-10'`); n != 1310 {
		t.Errorf("October total = %d, want 1310", n)
	}
}
