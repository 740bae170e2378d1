package crash

import (
	"fmt"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// reference is what the ledger must hold after the stream, computed from the
// message list with the plan engine alone: no database, no Kafka, no engine
// package.
type reference struct {
	messages   int
	accepted   int // events recorded: first occurrences
	duplicates int // redeliveries, dropped
	reversals  int // accepted reversals
	// conflicts counts the conflicting messages of each event id: each must be
	// rejected with code "conflict".
	conflicts map[postgres.EventKey]int
	events    map[postgres.EventKey]refEntry // the one ledger entry of each accepted event
	totals    map[totalKey]total
	states    map[postgres.WorkerPeriodKey]gateway.PeriodState
	// platforms lists the platforms with a state of each worker's scheme,
	// plan and period (a key without PlatformID).
	platforms map[postgres.WorkerPeriodKey][]string
	// history lists each worker's messages in production order, to explain
	// a difference.
	history map[string][]string
}

// refEntry is the ledger entry an accepted event must have.
type refEntry struct {
	Kind             string
	WorkerID, Period string
	Worker, Platform int64
}

// totalKey groups ledger entries by worker, platform and period.
type totalKey struct{ WorkerID, PlatformID, Period string }

// total adds up a group's entries.
type total struct{ Entries, Worker, Platform int64 }

// computeReference replays the stream in production order, which within one
// worker (one partition key) is the order the engine applies it in.
// Redeliveries are dropped by id, the first content winning; a conflicting
// duplicate is rejected; a reversal undoes its original with the original's
// plan version and period.
func computeReference(catalog *gateway.Catalog, msgs []message) (*reference, error) {
	ref := &reference{
		messages:  len(msgs),
		conflicts: map[postgres.EventKey]int{},
		events:    map[postgres.EventKey]refEntry{},
		totals:    map[totalKey]total{},
		states:    map[postgres.WorkerPeriodKey]gateway.PeriodState{},
		platforms: map[postgres.WorkerPeriodKey][]string{},
		history:   map[string][]string{},
	}
	byID := map[string]postgres.Platform{}
	for _, p := range platforms {
		byID[p.ID] = p.Platform
	}
	type applied struct {
		d   gateway.Deduction
		v   *gateway.PlanVersion
		key postgres.WorkerPeriodKey
	}
	seen := map[postgres.EventKey][32]byte{}
	deductions := map[postgres.EventKey]applied{}
	reversed := map[postgres.EventKey]bool{}
	add := func(k postgres.EventKey, kind string, key postgres.WorkerPeriodKey, d gateway.Deduction) {
		ref.events[k] = refEntry{Kind: kind, WorkerID: key.WorkerID, Period: key.Period, Worker: d.Worker.Amount, Platform: d.Platform.Amount}
		tk := totalKey{key.WorkerID, key.PlatformID, key.Period}
		t := ref.totals[tk]
		t.Entries++
		t.Worker += d.Worker.Amount
		t.Platform += d.Platform.Amount
		ref.totals[tk] = t
	}
	for i, m := range msgs {
		ev, err := feed.Decode(m.value)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		k := postgres.EventKey{PlatformID: ev.PlatformID, EventID: ev.EventID}
		h := feed.Hash(ev)
		if first, ok := seen[k]; ok {
			if first == h {
				ref.duplicates++
				ref.note(ev, "message %d: %s/%s redelivered", i, ev.PlatformID, ev.EventID)
			} else {
				ref.conflicts[k]++
				ref.note(ev, "message %d: %s/%s conflicting", i, ev.PlatformID, ev.EventID)
			}
			continue
		}
		seen[k] = h
		if ev.Kind == gateway.KindReversal {
			orig := postgres.EventKey{PlatformID: ev.PlatformID, EventID: ev.Reverses}
			o, ok := deductions[orig]
			if !ok || reversed[orig] {
				return nil, fmt.Errorf("message %d: reversal %s of %s, unknown or reversed: the generator must not make these", i, ev.EventID, ev.Reverses)
			}
			d, after, err := o.v.Reverse(&ev, &o.d, ref.states[o.key])
			if err != nil {
				return nil, fmt.Errorf("message %d: reverse %s: %w", i, ev.Reverses, err)
			}
			ref.states[o.key] = after
			reversed[orig] = true
			add(k, postgres.EntryReversal, o.key, d)
			ref.note(ev, "message %d: %s/%s reverses %s in %s: worker %d", i, ev.PlatformID, ev.EventID, ev.Reverses, o.key.Period, d.Worker.Amount)
			ref.accepted++
			ref.reversals++
			continue
		}
		s := byID[ev.PlatformID].Schemes[0]
		v, err := catalog.PlanVersion(s.SchemeID, s.PlanID, ev.OccurredAt)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		key := postgres.WorkerPeriodKey{WorkerID: ev.WorkerKey, PlatformID: ev.PlatformID, SchemeID: s.SchemeID,
			PlanID: s.PlanID, Period: v.PeriodOf(ev.OccurredAt).Key}
		// The plan sees the worker's totals on every platform; the
		// platform's own state takes what the event adds to them.
		others := ref.others(key, v)
		d, after, err := v.Deduct(&ev, ref.states[key].Plus(others, 1))
		if err != nil {
			return nil, fmt.Errorf("message %d: deduct %s: %w", i, ev.EventID, err)
		}
		ref.states[key] = after.Plus(others, -1)
		deductions[k] = applied{d: d, v: v, key: key}
		add(k, postgres.EntryDeduction, key, d)
		ref.note(ev, "message %d: %s/%s in %s at %s gross %d: worker %d", i, ev.PlatformID, ev.EventID, key.Period,
			ev.OccurredAt.UTC().Format("01-02T15:04"), ev.Gross.Amount, d.Worker.Amount)
		ref.accepted++
	}
	return ref, nil
}

// others adds up the worker's states under key's scheme, plan and period
// on the other platforms, for a plan whose totals are the worker's, and
// counts key's platform in.
func (r *reference) others(key postgres.WorkerPeriodKey, v *gateway.PlanVersion) gateway.PeriodState {
	var sum gateway.PeriodState
	if !v.Combined() {
		return sum
	}
	all := key
	all.PlatformID = ""
	own := false
	for _, p := range r.platforms[all] {
		if p == key.PlatformID {
			own = true
			continue
		}
		k := key
		k.PlatformID = p
		sum = sum.Plus(r.states[k], 1)
	}
	if !own {
		r.platforms[all] = append(r.platforms[all], key.PlatformID)
	}
	return sum
}

// conflictMessages is the number of messages that must be rejected.
func (r *reference) conflictMessages() int {
	n := 0
	for _, c := range r.conflicts {
		n += c
	}
	return n
}

func (r *reference) note(ev gateway.Earning, format string, args ...any) {
	r.history[ev.WorkerKey] = append(r.history[ev.WorkerKey], fmt.Sprintf(format, args...))
}
