package gateway

import (
	"strings"
)

// Deduction is what a plan version takes for one event: the worker share
// (withheld from the worker's earnings), the platform share (paid by the
// platform on top), their total, and the event's effect on the worker's
// period totals, which a reversal undoes exactly.
type Deduction struct {
	EventID  string
	Reverses string // for a reversal: the original event id
	SchemeID string
	PlanID   string
	Version  int
	Period   string // period key, "2026-10"
	Kind     RuleKind

	Worker   Money
	Platform Money
	Total    Money // Worker + Platform

	// The event's effect on the period state.
	Gross   Money // gross amount counted
	Base    Money // contribution base: gross minus the rule's exclusions
	Insured Money // change in the period's insured earnings (the base within the ceiling)
	Orders  int64 // orders counted, negative for a negative adjustment
	Units   int64 // per-order rules: fee × orders before the multiplier, in minor units

	Flags Flags
}

// Flags explain a deduction.
type Flags uint16

// Deduction flags.
const (
	// FlagProvisional: the period's earnings are still below the threshold;
	// the deduction is refunded at close unless the threshold is met.
	FlagProvisional Flags = 1 << iota
	// FlagCapped: limited by a per-transaction maximum or cap table.
	FlagCapped
	// FlagFloored: raised to the per-transaction minimum.
	FlagFloored
	// FlagCeiling: part of the base lies above the period's ceiling.
	FlagCeiling
	// FlagShareLimited: limited to the configured share of this earning.
	FlagShareLimited
	// FlagPeriodAmountReached: the period's fixed amount is now fully withheld.
	FlagPeriodAmountReached
	// FlagBaseLimited: the worker share was limited to the event's base.
	FlagBaseLimited
	// FlagAtClose: nothing is due per event; the amount is computed at close.
	FlagAtClose
	// FlagReversal: the deduction reverses an earlier one.
	FlagReversal
)

var flagNames = [...]string{"provisional", "capped", "floored", "ceiling", "share_limited",
	"period_amount_reached", "base_limited", "at_close", "reversal"}

// Has reports whether every flag in x is set.
func (f Flags) Has(x Flags) bool { return f&x == x }

// Names returns the set flags' names in a fixed order.
func (f Flags) Names() []string {
	var n []string
	for i, name := range flagNames {
		if f&(1<<i) != 0 {
			n = append(n, name)
		}
	}
	return n
}

// String returns the names joined by "|", or "" for none.
func (f Flags) String() string { return strings.Join(f.Names(), "|") }

// PeriodState is a worker's running totals for one platform, plan and period
// before or after an event. The zero PeriodState is the state before the
// first event of a period. All amounts are minor units of Currency.
type PeriodState struct {
	Period   string // period key; "" before the first event
	Currency Currency
	Events   int64 // events counted: earnings and adjustments minus reversals
	Gross    int64
	Base     int64 // contribution base
	Insured  int64 // insured earnings: the base within the period ceiling
	Orders   int64
	Units    int64 // per-order rules: fee × orders before the multiplier
	Worker   int64 // worker share deducted by events
	Platform int64 // platform share charged by events

	// Adjustments issued by Close, added up; a later Close issues only what
	// is still missing.
	SettledWorker   int64
	SettledPlatform int64
}

// Plus returns s with sign × o's running totals added: the totals of a
// worker's rows on several platforms (sign 1), or one row's share of them
// (sign -1). The settled amounts are each row's own and stay s's; the
// period and currency are s's, or o's when s has none.
func (s PeriodState) Plus(o PeriodState, sign int64) PeriodState {
	if s.Currency == "" {
		s.Period, s.Currency = o.Period, o.Currency
	}
	s.Events += sign * o.Events
	s.Gross += sign * o.Gross
	s.Base += sign * o.Base
	s.Insured += sign * o.Insured
	s.Orders += sign * o.Orders
	s.Units += sign * o.Units
	s.Worker += sign * o.Worker
	s.Platform += sign * o.Platform
	return s
}

