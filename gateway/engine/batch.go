package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// Result counts what one batch did.
type Result struct {
	Recorded   int // new events recorded
	Duplicates int // redeliveries of recorded events: dropped
	Conflicts  int // same id, other content: rejected
	Rejected   int // every rejection, conflicts included
	Late       int // entries booked in a later period than their own
	Entries    int // ledger entries appended
}

// batch is the working state of one batch's computation.
type batch struct {
	e         *Engine
	p         postgres.Partition
	platforms map[string]*postgres.Platform
	now       time.Time

	closed  map[postgres.SchemePeriod]bool
	entries map[postgres.EventKey][]postgres.LedgerEntry // originals, from the ledger and from this batch
	reverse map[postgres.EventKey]bool                   // events already reversed
	regs    map[postgres.RefKey][]regStep                // registration histories of the batch's workers
	newRegs map[postgres.RefKey][]regStep                // those read, not remembered

	// keys are the running totals the batch read, a worker's rows on every
	// platform for a group key (no PlatformID); groups holds the platforms
	// of each group's rows.
	keys   []postgres.WorkerPeriodKey
	groups map[postgres.WorkerPeriodKey][]string
	gen    uint64 // of the state cache, at lookup

	// plans[start[i]:start[i+1]] are the fresh event i's worker and plan
	// version under each scheme of its platform, resolved once.
	plans       []eventPlan
	start       []int
	hasReversal bool

	w   postgres.BatchWrites
	res Result
}

// reads says how a batch learns what is stored.
type reads struct {
	// assumeNew takes every earning to be new without looking it up: a
	// redelivered one makes recording the batch fail with
	// postgres.ErrRecorded, and the batch is computed again with lookups.
	// Reversals are always looked up, with their originals.
	assumeNew bool
	// cache takes running totals from the engine's cache where it has them.
	cache bool
}

// cacheUpdate is what a batch hands to the state cache once it commits.
type cacheUpdate struct {
	entries map[postgres.WorkerPeriodKey][]cachedRow
	regs    map[postgres.RefKey][]regStep
	gen     uint64
}

// apply computes and writes one batch inside its transaction. It returns
// what the state cache is to remember once the batch commits.
func (e *Engine) apply(ctx context.Context, tx *postgres.BatchTx, p postgres.Partition, in []postgres.IncomingEvent,
	bad []postgres.Rejection, platforms map[string]*postgres.Platform, r reads) (Result, cacheUpdate, error) {
	b, err := e.compute(ctx, tx, p, in, bad, platforms, r)
	if err == nil && r.assumeNew && len(b.w.Rejections) > len(bad) {
		// A rejection may depend on what is recorded (a redelivered
		// reversal is a duplicate, not "already reversed"): decide it
		// from lookups.
		r.assumeNew = false
		b, err = e.compute(ctx, tx, p, in, bad, platforms, r)
	}
	if err != nil {
		return Result{}, cacheUpdate{}, err
	}
	n, err := tx.Write(ctx, b.w)
	if err != nil {
		return Result{}, cacheUpdate{}, err
	}
	b.res.Recorded, b.res.Entries, b.res.Rejected = len(b.w.Events), len(b.w.Entries), n
	return b.res, b.cacheUpdate(), nil
}

// cacheUpdate lists the rows of every key the batch read: the new state of
// each row it wrote, and a group's other rows as read.
func (b *batch) cacheUpdate() cacheUpdate {
	u := cacheUpdate{entries: make(map[postgres.WorkerPeriodKey][]cachedRow, len(b.keys)), regs: b.newRegs, gen: b.gen}
	for _, k := range b.keys {
		if k.PlatformID != "" {
			if s, ok := b.w.States[k]; ok {
				u.entries[k] = []cachedRow{{platform: k.PlatformID, stored: postgres.StoredState{State: s}}}
			}
			continue
		}
		rows := make([]cachedRow, 0, len(b.groups[k]))
		for _, p := range b.groups[k] {
			rk := k
			rk.PlatformID = p
			if s, ok := b.w.States[rk]; ok {
				rows = append(rows, cachedRow{platform: p, stored: postgres.StoredState{State: s}})
			} else if st := b.w.Stored[rk]; st.Version != 0 {
				rows = append(rows, cachedRow{platform: p, stored: st})
			}
		}
		if len(rows) > 0 {
			u.entries[k] = rows
		}
	}
	return u
}

