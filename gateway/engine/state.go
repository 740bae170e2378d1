package engine

import (
	"strings"
	"sync"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// stateCache remembers the running totals the engine last wrote, with the
// version of the row it wrote them in, so a batch reads from PostgreSQL
// only the worker periods it has not written lately. It is only ever a
// guess: a batch writes a remembered state back only if the row still has
// the remembered version (postgres.ErrStale otherwise, and the batch is
// computed again from reads), so a state changed by another process, by
// period close or by a batch that rolled back is never used.
type stateCache struct {
	mu      sync.Mutex
	max     int
	maxAge  time.Duration
	now     func() time.Time
	since   time.Time // of the oldest entry
	entries map[postgres.WorkerPeriodKey]postgres.StoredState
	names   map[string]string // one copy of each platform, scheme, plan and period name
}

// newStateCache returns a cache of at most max states (nil when max <= 0),
// emptied every maxAge: row versions are 32-bit transaction ids, which
// PostgreSQL reuses after billions of transactions.
func newStateCache(max int, maxAge time.Duration, now func() time.Time) *stateCache {
	if max <= 0 {
		return nil
	}
	return &stateCache{max: max, maxAge: maxAge, now: now, since: now(),
		entries: make(map[postgres.WorkerPeriodKey]postgres.StoredState), names: map[string]string{}}
}

// name returns the cache's copy of s, so that entries do not each hold
// one (nor the message it was decoded from).
func (c *stateCache) name(s string) string {
	if n, ok := c.names[s]; ok {
		return n
	}
	if len(c.names) >= 10_000 {
		return strings.Clone(s)
	}
	n := strings.Clone(s)
	c.names[n] = n
	return n
}

// lookup moves the remembered states of keys into stored and returns the
// keys it does not know.
func (c *stateCache) lookup(keys []postgres.WorkerPeriodKey, stored map[postgres.WorkerPeriodKey]postgres.StoredState) []postgres.WorkerPeriodKey {
	if c == nil {
		return keys
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now().Sub(c.since) > c.maxAge {
		c.forgetLocked()
	}
	var missing []postgres.WorkerPeriodKey
	for _, k := range keys {
		e, ok := c.entries[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		stored[k] = e
	}
	return missing
}

// remember records the states a committed batch wrote in rows of version
// v. When the cache is full, a random half of it is dropped.
func (c *stateCache) remember(states map[postgres.WorkerPeriodKey]gateway.PeriodState, v uint32) {
	if c == nil || len(states) == 0 || v == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries)+len(states) > c.max {
		// Into a new map: one emptied by deletes keeps its size.
		kept := make(map[postgres.WorkerPeriodKey]postgres.StoredState, c.max)
		for k, e := range c.entries {
			if len(kept) >= len(c.entries)/2 {
				break
			}
			kept[k] = e
		}
		c.entries = kept
	}
	for k, s := range states {
		if s.Currency == "" {
			s = gateway.PeriodState{} // as postgres.BatchTx.States reads it
		}
		k = postgres.WorkerPeriodKey{WorkerID: strings.Clone(k.WorkerID), PlatformID: c.name(k.PlatformID),
			SchemeID: c.name(k.SchemeID), PlanID: c.name(k.PlanID), Period: c.name(k.Period)}
		s.Period, s.Currency = c.name(s.Period), gateway.Currency(c.name(string(s.Currency)))
		c.entries[k] = postgres.StoredState{State: s, Version: v}
	}
}

// forget drops everything: after a batch found a remembered state stale.
func (c *stateCache) forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked()
}

func (c *stateCache) forgetLocked() {
	clear(c.entries)
	clear(c.names)
	c.since = c.now()
}
