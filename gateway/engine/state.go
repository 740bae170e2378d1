package engine

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// stateCache remembers the registrations of the worker references the
// engine has seen, and the running totals it last read or wrote, with the
// version of each row, so a batch reads from PostgreSQL only what it has not
// seen lately. The running totals are only ever a guess: a batch writes
// back every row it computed from (the other platforms' rows unchanged)
// only if the row still has the remembered version (postgres.ErrStale
// otherwise, and the batch is computed again from reads), so a state
// changed by another process, by period close or by a batch that rolled
// back is never used.
//
// An entry is either one platform's row (a key with a PlatformID) or a
// worker's rows on every platform (a group: a key without one, for plans
// whose totals are the worker's). A group must be complete, and a
// registration may add a row to it (moving suspense) or change a
// reference's history: every batch first compares the registry version
// with the one the cache is as of, and forgets the workers and references
// registered since (Engine.syncRegistry).
type stateCache struct {
	mu       sync.Mutex
	max      int
	maxAge   time.Duration
	now      func() time.Time
	since    time.Time // of the oldest entry
	entries  map[postgres.WorkerPeriodKey][]cachedRow
	regs     map[postgres.RefKey][]regStep // registration histories, none for a reference not registered
	names    map[string]string             // one copy of each platform, scheme, plan and period name
	registry int64                         // the registry version the entries are as of
	gen      uint64                        // changes whenever entries are forgotten
	// forgotten are the workers and references forgotten by the latest
	// generations, oldest first, so that a batch that looked up before
	// them may still remember the rest of what it read.
	forgotten []forgetting
}

// regStep is what the engine keeps of a registration step: what resolving
// an event's worker reads.
type regStep struct {
	effective                       time.Time
	scheme, change, workerKey, plan string
}

// forgetting is what one generation forgot: some workers' running totals
// and references' registrations, or everything.
type forgetting struct {
	gen     uint64
	all     bool
	workers map[string]bool
	refs    map[postgres.RefKey]bool
}

// maxForgotten is how many generations' forgettings are kept.
const maxForgotten = 64

// cachedRow is one platform's row of a remembered key. Version 0 in what a
// batch hands to remember means the batch wrote the row.
type cachedRow struct {
	platform string
	stored   postgres.StoredState
}

// newStateCache returns a cache of at most max keys (nil when max <= 0),
// emptied every maxAge: row versions are 32-bit transaction ids, which
// PostgreSQL reuses after billions of transactions.
func newStateCache(max int, maxAge time.Duration, now func() time.Time) *stateCache {
	if max <= 0 {
		return nil
	}
	return &stateCache{max: max, maxAge: maxAge, now: now, since: now(),
		entries: make(map[postgres.WorkerPeriodKey][]cachedRow), regs: make(map[postgres.RefKey][]regStep), names: map[string]string{}}
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

// registryVersion returns the registry version the cache is as of.
func (c *stateCache) registryVersion() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.registry
}

// size returns how many keys and references the cache holds.
func (c *stateCache) size() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries) + len(c.regs)
}

// forgetWorkers drops the registrations of refs and the running totals of
// workers (everything with all), changed up to registry version version,
// and moves the cache to that version.
func (c *stateCache) forgetWorkers(refs []postgres.RefKey, workers []string, all bool, version int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if version <= c.registry {
		return
	}
	c.registry = version
	if all || len(workers) > 4096 {
		c.forgetLocked()
		return
	}
	f := forgetting{workers: make(map[string]bool, len(workers)), refs: make(map[postgres.RefKey]bool, len(refs))}
	for _, r := range refs {
		f.refs[r] = true
		delete(c.regs, r)
	}
	for _, w := range workers {
		f.workers[w] = true
	}
	for k := range c.entries {
		if f.workers[k.WorkerID] {
			delete(c.entries, k)
		}
	}
	c.record(f)
}