// syncRegistry brings the cache to the registry version: it forgets the
// registrations changed since it was last seen, and the running totals of
// their workers, which may have new rows (moved out of suspense) that a
// remembered group lacks.
func (e *Engine) syncRegistry(ctx context.Context, tx *postgres.BatchTx) error {
	if e.states == nil {
		return nil
	}
	v, err := tx.RegistryVersion(ctx)
	if err != nil {
		return err
	}
	seen := e.states.registryVersion()
	switch {
	case v <= seen:
		return nil
	case e.states.size() == 0 || v-seen > 10_000:
		e.states.forgetWorkers(nil, nil, true, v)
		return nil
	}
	refs, workers, err := tx.RegisteredSince(ctx, seen)
	if err != nil {
		return err
	}
	e.states.forgetWorkers(refs, workers, false, v)
	return nil
}

// compute reads what the batch depends on and computes its writes.
func (e *Engine) compute(ctx context.Context, tx *postgres.BatchTx, p postgres.Partition, in []postgres.IncomingEvent,
	bad []postgres.Rejection, platforms map[string]*postgres.Platform, r reads) (*batch, error) {
	b := &batch{e: e, p: p, platforms: platforms, now: e.cfg.Now(), reverse: map[postgres.EventKey]bool{},
		entries: map[postgres.EventKey][]postgres.LedgerEntry{}}
	b.w.Rejections = slices.Clone(bad)

	// Events already recorded, and the originals that reversals name.
	keys := make([]postgres.EventKey, 0, len(in))
	for _, ev := range in {
		if ev.Earning.Kind == gateway.KindReversal {
			keys = append(keys, key(ev.Earning), postgres.EventKey{PlatformID: ev.Earning.PlatformID, EventID: ev.Earning.Reverses})
		} else if !r.assumeNew {
			keys = append(keys, key(ev.Earning))
		}
	}
	recorded, err := tx.Recorded(ctx, keys)
	if err != nil {
		return nil, err
	}
	fresh := b.dedupe(in, recorded)

	var originals []postgres.EventKey
	for _, ev := range fresh {
		if ev.Earning.Kind == gateway.KindReversal {
			originals = append(originals, postgres.EventKey{PlatformID: ev.Earning.PlatformID, EventID: ev.Earning.Reverses})
		}
	}
	b.hasReversal = len(originals) > 0
	stored, err := tx.Entries(ctx, originals)
	if err != nil {
		return nil, err
	}
	for _, en := range stored {
		if en.Kind == postgres.EntryReversal {
			b.reverse[postgres.EventKey{PlatformID: en.PlatformID, EventID: en.Reverses}] = true
			continue
		}
		k := postgres.EventKey{PlatformID: en.PlatformID, EventID: en.EventID}
		b.entries[k] = append(b.entries[k], en)
	}

	// Registrations and running totals are read under the platforms'
	// locks, and remembered ones used as of the registry version read
	// under them.
	platformIDs := make([]string, 0, 4)
	refs := make([]postgres.RefKey, 0, len(fresh))
	for _, ev := range fresh {
		if !slices.Contains(platformIDs, ev.Earning.PlatformID) {
			platformIDs = append(platformIDs, ev.Earning.PlatformID)
		}
		refs = append(refs, postgres.RefKey{PlatformID: ev.Earning.PlatformID, WorkerRef: ev.Earning.WorkerRef})
	}
	if err := tx.LockPlatforms(ctx, platformIDs); err != nil {
		return nil, err
	}
	if err := e.syncRegistry(ctx, tx); err != nil {
		return nil, err
	}
	var missing []postgres.RefKey
	b.regs, missing, b.gen = e.states.lookupRegs(refs)
	regs, err := tx.Registrations(ctx, missing)
	if err != nil {
		return nil, err
	}
	b.newRegs = make(map[postgres.RefKey][]regStep, len(missing))
	for _, k := range missing {
		steps := make([]regStep, 0, len(regs[k]))
		for _, r := range regs[k] {
			steps = append(steps, regStep{effective: r.Effective, scheme: r.SchemeID, change: r.Change, workerKey: r.WorkerKey, plan: r.PlanID})
		}
		b.regs[k], b.newRegs[k] = steps, steps
	}

	// The periods and running totals the batch touches.
	periods, states := b.needs(fresh)
	if b.closed, err = tx.Closed(ctx, periods); err != nil {
		return nil, err
	}
	b.keys = states
	b.w.Stored = make(map[postgres.WorkerPeriodKey]postgres.StoredState, len(states))
	b.groups = map[postgres.WorkerPeriodKey][]string{}
	if r.cache {
		states = e.states.lookup(states, b.w.Stored, b.groups)
	}
	read, err := tx.States(ctx, states)
	if err != nil {
		return nil, err
	}
	for _, k := range states {
		if k.PlatformID != "" {
			b.w.Stored[k] = read[k] // the zero StoredState when there is no row
		} else {
			b.groups[k] = []string{}
		}
	}
	for rk, st := range read {
		gk := rk
		gk.PlatformID = ""
		if ps, ok := b.groups[gk]; ok {
			b.groups[gk] = append(ps, rk.PlatformID)
			b.w.Stored[rk] = st
		}
	}
	b.w.States = make(map[postgres.WorkerPeriodKey]gateway.PeriodState, len(b.w.Stored))
	b.w.Events = make([]postgres.IncomingEvent, 0, len(fresh))
	b.w.Entries = make([]postgres.LedgerEntry, 0, len(fresh))

	for i, ev := range fresh {
		if err := b.applyEvent(ev, recorded, b.plans[b.start[i]:b.start[i+1]]); err != nil {
			b.reject(ev, err)
			continue
		}
		b.w.Events = append(b.w.Events, ev)
	}
	b.touch()
	return b, nil
}