// Deduct computes the deduction for an earning or adjustment e, given the
// worker's period state before it, and returns the deduction and the state
// after it. It is a pure, deterministic function: the same version, event
// and state always give the same result, and it does not allocate.
//
// e must be valid (Earning.Validate), in the scheme's currency, and fall in
// the version's validity and in before's period (when before is not empty).
// Reversals go through Reverse.
func (v *PlanVersion) Deduct(e *Earning, before PeriodState) (Deduction, PeriodState, error) {
	if e.Kind == KindReversal {
		return Deduction{}, before, Invalid("kind", "use_reverse", "a reversal is computed from the original deduction with Reverse")
	}
	key, err := v.check(e, &before)
	if err != nil {
		return Deduction{}, before, err
	}
	base, err := e.Base(v.rule.excludes)
	if err != nil {
		return Deduction{}, before, err
	}
	orders := e.Orders
	if e.Gross.Amount < 0 {
		orders = -orders // a negative adjustment takes orders back
	}
	d := Deduction{
		EventID:  e.EventID,
		SchemeID: v.SchemeID,
		PlanID:   v.PlanID,
		Version:  v.Version,
		Period:   key,
		Kind:     v.rule.kind,
		Gross:    e.Gross,
		Base:     base,
		Insured:  Money{Currency: v.Currency},
		Orders:   orders,
	}
	after := before
	after.Period, after.Currency = key, v.Currency
	var c checked
	after.Events = c.add(after.Events, 1)
	after.Gross = c.add(after.Gross, e.Gross.Amount)
	after.Base = c.add(after.Base, base.Amount)
	after.Orders = c.add(after.Orders, orders)
	if c.overflow {
		return Deduction{}, before, v.overflow(e)
	}

	var w, p int64
	switch v.rule.kind {
	case RulePercentage, RuleCappedPercentage:
		w, p, err = v.rule.percentage(e, &d, &after)
	case RulePerOrder:
		w, p, err = v.rule.perOrder(e, &d, &after)
	case RuleFixedPeriod:
		w, p, err = v.rule.fixedPeriod(&d, &after)
	case RuleTurnoverLevy:
		d.Flags |= FlagAtClose
	default:
		err = Errorf(EINTERNAL, "plan %s/%s v%d: rule kind %q not compiled", v.SchemeID, v.PlanID, v.Version, v.rule.kind)
	}
	if err != nil {
		return Deduction{}, before, err
	}
	// Nothing withheld from the worker may exceed the event's base.
	if w > 0 && w > base.Amount {
		w = max(base.Amount, 0)
		d.Flags |= FlagBaseLimited
	} else if w < 0 && w < base.Amount {
		w = min(base.Amount, 0)
		d.Flags |= FlagBaseLimited
	}
	t := c.add(w, p)
	after.Worker = c.add(after.Worker, w)
	after.Platform = c.add(after.Platform, p)
	if c.overflow {
		return Deduction{}, before, v.overflow(e)
	}
	d.Worker = Money{Amount: w, Currency: v.Currency}
	d.Platform = Money{Amount: p, Currency: v.Currency}
	d.Total = Money{Amount: t, Currency: v.Currency}
	return d, after, nil
}