// lookupRegs returns the remembered registration histories of refs, the
// references it does not know, and the generation to hand back to
// remember.
func (c *stateCache) lookupRegs(refs []postgres.RefKey) (map[postgres.RefKey][]regStep, []postgres.RefKey, uint64) {
	found := make(map[postgres.RefKey][]regStep, len(refs))
	var missing []postgres.RefKey
	if c == nil {
		for _, r := range refs {
			if _, ok := found[r]; !ok {
				found[r] = nil
				missing = append(missing, r)
			}
		}
		return found, missing, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range refs {
		if _, ok := found[r]; ok {
			continue
		}
		steps, ok := c.regs[r]
		found[r] = steps
		if !ok {
			missing = append(missing, r)
		}
	}
	return found, missing, c.gen
}

// lookup moves the remembered rows of keys into stored, the platforms of
// each remembered group into groups, and returns the keys it does not
// know.
func (c *stateCache) lookup(keys []postgres.WorkerPeriodKey, stored map[postgres.WorkerPeriodKey]postgres.StoredState,
	groups map[postgres.WorkerPeriodKey][]string) []postgres.WorkerPeriodKey {
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
		rows, ok := c.entries[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		if k.PlatformID != "" {
			stored[k] = rows[0].stored
			continue
		}
		platforms := make([]string, len(rows))
		for i, r := range rows {
			rk := k
			rk.PlatformID = r.platform
			stored[rk] = r.stored
			platforms[i] = r.platform
		}
		groups[k] = platforms
	}
	return missing
}

// remember records what a committed batch read and wrote, the rows it
// wrote in version v, but not what the cache forgot since the batch's
// lookup (generation u.gen): the batch may have computed from it. When the
// cache is full, a random half of it is dropped.
func (c *stateCache) remember(u cacheUpdate, v uint32) {
	if c == nil || v == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	entries, regs, ok := c.stillValid(u)
	if !ok {
		return
	}
	c.rememberRegs(regs)
	c.entries = makeRoom(c.entries, len(entries), c.max)
	for k, rows := range entries {
		kept, ok := c.entries[k]
		if ok && len(kept) == len(rows) {
			// In place: the stored key stays the cache's own copy.
			for i, r := range rows {
				kept[i].stored = c.keep(r.stored, v)
				if kept[i].platform != r.platform {
					kept[i].platform = c.name(r.platform)
				}
			}
			continue
		}
		if !ok {
			k = postgres.WorkerPeriodKey{WorkerID: strings.Clone(k.WorkerID), PlatformID: c.name(k.PlatformID),
				SchemeID: c.name(k.SchemeID), PlanID: c.name(k.PlanID), Period: c.name(k.Period)}
		}
		kept = make([]cachedRow, len(rows))
		for i, r := range rows {
			kept[i] = cachedRow{platform: c.name(r.platform), stored: c.keep(r.stored, v)}
		}
		c.entries[k] = kept
	}
}

// keep returns s as the cache keeps it: version v if s has none (the batch
// wrote it), names shared.
func (c *stateCache) keep(s postgres.StoredState, v uint32) postgres.StoredState {
	if s.Version == 0 {
		s.Version = v
	}
	if s.State.Currency == "" {
		s.State = gateway.PeriodState{} // as postgres.BatchTx.States reads it
	}
	s.State.Period, s.State.Currency = c.name(s.State.Period), gateway.Currency(c.name(string(s.State.Currency)))
	return s
}

// makeRoom returns m, or a random half of it when adding n more would take
// it over max: in a new map, as one emptied by deletes keeps its size.
func makeRoom[K comparable, V any](m map[K]V, n, max int) map[K]V {
	if len(m)+n <= max {
		return m
	}
	kept := make(map[K]V, max)
	for k, v := range m {
		if len(kept) >= len(m)/2 {
			break
		}
		kept[k] = v
	}
	return kept
}

// rememberRegs records registration histories read from PostgreSQL.
func (c *stateCache) rememberRegs(regs map[postgres.RefKey][]regStep) {
	c.regs = makeRoom(c.regs, len(regs), c.max)
	for k, steps := range regs {
		kept := make([]regStep, len(steps))
		for i, r := range steps {
			kept[i] = regStep{effective: r.effective, scheme: c.name(r.scheme), change: c.name(r.change),
				workerKey: strings.Clone(r.workerKey), plan: c.name(r.plan)}
		}
		c.regs[postgres.RefKey{PlatformID: c.name(k.PlatformID), WorkerRef: strings.Clone(k.WorkerRef)}] = kept
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
	clear(c.regs)
	clear(c.names)
	c.since = c.now()
	c.record(forgetting{all: true})
}

// record starts a generation that forgot f.
func (c *stateCache) record(f forgetting) {
	c.gen++
	f.gen = c.gen
	if len(c.forgotten) == maxForgotten {
		c.forgotten = slices.Delete(c.forgotten, 0, 1)
	}
	c.forgotten = append(c.forgotten, f)
}

// stillValid returns what of u may be remembered: all of it when nothing
// was forgotten since its lookup; without the workers and references
// forgotten since; nothing when everything was, or when the forgettings
// since are no longer all known.
func (c *stateCache) stillValid(u cacheUpdate) (map[postgres.WorkerPeriodKey][]cachedRow, map[postgres.RefKey][]regStep, bool) {
	if u.gen == c.gen {
		return u.entries, u.regs, true
	}
	i := slices.IndexFunc(c.forgotten, func(f forgetting) bool { return f.gen == u.gen+1 })
	if i < 0 {
		return nil, nil, false
	}
	since := c.forgotten[i:]
	for _, f := range since {
		if f.all {
			return nil, nil, false
		}
	}
	entries := make(map[postgres.WorkerPeriodKey][]cachedRow, len(u.entries))
	for k, rows := range u.entries {
		if !slices.ContainsFunc(since, func(f forgetting) bool { return f.workers[k.WorkerID] }) {
			entries[k] = rows
		}
	}
	regs := make(map[postgres.RefKey][]regStep, len(u.regs))
	for k, steps := range u.regs {
		if !slices.ContainsFunc(since, func(f forgetting) bool { return f.refs[k] }) {
			regs[k] = steps
		}
	}
	return entries, regs, true
}