// touch writes back, unchanged, the rows of other platforms the batch
// computed from. Writing checks that each still has the version read, and
// gives it a new one: an engine that remembers the group, and misses the
// row this batch may have added to it, finds its own rows changed and reads
// the group again.
func (b *batch) touch() {
	for gk, platforms := range b.groups {
		if len(platforms) < 2 {
			continue
		}
		for _, p := range platforms {
			rk := gk
			rk.PlatformID = p
			if _, written := b.w.States[rk]; written {
				continue
			}
			if st := b.w.Stored[rk]; st.Version != 0 {
				b.w.States[rk] = st.State
			}
		}
	}
}

func key(e gateway.Earning) postgres.EventKey {
	return postgres.EventKey{PlatformID: e.PlatformID, EventID: e.EventID}
}

// dedupe drops redeliveries and rejects conflicting duplicates, within the
// batch and against the ledger.
func (b *batch) dedupe(in []postgres.IncomingEvent, recorded map[postgres.EventKey][32]byte) []postgres.IncomingEvent {
	seen := make(map[postgres.EventKey][32]byte, len(in))
	fresh := make([]postgres.IncomingEvent, 0, len(in))
	for _, ev := range in {
		k := key(ev.Earning)
		h, ok := recorded[k]
		if !ok {
			h, ok = seen[k]
		}
		switch {
		case !ok:
			seen[k] = ev.Hash
			fresh = append(fresh, ev)
		case h == ev.Hash:
			b.res.Duplicates++
		default:
			b.res.Conflicts++
			b.reject(ev, gateway.Invalid("event_id", gateway.ECONFLICT,
				"an event with this id and a different content was already received"))
		}
	}
	return fresh
}

func (b *batch) reject(ev postgres.IncomingEvent, err error) {
	r := rejection(ev.Payload, ev.Offset, err)
	r.PlatformID, r.EventID = ev.Earning.PlatformID, ev.Earning.EventID
	b.w.Rejections = append(b.w.Rejections, r)
}

// worker is who an event's entry under one scheme belongs to.
type worker struct {
	id         string // the worker key, or the platform's reference for an unregistered worker
	planID     string // the plan the worker selected, or the platform's default
	registered bool
}

