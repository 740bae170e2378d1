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
	row := func(s gateway.PeriodState) []cachedRow {
		return []cachedRow{{platform: "p", stored: postgres.StoredState{State: s}}}
	}
	for b := range 50 {
		entries := map[postgres.WorkerPeriodKey][]cachedRow{}
		for i := range 100 {
			entries[key(b*100+i)] = row(gateway.PeriodState{Period: "2026-11", Currency: "MYR", Events: int64(b)})
		}
		c.remember(cacheUpdate{entries: entries, gen: c.gen}, uint32(b+1))
		if n := len(c.entries); n > 1000+100 {
			t.Fatalf("after batch %d the cache holds %d states", b, n)
		}
	}
	stored := map[postgres.WorkerPeriodKey]postgres.StoredState{}
	groups := map[postgres.WorkerPeriodKey][]string{}
	if missing := c.lookup([]postgres.WorkerPeriodKey{key(4999), key(0)}, stored, groups); len(missing) != 1 || missing[0] != key(0) {
		t.Errorf("missing = %v, want only the first key (dropped long ago)", missing)
	}
	if got := stored[key(4999)]; got.Version != 50 || got.State.Events != 49 || got.State.Currency != "MYR" {
		t.Errorf("remembered %+v, want version 50 and 49 events", got)
	}
	c.forget()
	if missing := c.lookup([]postgres.WorkerPeriodKey{key(4999)}, stored, groups); len(missing) != 1 {
		t.Errorf("after forget: missing = %v", missing)
	}
	c.remember(cacheUpdate{entries: map[postgres.WorkerPeriodKey][]cachedRow{key(1): row(gateway.PeriodState{Currency: "MYR"})}, gen: c.gen}, 7)
	now = now.Add(2 * time.Hour)
	if missing := c.lookup([]postgres.WorkerPeriodKey{key(1)}, stored, groups); len(missing) != 1 {
		t.Errorf("an entry older than the age limit was used")
	}
}

// TestStateCacheGroups remembers a worker's rows on two platforms under
// one key, forgets them when the worker's registrations change, and
// refuses what a batch computed before something was forgotten.
func TestStateCacheGroups(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := newStateCache(1000, time.Hour, func() time.Time { return now })
	group := postgres.WorkerPeriodKey{WorkerID: "wk", SchemeID: "my-sess", PlanID: "1", Period: "2026-11"}
	other := postgres.WorkerPeriodKey{WorkerID: "wk2", PlatformID: "a", SchemeID: "my-sess", PlanID: "1", Period: "2026-11"}
	s := gateway.PeriodState{Period: "2026-11", Currency: "MYR", Events: 1}
	ref := postgres.RefKey{PlatformID: "a", WorkerRef: "r"}
	_, _, gen := c.lookupRegs(nil)
	c.remember(cacheUpdate{gen: gen, entries: map[postgres.WorkerPeriodKey][]cachedRow{
		group: {{platform: "a", stored: postgres.StoredState{State: s}}, {platform: "b", stored: postgres.StoredState{State: s, Version: 3}}},
		other: {{platform: "a", stored: postgres.StoredState{State: s}}},
	}, regs: map[postgres.RefKey][]regStep{ref: {{scheme: "my-sess", change: "start", workerKey: "wk"}}}}, 9)
	stored := map[postgres.WorkerPeriodKey]postgres.StoredState{}
	groups := map[postgres.WorkerPeriodKey][]string{}
	missing := c.lookup([]postgres.WorkerPeriodKey{group, other}, stored, groups)
	regs, missingRefs, gen := c.lookupRegs([]postgres.RefKey{ref})
	a, b := group, group
	a.PlatformID, b.PlatformID = "a", "b"
	if len(missing) != 0 || len(groups[group]) != 2 || stored[a].Version != 9 || stored[b].Version != 3 || stored[other].Version != 9 {
		t.Fatalf("missing %v, groups %v, stored %v", missing, groups, stored)
	}
	if len(missingRefs) != 0 || len(regs[ref]) != 1 || regs[ref][0].workerKey != "wk" {
		t.Fatalf("registrations %v, missing %v", regs, missingRefs)
	}
	c.forgetWorkers([]postgres.RefKey{ref}, []string{"wk"}, false, 4)
	if missing := c.lookup([]postgres.WorkerPeriodKey{group, other}, stored, groups); len(missing) != 1 || missing[0] != group {
		t.Errorf("after wk registered: missing %v, want the group only", missing)
	}
	if _, missingRefs, _ := c.lookupRegs([]postgres.RefKey{ref}); len(missingRefs) != 1 {
		t.Errorf("after r registered: its old registrations are still remembered")
	}
	third := postgres.WorkerPeriodKey{WorkerID: "wk3", PlatformID: "a", SchemeID: "my-sess", PlanID: "1", Period: "2026-11"}
	stale := cacheUpdate{gen: gen, entries: map[postgres.WorkerPeriodKey][]cachedRow{
		group: {{platform: "a", stored: postgres.StoredState{State: s}}},
		third: {{platform: "a", stored: postgres.StoredState{State: s}}},
	}}
	c.remember(stale, 10)
	if missing := c.lookup([]postgres.WorkerPeriodKey{group}, stored, groups); len(missing) != 1 {
		t.Errorf("remembered what a batch computed before the cache forgot the worker")
	}
	if missing := c.lookup([]postgres.WorkerPeriodKey{third}, stored, groups); len(missing) != 0 || stored[third].Version != 10 {
		t.Errorf("a worker not forgotten since the batch's lookup was not remembered: missing %v", missing)
	}
	_, _, gen = c.lookupRegs(nil)
	c.forget()
	stale.gen = gen
	c.remember(stale, 11)
	if missing := c.lookup([]postgres.WorkerPeriodKey{third}, stored, groups); len(missing) != 1 {
		t.Errorf("remembered what a batch computed before the cache forgot everything")
	}
	if c.registryVersion() != 4 {
		t.Errorf("registry version %d, want 4", c.registryVersion())
	}
}
