package gateway

import (
	"sort"
	"time"
)

// SimulateOptions tune a plan simulation.
type SimulateOptions struct {
	// Combine evaluates combinable thresholds on each worker's earnings from
	// all platforms, as if every worker had applied to combine.
	Combine bool
	// SelectedPlan is the plan every worker is assumed to have selected, for
	// period-target checks; empty skips them.
	SelectedPlan string
}

// Simulation is what a plan would have collected from a set of events.
type Simulation struct {
	Totals   []PeriodTotals // by platform, then period
	Rejected []Rejection    // events the plan could not take, in input order
}

// PeriodTotals adds up one platform's period after close.
type PeriodTotals struct {
	PlatformID              string
	Period                  string
	Events                  int64
	Workers                 int
	WorkersMeetingThreshold int   // workers whose period met the threshold (all of them when the rule has none)
	Base                    Money // contribution base (payouts, for a levy)
	Worker                  Money // worker shares, after close adjustments
	Platform                Money // platform shares, after close adjustments
	Total                   Money
	Adjustments             Money // the part of Total that came from close adjustments
	Shortfalls              int   // shortfall notices
}

// Rejection is an event a simulation could not take, with the reason.
type Rejection struct {
	EventID string
	Err     error
}

// Simulate replays events, in the order given, through plan p (an existing
// plan or a proposed one loaded from a pack) and closes every period, so an
// insurer can see what a plan or a rate change would collect before adopting
// it. Reversals must follow their originals in events. Nothing is stored.
func Simulate(p *Plan, events []Earning, opt SimulateOptions) (Simulation, error) {
	type key struct{ platform, worker, period string }
	type entry struct {
		state PeriodState
		v     *PlanVersion
	}
	states := map[key]*entry{}
	deds := map[[2]string]Deduction{} // platform, event id
	occurred := map[[2]string]time.Time{}
	var sim Simulation
	reject := func(e *Earning, err error) {
		sim.Rejected = append(sim.Rejected, Rejection{EventID: e.EventID, Err: err})
	}
	worker := func(e *Earning) string {
		if e.WorkerKey != "" {
			return e.WorkerKey
		}
		return e.PlatformID + "/" + e.WorkerRef
	}
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil {
			reject(e, err)
			continue
		}
		var v *PlanVersion
		var err error
		if e.Kind == KindReversal {
			id := [2]string{e.PlatformID, e.Reverses}
			orig, ok := deds[id]
			if !ok {
				reject(e, Invalid("reverses", "not_found", "the original event "+quote(e.Reverses)+" was not simulated"))
				continue
			}
			if v, err = p.VersionAt(occurred[id]); err != nil {
				reject(e, err)
				continue
			}
			en := states[key{e.PlatformID, worker(e), orig.Period}]
			if en == nil {
				reject(e, Invalid("worker_ref", "mismatch", "the reversal names another worker than the original"))
				continue
			}
			_, after, err := v.Reverse(e, &orig, en.state)
			if err != nil {
				reject(e, err)
				continue
			}
			en.state = after
			delete(deds, id)
			continue
		}
		if v, err = p.VersionAt(e.OccurredAt); err != nil {
			reject(e, err)
			continue
		}
		k := key{e.PlatformID, worker(e), v.periodKey(e.OccurredAt)}
		en := states[k]
		if en == nil {
			en = &entry{}
			states[k] = en
		}
		d, after, err := v.Deduct(e, en.state)
		if err != nil {
			reject(e, err)
			continue
		}
		en.state, en.v = after, v
		id := [2]string{e.PlatformID, e.EventID}
		deds[id], occurred[id] = d, e.OccurredAt
	}

	// Combined bases per worker and period, across platforms.
	combined := map[[2]string]int64{}
	for k, en := range states {
		combined[[2]string{k.worker, k.period}] += en.state.Base
	}
	totals := map[[2]string]*PeriodTotals{}
	for k, en := range states {
		if en.v == nil {
			continue
		}
		v := en.v
		if per, err := v.ParsePeriod(k.period); err == nil {
			if last, err := p.VersionAt(per.End.Add(-time.Nanosecond)); err == nil {
				v = last
			}
		}
		in := CloseInput{PlatformID: k.platform, SelectedPlan: opt.SelectedPlan}
		if opt.Combine && v.rule.combinable {
			in.Combine, in.CombinedBase = true, Money{Amount: combined[[2]string{k.worker, k.period}], Currency: v.Currency}
		}
		st, err := v.Close(en.state, in)
		if err != nil {
			return Simulation{}, err
		}
		tk := [2]string{k.platform, k.period}
		t := totals[tk]
		if t == nil {
			z := Money{Currency: v.Currency}
			t = &PeriodTotals{PlatformID: k.platform, Period: k.period, Base: z, Worker: z, Platform: z, Total: z, Adjustments: z}
			totals[tk] = t
		}
		s := st.State
		t.Workers++
		if st.ThresholdMet {
			t.WorkersMeetingThreshold++
		}
		ok := true
		add := func(dst *int64, xs ...int64) {
			for _, x := range xs {
				var fine bool
				if *dst, fine = addInt64(*dst, x); !fine {
					ok = false
				}
			}
		}
		add(&t.Events, s.Events)
		add(&t.Base.Amount, s.Base)
		add(&t.Worker.Amount, s.Worker, s.SettledWorker)
		add(&t.Platform.Amount, s.Platform, s.SettledPlatform)
		add(&t.Adjustments.Amount, s.SettledWorker, s.SettledPlatform)
		if !ok {
			return Simulation{}, Errorf(EINVALID, "simulation: totals for %s %s overflow", k.platform, k.period)
		}
		for _, n := range st.Notices {
			if n.Kind == NoticeShortfall {
				t.Shortfalls++
			}
		}
	}
	for _, t := range totals {
		var ok bool
		if t.Total.Amount, ok = addInt64(t.Worker.Amount, t.Platform.Amount); !ok {
			return Simulation{}, Errorf(EINVALID, "simulation: totals for %s %s overflow", t.PlatformID, t.Period)
		}
		sim.Totals = append(sim.Totals, *t)
	}
	sort.Slice(sim.Totals, func(i, j int) bool {
		a, b := sim.Totals[i], sim.Totals[j]
		if a.PlatformID != b.PlatformID {
			return a.PlatformID < b.PlatformID
		}
		return a.Period < b.Period
	})
	return sim, nil
}