// resolve finds the worker of event e under scheme s: the registration in
// force on the event's date (in the scheme's zone) gives the worker key and
// the selected plan. A worker with no registration in force is kept in
// suspense under the platform's own reference, on the platform's default
// plan, unless the event itself carries the worker key.
func (b *batch) resolve(e gateway.Earning, s postgres.PlatformScheme) worker {
	loc := time.UTC
	if sc, err := b.e.cfg.Catalog.Scheme(s.SchemeID); err == nil && sc.Location != nil {
		loc = sc.Location
	}
	y, m, d := e.OccurredAt.In(loc).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	var active bool
	var key, plan string
	for _, r := range b.regs[postgres.RefKey{PlatformID: e.PlatformID, WorkerRef: e.WorkerRef}] {
		if r.effective.After(day) {
			break // histories are ordered by date
		}
		if r.scheme != s.SchemeID {
			continue
		}
		switch r.change {
		case postgres.RegistrationStart:
			active, key, plan = true, r.workerKey, r.plan
		case postgres.RegistrationChange:
			if r.plan != "" {
				plan = r.plan
			}
		case postgres.RegistrationEnd:
			active = false
		}
	}
	w := worker{id: e.WorkerKey, planID: s.PlanID}
	if active {
		w.id, w.registered = key, true
		if plan != "" {
			w.planID = plan
		}
	}
	if w.id == "" {
		w.id = "ref:" + e.PlatformID + ":" + e.WorkerRef
	}
	return w
}

// eventPlan is an event's worker and plan version under one scheme.
type eventPlan struct {
	scheme string
	w      worker
	v      *gateway.PlanVersion
	err    error
	own    string // the event's period
}

// needs resolves the fresh events' workers and plan versions, and lists
// the scheme periods and running totals they read. Events that cannot be
// applied are skipped here and rejected later.
func (b *batch) needs(fresh []postgres.IncomingEvent) ([]postgres.SchemePeriod, []postgres.WorkerPeriodKey) {
	periods := map[postgres.SchemePeriod]bool{}
	states := make(map[postgres.WorkerPeriodKey]bool, len(fresh))
	opened := map[*gateway.PlanVersion]bool{}
	addOpen := func(v *gateway.PlanVersion) {
		if opened[v] {
			return
		}
		opened[v] = true
		open := v.PeriodOf(b.now)
		periods[postgres.SchemePeriod{SchemeID: v.SchemeID, Period: open.Key}] = true
		periods[postgres.SchemePeriod{SchemeID: v.SchemeID, Period: open.Next().Key}] = true
	}
	b.plans = make([]eventPlan, 0, len(fresh))
	b.start = make([]int, 0, len(fresh)+1)
	for _, ev := range fresh {
		b.start = append(b.start, len(b.plans))
		e := ev.Earning
		pl := b.platforms[e.PlatformID]
		if pl == nil {
			continue
		}
		if e.Kind == gateway.KindReversal {
			for _, orig := range b.entries[postgres.EventKey{PlatformID: e.PlatformID, EventID: e.Reverses}] {
				periods[postgres.SchemePeriod{SchemeID: orig.SchemeID, Period: orig.Period}] = true
				if v, err := b.version(orig); err == nil {
					states[readKey(stateKey(orig), v)] = true
					addOpen(v)
				}
			}
			continue
		}
		for _, s := range pl.Schemes {
			w := b.resolve(e, s)
			v, err := b.e.cfg.Catalog.PlanVersion(s.SchemeID, w.planID, e.OccurredAt)
			p := eventPlan{scheme: s.SchemeID, w: w, v: v, err: err}
			if err == nil {
				p.own = v.PeriodOf(e.OccurredAt).Key
				periods[postgres.SchemePeriod{SchemeID: s.SchemeID, Period: p.own}] = true
				rk := postgres.WorkerPeriodKey{WorkerID: w.id, PlatformID: e.PlatformID, SchemeID: s.SchemeID, PlanID: w.planID, Period: p.own}
				states[readKey(rk, v)] = true
				addOpen(v)
			}
			b.plans = append(b.plans, p)
		}
	}
	b.start = append(b.start, len(b.plans))
	return keysOf(periods), keysOf(states)
}

