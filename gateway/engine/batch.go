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
	regs    map[postgres.RefKey][]postgres.Registration  // registration histories of the batch's workers

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

// apply computes and writes one batch inside its transaction. It returns
// the running totals written, for the cache once the batch commits.
func (e *Engine) apply(ctx context.Context, tx *postgres.BatchTx, p postgres.Partition, in []postgres.IncomingEvent,
	bad []postgres.Rejection, platforms map[string]*postgres.Platform, r reads) (Result, map[postgres.WorkerPeriodKey]gateway.PeriodState, error) {
	b, err := e.compute(ctx, tx, p, in, bad, platforms, r)
	if err == nil && r.assumeNew && len(b.w.Rejections) > len(bad) {
		// A rejection may depend on what is recorded (a redelivered
		// reversal is a duplicate, not "already reversed"): decide it
		// from lookups.
		r.assumeNew = false
		b, err = e.compute(ctx, tx, p, in, bad, platforms, r)
	}
	if err != nil {
		return Result{}, nil, err
	}
	n, err := tx.Write(ctx, b.w)
	if err != nil {
		return Result{}, nil, err
	}
	b.res.Recorded, b.res.Entries, b.res.Rejected = len(b.w.Events), len(b.w.Entries), n
	return b.res, b.w.States, nil
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

	refs := make([]postgres.RefKey, 0, len(fresh))
	for _, ev := range fresh {
		refs = append(refs, postgres.RefKey{PlatformID: ev.Earning.PlatformID, WorkerRef: ev.Earning.WorkerRef})
	}
	if b.regs, err = tx.Registrations(ctx, refs); err != nil {
		return nil, err
	}

	// The periods and running totals the batch touches.
	periods, states := b.needs(fresh)
	if b.closed, err = tx.Closed(ctx, periods); err != nil {
		return nil, err
	}
	b.w.Stored = make(map[postgres.WorkerPeriodKey]postgres.StoredState, len(states))
	if r.cache {
		states = e.states.lookup(states, b.w.Stored)
	}
	read, err := tx.States(ctx, states)
	if err != nil {
		return nil, err
	}
	for _, k := range states {
		b.w.Stored[k] = read[k] // the zero StoredState when there is no row
	}
	b.w.States = make(map[postgres.WorkerPeriodKey]gateway.PeriodState, len(b.w.Stored))
	b.w.Events = make([]postgres.IncomingEvent, 0, len(fresh))
	b.w.Entries = make([]postgres.LedgerEntry, 0, len(fresh))

	for _, ev := range fresh {
		if err := b.applyEvent(ev, recorded); err != nil {
			b.reject(ev, err)
			continue
		}
		b.w.Events = append(b.w.Events, ev)
	}
	return b, nil
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
		if r.Effective.After(day) {
			break // histories are ordered by date
		}
		if r.SchemeID != s.SchemeID {
			continue
		}
		switch r.Change {
		case postgres.RegistrationStart:
			active, key, plan = true, r.WorkerKey, r.PlanID
		case postgres.RegistrationChange:
			if r.PlanID != "" {
				plan = r.PlanID
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

// needs lists the scheme periods and running totals the fresh events read.
// Events that cannot be applied are skipped here and rejected later.
func (b *batch) needs(fresh []postgres.IncomingEvent) ([]postgres.SchemePeriod, []postgres.WorkerPeriodKey) {
	periods := map[postgres.SchemePeriod]bool{}
	states := map[postgres.WorkerPeriodKey]bool{}
	addOpen := func(v *gateway.PlanVersion) {
		open := v.PeriodOf(b.now)
		periods[postgres.SchemePeriod{SchemeID: v.SchemeID, Period: open.Key}] = true
		periods[postgres.SchemePeriod{SchemeID: v.SchemeID, Period: open.Next().Key}] = true
	}
	for _, ev := range fresh {
		e := ev.Earning
		pl := b.platforms[e.PlatformID]
		if pl == nil {
			continue
		}
		if e.Kind == gateway.KindReversal {
			for _, orig := range b.entries[postgres.EventKey{PlatformID: e.PlatformID, EventID: e.Reverses}] {
				periods[postgres.SchemePeriod{SchemeID: orig.SchemeID, Period: orig.Period}] = true
				states[stateKey(orig)] = true
				if v, err := b.version(orig); err == nil {
					addOpen(v)
				}
			}
			continue
		}
		for _, s := range pl.Schemes {
			w := b.resolve(e, s)
			v, err := b.e.cfg.Catalog.PlanVersion(s.SchemeID, w.planID, e.OccurredAt)
			if err != nil {
				continue
			}
			own := v.PeriodOf(e.OccurredAt).Key
			periods[postgres.SchemePeriod{SchemeID: s.SchemeID, Period: own}] = true
			states[postgres.WorkerPeriodKey{WorkerID: w.id, PlatformID: e.PlatformID, SchemeID: s.SchemeID, PlanID: w.planID, Period: own}] = true
			addOpen(v)
		}
	}
	return keysOf(periods), keysOf(states)
}

func keysOf[K comparable](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
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
func (b *batch) applyEvent(ev postgres.IncomingEvent, recorded map[postgres.EventKey][32]byte) error {
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
		entries = make([]postgres.LedgerEntry, 0, len(pl.Schemes))
		for _, s := range pl.Schemes {
			w := b.resolve(e, s)
			v, err := b.e.cfg.Catalog.PlanVersion(s.SchemeID, w.planID, e.OccurredAt)
			if err != nil {
				return gateway.Invalid("occurred_at", "no_plan_version", gateway.ErrorMessage(err))
			}
			own := v.PeriodOf(e.OccurredAt).Key
			k := postgres.WorkerPeriodKey{WorkerID: w.id, PlatformID: e.PlatformID, SchemeID: s.SchemeID, PlanID: w.planID, Period: own}
			d, after, err := v.Deduct(&e, b.state(k))
			if err != nil {
				return err
			}
			states.set(k, after)
			en := b.entry(ev, v, d, k.WorkerID, own)
			en.Registered = w.registered
			entries = append(entries, en)
		}
		b.entries[key(e)] = entries
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
