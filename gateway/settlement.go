package gateway

// CloseInput is what period close needs beyond the worker's period state.
type CloseInput struct {
	// PlatformID is the platform the state belongs to (per-order rules look
	// up its multiplier).
	PlatformID string
	// Combine says the worker applied to meet the threshold on earnings from
	// all platforms together; CombinedBase is that total (this platform's
	// included). Only rules whose threshold is combinable accept it.
	Combine      bool
	CombinedBase Money
	// SelectedPlan is the plan the worker selected, for a period target
	// check ("1" to "4" for SESS); empty skips the check.
	SelectedPlan string
	// Others are the worker's running totals on the other platforms under
	// the same plan and period, added up, for plans whose totals are the
	// worker's (PlanVersion.Combined): a combinable threshold is evaluated
	// on the earnings of all of them, a period amount or target is checked
	// against what all of them withheld. Lead says this platform carries
	// the worker's notices, so a worker on several platforms is told once.
	Others PeriodState
	Lead   bool
}

// AdjustmentKind says why a period close moves money.
type AdjustmentKind string

// Adjustment kinds.
const (
	// AdjustRefundProvisional refunds provisional deductions: the period's
	// earnings stayed below the threshold.
	AdjustRefundProvisional AdjustmentKind = "refund_provisional"
	// AdjustTrueUp brings what was charged to the contribution on the
	// period's totals (a period-basis rule after reversals, or a threshold
	// met after an earlier close refunded).
	AdjustTrueUp AdjustmentKind = "true_up"
	// AdjustRefundExcess refunds what was withheld beyond the period target.
	AdjustRefundExcess AdjustmentKind = "refund_excess"
)

// Adjustment is a money movement a period close produces: a new entry, never
// an edit of a deduction. Amounts are signed like deductions: negative is a
// refund to the payer.
type Adjustment struct {
	Kind     AdjustmentKind
	Worker   Money
	Platform Money
	Total    Money
}

// NoticeKind says what a worker must be told at period close.
type NoticeKind string

// Notice kinds.
const (
	// NoticeShortfall: less was withheld than the period's amount for the
	// worker's plan; the worker owes Amount directly.
	NoticeShortfall NoticeKind = "shortfall"
	// NoticeExcess: more was withheld than the selected plan's amount; the
	// worker chooses between a refund and a higher plan.
	NoticeExcess NoticeKind = "excess"
)

// Notice is a message a period close asks to send; it moves no money.
type Notice struct {
	Kind     NoticeKind
	Amount   Money // the shortfall or the excess
	Expected Money // the period's amount for the plan
	Withheld Money // what the worker had withheld in the period
}

// Settlement is the result of closing one worker's period for one platform
// and plan version.
type Settlement struct {
	SchemeID string
	PlanID   string
	Version  int
	Period   string

	// Threshold is the rule's minimum earnings (zero when none), Evaluated
	// the earnings it was compared with, ThresholdMet the outcome.
	Threshold    Money
	Evaluated    Money
	ThresholdMet bool

	Adjustments []Adjustment
	Notices     []Notice
	State       PeriodState // s with the adjustments settled
}

