package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
)

// TestRememberedStateChangedElsewhere changes a worker's running totals
// behind the engine's back between two batches: the second batch must be
// computed from what is stored, not from what the engine remembers writing,
// and must leave the settled amounts (period close's) as they are.
func TestRememberedStateChangedElsewhere(t *testing.T) {
	f := newFixture(t)
	f.send(ev("food", "a", "r1", "2026-10-01T10:00:00+08:00", "10.00")) // withholds 5.00 of RM13.10
	if _, err := f.db.Pool.Exec(context.Background(),
		`UPDATE worker_periods SET worker_minor = 1310, settled_worker = 7 WHERE platform_id = 'food' AND period = '2026-10'`); err != nil {
		t.Fatal(err)
	}
	f.send(ev("food", "b", "r1", "2026-10-02T10:00:00+08:00", "4.00")) // the month is paid up: nothing
	if got := f.earning("food", "b").Entries[0].Worker; got != 0 {
		t.Errorf("b withheld %d sen, want 0: computed from a stale state", got)
	}
	if n := f.scalar(`SELECT worker_minor + settled_worker * 10000 FROM worker_periods WHERE platform_id = 'food'`); n != 1310+7*10000 {
		t.Errorf("worker period = %d, want worker 1310 and settled 7 kept", n)
	}
	// The engine remembers the state it has just written.
	f.send(ev("food", "c", "r1", "2026-10-03T10:00:00+08:00", "4.00"))
	if n := f.scalar(`SELECT events FROM worker_periods WHERE platform_id = 'food'`); n != 3 {
		t.Errorf("events = %d, want 3", n)
	}
}

// TestRedeliveryInALaterBatch replays an earning and a reversal already
// recorded, among new events: the engine first takes every earning to be
// new, finds out when recording it and computes the batch again, so the
// replays are duplicates and the new events are recorded once.
func TestRedeliveryInALaterBatch(t *testing.T) {
	f := newFixture(t)
	a := ev("grab", "a", "d1", "2026-10-01T10:00:00+08:00", "20.00")
	ra := ev("grab", "ra", "d1", "2026-10-01T11:00:00+08:00", "-20.00", `"kind":"reversal"`, `"reverses":"a"`)
	f.send(a, ra)
	f.send(ev("grab", "b", "d1", "2026-10-02T10:00:00+08:00", "30.00"), a, ra, ev("grab", "c", "d1", "2026-10-03T10:00:00+08:00", "40.00"))
	if n := f.scalar(`SELECT count(*) FROM earning_events`); n != 4 {
		t.Errorf("events recorded = %d, want 4", n)
	}
	if n := f.scalar(`SELECT count(*) FROM ledger_entries`); n != 4 {
		t.Errorf("ledger entries = %d, want 4", n)
	}
	if n := f.scalar(`SELECT count(*) FROM rejected_events`); n != 0 {
		t.Errorf("rejections = %d, want 0: a replay is a duplicate", n)
	}
	if n := f.scalar(`SELECT events FROM worker_periods WHERE platform_id = 'grab'`); n != 2 {
		t.Errorf("events in the worker's period = %d, want 2 (b and c)", n)
	}
}

// TestTwoEnginesOneWorker sends one worker's earnings through two engines
// on two partitions in turn (as when a worker is keyed differently by two
// messages): each engine remembers what it wrote, and each must see what the
// other wrote since. SESS plan 1 withholds half of each earning until
// RM13.10 is met, so the amounts show which state each was computed from.
func TestTwoEnginesOneWorker(t *testing.T) {
	f := newFixture(t)
	g := f.second(t)
	f.send(ev("food", "a", "r1", "2026-10-01T10:00:00+08:00", "10.00")) // 5.00
	g.send(ev("food", "b", "r1", "2026-10-02T10:00:00+08:00", "10.00")) // 5.00
	f.send(ev("food", "c", "r1", "2026-10-03T10:00:00+08:00", "10.00")) // 3.10: the rest of 13.10
	g.send(ev("food", "d", "r1", "2026-10-04T10:00:00+08:00", "10.00")) // 0
	for id, want := range map[string]int64{"a": 500, "b": 500, "c": 310, "d": 0} {
		if got := f.earning("food", id).Entries[0].Worker; got != want {
			t.Errorf("%s withheld %d sen, want %d", id, got, want)
		}
	}
	if n := f.scalar(`SELECT events * 100000 + worker_minor FROM worker_periods WHERE platform_id = 'food'`); n != 4*100000+1310 {
		t.Errorf("worker period = %d, want 4 events and 1310 sen", n)
	}
}

// second returns another engine on f's database, owning partition 1.
func (f *fixture) second(t *testing.T) *fixture {
	t.Helper()
	g := &fixture{t: t, db: f.db, claim: f.claim}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	g.eng = engine.New(engine.Config{Store: f.db, Catalog: catalog, Now: func() time.Time { return now }})
	g.claim.Partition = 1
	if g.claim.Epoch, _, err = g.eng.ClaimPartition(context.Background(), g.claim); err != nil {
		t.Fatal(err)
	}
	return g
}
