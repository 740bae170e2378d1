package engine

import (
	"strconv"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// TestStateCacheBounded remembers far more states than the cache holds: it
// never holds more than its capacity and a batch's states, it gives back
// what it remembers with the version, and it empties when told or when its
// entries are older than their age limit.
func TestStateCacheBounded(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := newStateCache(1000, time.Hour, func() time.Time { return now })
	key := func(i int) postgres.WorkerPeriodKey {
		return postgres.WorkerPeriodKey{WorkerID: "w" + strconv.Itoa(i), PlatformID: "p", SchemeID: "s", PlanID: "1", Period: "2026-11"}
	}
	for b := range 50 {
		states := map[postgres.WorkerPeriodKey]gateway.PeriodState{}
		for i := range 100 {
			states[key(b*100+i)] = gateway.PeriodState{Period: "2026-11", Currency: "MYR", Events: int64(b)}
		}
		c.remember(states, uint32(b+1))
		if n := len(c.entries); n > 1000+100 {
			t.Fatalf("after batch %d the cache holds %d states", b, n)
		}
	}
	stored := map[postgres.WorkerPeriodKey]postgres.StoredState{}
	if missing := c.lookup([]postgres.WorkerPeriodKey{key(4999), key(0)}, stored); len(missing) != 1 || missing[0] != key(0) {
		t.Errorf("missing = %v, want only the first key (dropped long ago)", missing)
	}
	if got := stored[key(4999)]; got.Version != 50 || got.State.Events != 49 || got.State.Currency != "MYR" {
		t.Errorf("remembered %+v, want version 50 and 49 events", got)
	}
	c.forget()
	if missing := c.lookup([]postgres.WorkerPeriodKey{key(4999)}, stored); len(missing) != 1 {
		t.Errorf("after forget: missing = %v", missing)
	}
	c.remember(map[postgres.WorkerPeriodKey]gateway.PeriodState{key(1): {Currency: "MYR"}}, 7)
	now = now.Add(2 * time.Hour)
	if missing := c.lookup([]postgres.WorkerPeriodKey{key(1)}, stored); len(missing) != 1 {
		t.Errorf("an entry older than the age limit was used")
	}
}