func keysOf[K comparable](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// readKey is the key under which the batch reads row k: the worker's
// group, on every platform, when the plan's totals are the worker's and the
// row is a worker key's (registered or named by the event), not a
// platform's reference kept in suspense.
func readKey(k postgres.WorkerPeriodKey, v *gateway.PlanVersion) postgres.WorkerPeriodKey {
	if v.Combined() && !postgres.IsSuspenseWorkerID(k.WorkerID) {
		k.PlatformID = ""
	}
	return k
}

func stateKey(en postgres.LedgerEntry) postgres.WorkerPeriodKey {
	return postgres.WorkerPeriodKey{WorkerID: en.WorkerID, PlatformID: en.PlatformID, SchemeID: en.SchemeID, PlanID: en.PlanID, Period: en.Period}
}

// version returns the plan version a ledger entry was computed with.
func (b *batch) version(en postgres.LedgerEntry) (*gateway.PlanVersion, error) {
	s, err := b.e.cfg.Catalog.Scheme(en.SchemeID)
	if err != nil {
		return nil, err
	}
	p, err := s.Plan(en.PlanID)
	if err != nil {
		return nil, err
	}
	for _, v := range p.Versions {
		if v.Version == en.PlanVersion {
			return v, nil
		}
	}
	return nil, gateway.Errorf(gateway.ENOTFOUND, "plan %s/%s has no version %d", en.SchemeID, en.PlanID, en.PlanVersion)
}

// state returns the running totals of k as the batch has them so far.
func (b *batch) state(k postgres.WorkerPeriodKey) gateway.PeriodState {
	if s, ok := b.w.States[k]; ok {
		return s
	}
	return b.w.Stored[k].State
}

// others returns the running totals of row k's group on the other
// platforms, added up, with es (the event's states so far) taking
// precedence; the zero state when k is read alone. A row new to its group
// joins it.
func (b *batch) others(k postgres.WorkerPeriodKey, es eventStates) gateway.PeriodState {
	gk := k
	gk.PlatformID = ""
	platforms, ok := b.groups[gk]
	if !ok {
		return gateway.PeriodState{}
	}
	var sum gateway.PeriodState
	own := false
	for _, p := range platforms {
		if p == k.PlatformID {
			own = true
			continue
		}
		rk := gk
		rk.PlatformID = p
		s, ok := es.get(rk)
		if !ok {
			s = b.state(rk)
		}
		sum = sum.Plus(s, 1)
	}
	if !own {
		b.groups[gk] = append(platforms, k.PlatformID)
		if _, ok := b.w.Stored[k]; !ok {
			b.w.Stored[k] = postgres.StoredState{} // the group is complete: no row
		}
	}
	return sum
}

// eventStates are the running totals one event changes, few: one per
// scheme of its platform.
type eventStates []struct {
	k postgres.WorkerPeriodKey
	s gateway.PeriodState
}

func (es eventStates) get(k postgres.WorkerPeriodKey) (gateway.PeriodState, bool) {
	for _, e := range es {
		if e.k == k {
			return e.s, true
		}
	}
	return gateway.PeriodState{}, false
}

func (es *eventStates) set(k postgres.WorkerPeriodKey, s gateway.PeriodState) {
	for i := range *es {
		if (*es)[i].k == k {
			(*es)[i].s = s
			return
		}
	}
	*es = append(*es, struct {
		k postgres.WorkerPeriodKey
		s gateway.PeriodState
	}{k, s})
}

// booking returns the period an entry of period own counts in: its own while
// that is open, otherwise the open period at the batch's time.
func (b *batch) booking(v *gateway.PlanVersion, own string) (booked string, late bool) {
	if !b.closed[postgres.SchemePeriod{SchemeID: v.SchemeID, Period: own}] {
		return own, false
	}
	p := v.PeriodOf(b.now)
	for b.closed[postgres.SchemePeriod{SchemeID: v.SchemeID, Period: p.Key}] {
		p = p.Next()
	}
	return p.Key, true
}

// applyEvent computes one event's entries under every scheme of its
// platform. It changes the batch only when every scheme succeeds.
func (b *batch) applyEvent(ev postgres.IncomingEvent, recorded map[postgres.EventKey][32]byte, plans []eventPlan) error {
	e := ev.Earning
	pl := b.platforms[e.PlatformID]
	switch {
	case pl == nil:
		return gateway.Invalid("platform_id", "unknown_platform", fmt.Sprintf("no platform %q is registered", e.PlatformID))
	case e.Gross.Currency != pl.Currency:
		return gateway.Invalid("gross.currency", "wrong_currency",
			fmt.Sprintf("platform %s reports in %s, not %s", pl.ID, pl.Currency, e.Gross.Currency))
	case e.OccurredAt.Before(pl.ActiveFrom):
		return gateway.Invalid("occurred_at", "before_platform",
			"occurred_at is before the platform was registered ("+pl.ActiveFrom.UTC().Format(time.RFC3339)+")")
	}
	var entries []postgres.LedgerEntry
	var states eventStates
	if e.Kind == gateway.KindReversal {
		orig := postgres.EventKey{PlatformID: e.PlatformID, EventID: e.Reverses}
		origs, known := b.entries[orig]
		if _, ok := recorded[orig]; ok {
			known = true
		}
		switch {
		case !known:
			return gateway.Invalid("reverses", "unknown_original", fmt.Sprintf("no event %q of this platform has been recorded", e.Reverses))
		case b.reverse[orig]:
			return gateway.Invalid("reverses", "already_reversed", fmt.Sprintf("event %q has already been reversed", e.Reverses))
		}
		for _, o := range origs {
			if o.Kind != postgres.EntryDeduction {
				return gateway.Invalid("reverses", "reversal", "a reversal cannot itself be reversed")
			}
			v, err := b.version(o)
			if err != nil {
				return err
			}
			k := stateKey(o)
			before, ok := states.get(k)
			if !ok {
				before = b.state(k)
			}
			od := deductionOf(o, v.Kind())
			d, after, err := v.Reverse(&e, &od, before)
			if err != nil {
				return err
			}
			states.set(k, after)
			en := b.entry(ev, v, d, o.WorkerID, o.Period)
			en.Registered = o.Registered
			entries = append(entries, en)
		}
		b.reverse[orig] = true
	} else {
		entries = make([]postgres.LedgerEntry, 0, len(plans))
		for _, p := range plans {
			w, v, own := p.w, p.v, p.own
			if p.err != nil {
				return gateway.Invalid("occurred_at", "no_plan_version", gateway.ErrorMessage(p.err))
			}
			k := postgres.WorkerPeriodKey{WorkerID: w.id, PlatformID: e.PlatformID, SchemeID: p.scheme, PlanID: w.planID, Period: own}
			before, ok := states.get(k)
			if !ok {
				before = b.state(k)
			}
			// The plan sees the worker's totals on every platform; this
			// platform's row takes what the event adds to them.
			others := b.others(k, states)
			all := before.Plus(others, 1)
			d, after, err := v.Deduct(&e, all)
			if err != nil {
				return err
			}
			if others != (gateway.PeriodState{}) {
				after = after.Plus(others, -1)
			}
			states.set(k, after)
			en := b.entry(ev, v, d, k.WorkerID, own)
			en.Registered = w.registered
			entries = append(entries, en)
		}
		if b.hasReversal {
			b.entries[key(e)] = entries // a later reversal in the batch may name it
		}
	}
	for _, ks := range states {
		b.w.States[ks.k] = ks.s
	}
	for _, en := range entries {
		if en.Late {
			b.res.Late++
		}
	}
	b.w.Entries = append(b.w.Entries, entries...)
	return nil
}

// entry is the ledger entry of deduction d.
func (b *batch) entry(ev postgres.IncomingEvent, v *gateway.PlanVersion, d gateway.Deduction, worker, own string) postgres.LedgerEntry {
	booked, late := b.booking(v, own)
	kind := postgres.EntryDeduction
	if d.Reverses != "" {
		kind = postgres.EntryReversal
	}
	return postgres.LedgerEntry{
		PlatformID: ev.Earning.PlatformID, EventID: ev.Earning.EventID, WorkerID: worker,
		SchemeID: v.SchemeID, PlanID: v.PlanID, PlanVersion: v.Version,
		Period: own, BookedPeriod: booked, Kind: kind, Late: late, Reverses: d.Reverses,
		Currency: v.Currency, Worker: d.Worker.Amount, Platform: d.Platform.Amount,
		Gross: d.Gross.Amount, Base: d.Base.Amount, Insured: d.Insured.Amount, Orders: d.Orders, Units: d.Units,
		Flags: d.Flags, Partition: b.p.Partition, Offset: ev.Offset,
	}
}

// deductionOf rebuilds the deduction a ledger entry records.
func deductionOf(en postgres.LedgerEntry, kind gateway.RuleKind) gateway.Deduction {
	m := func(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: en.Currency} }
	return gateway.Deduction{
		EventID: en.EventID, Reverses: en.Reverses, SchemeID: en.SchemeID, PlanID: en.PlanID, Version: en.PlanVersion,
		Period: en.Period, Kind: kind, Worker: m(en.Worker), Platform: m(en.Platform), Total: m(en.Worker + en.Platform),
		Gross: m(en.Gross), Base: m(en.Base), Insured: m(en.Insured), Orders: en.Orders, Units: en.Units, Flags: en.Flags,
	}
}