// Reverse computes the deduction for reversal e of the event whose deduction
// was orig, given the period state of orig's period before the reversal. The
// result is the exact negative of orig, and every period total orig changed
// is changed back by the same amount: reversing the latest event restores the
// state before it exactly.
func (v *PlanVersion) Reverse(e *Earning, orig *Deduction, before PeriodState) (Deduction, PeriodState, error) {
	switch {
	case e.Kind != KindReversal:
		return Deduction{}, before, Invalid("kind", "not_reversal", "Reverse takes a reversal event")
	case e.Reverses != orig.EventID:
		return Deduction{}, before, Invalid("reverses", "mismatch", "the reversal names event "+quote(e.Reverses)+", the deduction given is for "+quote(orig.EventID))
	case orig.Flags.Has(FlagReversal):
		return Deduction{}, before, Invalid("reverses", "reversal", "a reversal cannot itself be reversed")
	case orig.SchemeID != v.SchemeID || orig.PlanID != v.PlanID || orig.Version != v.Version:
		return Deduction{}, before, Invalid("reverses", "plan_mismatch", "reverse with the plan version the original used")
	case before.Period != "" && before.Period != orig.Period:
		return Deduction{}, before, Invalid("reverses", "period_mismatch", "the state is for period "+before.Period+", the original is in "+orig.Period)
	case before.Currency != "" && before.Currency != v.Currency:
		return Deduction{}, before, Invalid("reverses", "currency_mismatch", "the state is in "+string(before.Currency))
	}
	d := *orig
	d.EventID = e.EventID
	d.Reverses = orig.EventID
	d.Flags = orig.Flags | FlagReversal
	var c checked
	d.Worker, d.Platform, d.Total = c.neg(orig.Worker), c.neg(orig.Platform), c.neg(orig.Total)
	d.Gross, d.Base, d.Insured = c.neg(orig.Gross), c.neg(orig.Base), c.neg(orig.Insured)
	d.Orders, d.Units = c.sub(0, orig.Orders), c.sub(0, orig.Units)

	after := before
	after.Period, after.Currency = orig.Period, v.Currency
	after.Events = c.sub(after.Events, 1)
	after.Gross = c.sub(after.Gross, orig.Gross.Amount)
	after.Base = c.sub(after.Base, orig.Base.Amount)
	after.Insured = c.sub(after.Insured, orig.Insured.Amount)
	after.Orders = c.sub(after.Orders, orig.Orders)
	after.Units = c.sub(after.Units, orig.Units)
	after.Worker = c.sub(after.Worker, orig.Worker.Amount)
	after.Platform = c.sub(after.Platform, orig.Platform.Amount)
	if c.overflow {
		return Deduction{}, before, v.overflow(e)
	}
	if v.rule.period && (v.rule.kind == RulePercentage || v.rule.kind == RuleCappedPercentage) {
		// On a period basis insured earnings are a function of the base:
		// recompute them rather than subtract, so a reversal of an event
		// that met the ceiling leaves the same figure as if it never came.
		ins := v.rule.insured(after.Base)
		d.Insured = Money{Amount: ins - before.Insured, Currency: v.Currency}
		after.Insured = ins
	}
	if after.Events == 0 && before.Events == 1 && after == (PeriodState{Period: after.Period, Currency: after.Currency}) {
		// The period's only event is undone: back to the empty state.
		after = PeriodState{}
	}
	return d, after, nil
}

// check validates e against the version and the state and returns the
// event's period key.
func (v *PlanVersion) check(e *Earning, before *PeriodState) (string, error) {
	if e.Gross.Currency != v.Currency {
		return "", Invalid("gross.currency", "currency_mismatch", "plan "+v.SchemeID+"/"+v.PlanID+" is in "+string(v.Currency)+", the event in "+string(e.Gross.Currency))
	}
	if !v.Covers(e.OccurredAt) {
		return "", Invalid("occurred_at", "out_of_validity", "plan "+v.SchemeID+"/"+v.PlanID+" version "+itoa(v.Version)+" is not in force at "+e.OccurredAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	key := v.periodKey(e.OccurredAt)
	if before.Period != "" && before.Period != key {
		return "", Invalid("occurred_at", "period_mismatch", "the state is for period "+before.Period+", the event falls in "+key)
	}
	if before.Currency != "" && before.Currency != v.Currency {
		return "", Invalid("gross.currency", "currency_mismatch", "the state is in "+string(before.Currency))
	}
	return key, nil
}

func (v *PlanVersion) overflow(e *Earning) error {
	return Errorf(EINVALID, "event %s: amounts overflow plan %s/%s period totals", e.EventID, v.SchemeID, v.PlanID)
}

// checked does int64 arithmetic and remembers whether any step overflowed.
type checked struct{ overflow bool }

func (c *checked) add(a, b int64) int64 {
	r, ok := addInt64(a, b)
	c.overflow = c.overflow || !ok
	return r
}

func (c *checked) sub(a, b int64) int64 {
	r, ok := subInt64(a, b)
	c.overflow = c.overflow || !ok
	return r
}

func (c *checked) neg(m Money) Money {
	return Money{Amount: c.sub(0, m.Amount), Currency: m.Currency}
}