// Close settles a worker's period: it applies the rule's period-level checks
// to the state the events left and returns explicit adjustments and notices.
// Call it with the version in force at the end of the period. It is
// idempotent: what earlier closes settled is recorded in the state, so
// closing again after late events issues only the difference.
//
// Turnover levies are computed by Levy, not Close.
func (v *PlanVersion) Close(s PeriodState, in CloseInput) (Settlement, error) {
	r := &v.rule
	st := Settlement{SchemeID: v.SchemeID, PlanID: v.PlanID, Version: v.Version, Period: s.Period,
		Threshold: Money{Amount: r.threshold, Currency: v.Currency}, ThresholdMet: true, State: s}
	if s.Currency != "" && s.Currency != v.Currency {
		return Settlement{}, Invalid("state.currency", "currency_mismatch", "the state is in "+string(s.Currency)+", the plan in "+string(v.Currency))
	}
	if in.Combine && !r.combinable {
		return Settlement{}, Invalid("combine", "not_combinable", "plan "+v.SchemeID+"/"+v.PlanID+" does not combine earnings across platforms")
	}
	if in.Combine && in.CombinedBase.Currency != v.Currency {
		return Settlement{}, Invalid("combined_base", "currency_mismatch", "combined_base must be in "+string(v.Currency))
	}
	netW, ok1 := addInt64(s.Worker, s.SettledWorker)
	netP, ok2 := addInt64(s.Platform, s.SettledPlatform)
	if !ok1 || !ok2 {
		return Settlement{}, Errorf(EINVALID, "period %s: totals overflow", s.Period)
	}
	othersNet, ok := addInt64(in.Others.Worker+in.Others.SettledWorker, in.Others.Platform+in.Others.SettledPlatform)
	if !ok {
		return Settlement{}, Errorf(EINVALID, "period %s: totals overflow", s.Period)
	}
	if !in.Combine && r.combinable && in.Others.Events != 0 {
		in.Combine, in.CombinedBase = true, Money{Amount: s.Base + in.Others.Base, Currency: v.Currency}
	}
	st.Evaluated = Money{Amount: s.Base, Currency: v.Currency}
	if in.Combine {
		st.Evaluated = in.CombinedBase
	}

	// What the worker and platform should have paid for the period.
	wantW, wantP := s.Worker, s.Platform
	kind := AdjustTrueUp
	switch r.kind {
	case RulePercentage, RuleCappedPercentage:
		if r.period {
			var ok1, ok2 bool
			ins := r.insured(s.Base)
			wantW, ok1 = mulRate(ins, r.workerRate, r.mode)
			wantP, ok2 = mulRate(ins, r.platformRate, r.mode)
			if !ok1 || !ok2 {
				return Settlement{}, Errorf(EINVALID, "period %s: totals overflow", s.Period)
			}
		}
		if r.threshold > 0 && st.Evaluated.Amount < r.threshold {
			st.ThresholdMet = false
			wantW, wantP, kind = 0, 0, AdjustRefundProvisional
		}
	case RulePerOrder:
		if r.period {
			m := rateOne
			if x, ok := r.multipliers[in.PlatformID]; ok {
				m = x
			}
			t, ok := mulRate(s.Units, m, r.mode)
			if !ok {
				return Settlement{}, Errorf(EINVALID, "period %s: totals overflow", s.Period)
			}
			wantW, wantP = split2(t, r.split)
		}
	case RuleFixedPeriod:
		// The period amount is the worker's, whichever platforms withheld it.
		notify := s.Events > 0 && (in.Lead || in.Others.Events == 0)
		if due := r.amount - (netW + netP) - othersNet; notify && due > 0 {
			st.Notices = append(st.Notices, Notice{Kind: NoticeShortfall,
				Amount:   Money{Amount: due, Currency: v.Currency},
				Expected: Money{Amount: r.amount, Currency: v.Currency},
				Withheld: Money{Amount: netW + in.Others.Worker + in.Others.SettledWorker, Currency: v.Currency}})
		}
	case RuleTurnoverLevy:
		return st, nil
	}

	// The month-end check against the plan the worker selected, on what
	// every platform withheld. With other platforms, an excess is notified
	// rather than refunded: which platform refunds is the worker's choice.
	if r.targets != nil && in.SelectedPlan != "" && (in.Lead || in.Others.Events == 0) {
		target, ok := r.targets[in.SelectedPlan]
		if !ok {
			return Settlement{}, Invalid("selected_plan", "unknown_plan", "plan "+quote(in.SelectedPlan)+" has no period target")
		}
		exp := Money{Amount: target, Currency: v.Currency}
		all, ok := addInt64(wantW, in.Others.Worker+in.Others.SettledWorker)
		if !ok {
			return Settlement{}, Errorf(EINVALID, "period %s: totals overflow", s.Period)
		}
		switch {
		case all < target:
			st.Notices = append(st.Notices, Notice{Kind: NoticeShortfall, Amount: Money{Amount: target - all, Currency: v.Currency},
				Expected: exp, Withheld: Money{Amount: all, Currency: v.Currency}})
		case all > target && r.refundExcess && in.Others.Events == 0:
			wantW, kind = target, AdjustRefundExcess
		case all > target:
			st.Notices = append(st.Notices, Notice{Kind: NoticeExcess, Amount: Money{Amount: all - target, Currency: v.Currency},
				Expected: exp, Withheld: Money{Amount: all, Currency: v.Currency}})
		}
	}

	// One adjustment brings what was paid to what is due; closing again
	// after it finds nothing left to do.
	if dw, dp := wantW-netW, wantP-netP; dw != 0 || dp != 0 {
		st.Adjustments = append(st.Adjustments, v.adjustment(kind, dw, dp))
		netW, netP = wantW, wantP
	}
	st.State.SettledWorker = netW - s.Worker
	st.State.SettledPlatform = netP - s.Platform
	return st, nil
}

func (v *PlanVersion) adjustment(kind AdjustmentKind, w, p int64) Adjustment {
	return Adjustment{Kind: kind,
		Worker:   Money{Amount: w, Currency: v.Currency},
		Platform: Money{Amount: p, Currency: v.Currency},
		Total:    Money{Amount: w + p, Currency: v.Currency}}
}
