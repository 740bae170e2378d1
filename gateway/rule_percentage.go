package gateway

// compilePercentage checks the fields of a percentage or capped_percentage
// rule.
func (c *ruleCompiler) compilePercentage(r *rule, spec RuleSpec) {
	r.workerRate = c.rate("worker_rate", spec.WorkerRate, false)
	r.platformRate = c.rate("platform_rate", spec.PlatformRate, false)
	if spec.WorkerRate == "" && spec.PlatformRate == "" {
		c.bad("worker_rate", "required", "a percentage rule needs worker_rate, platform_rate or both")
	}
	if r.workerRate.Cmp(rateOne) > 0 {
		c.bad("worker_rate", "too_large", "worker_rate cannot exceed 100%: nothing withheld may exceed the earnings")
	}
	if r.platformRate.Cmp(rateOne) > 0 {
		c.bad("platform_rate", "too_large", "platform_rate cannot exceed 100%")
	}
	w, ok := rateWeights(r.workerRate, r.platformRate)
	if !ok {
		c.bad("worker_rate", "overflow", "worker_rate and platform_rate have denominators too large to split a capped amount exactly")
	}
	r.split = w
	r.minTx = c.amount("min_per_transaction", spec.MinPerTransaction, false)
	r.maxTx = c.amount("max_per_transaction", spec.MaxPerTransaction, false)
	if r.minTx > 0 && r.maxTx > 0 && r.minTx > r.maxTx {
		c.bad("min_per_transaction", "above_max", "min_per_transaction is above max_per_transaction")
	}
	r.ceiling = c.amount("ceiling_per_period", spec.CeilingPerPeriod, false)
	if spec.CeilingPerPeriod != "" && r.ceiling == 0 {
		c.bad("ceiling_per_period", "zero", "ceiling_per_period must be positive")
	}
	if t := spec.Threshold; t != nil {
		r.threshold = c.amount("threshold.amount", t.Amount, true)
		r.combinable = t.Combinable
		if t.Amount != "" && r.threshold == 0 {
			c.bad("threshold.amount", "zero", "threshold.amount must be positive")
		}
	}
	if t := spec.PeriodTarget; t != nil {
		if len(t.Amounts) == 0 {
			c.bad("period_target.amounts", "required", "period_target.amounts lists the amount per selected plan")
		}
		r.targets = make(map[string]int64, len(t.Amounts))
		r.selectedIn = t.SelectedIn
		for _, k := range sortedKeys(t.Amounts) {
			r.targets[k] = c.amount("period_target.amounts."+k, t.Amounts[k], true)
		}
		switch t.Excess {
		case "", "notify":
		case "refund":
			r.refundExcess = true
		default:
			c.bad("period_target.excess", "unknown_excess", "excess "+quote(t.Excess)+" is not notify or refund")
		}
	}
	if r.period && (r.minTx > 0 || r.maxTx > 0 || spec.Caps != nil) {
		c.bad("basis", "per_transaction_limits", "per-transaction minimum, maximum and caps need basis transaction")
	}
	if spec.Kind == RuleCappedPercentage {
		c.compileCaps(r, spec)
	}
}

// percentage computes a percentage or capped_percentage rule's shares for
// event e. s holds the period state with the event's base already added.
func (r *rule) percentage(e *Earning, d *Deduction, s *PeriodState) (w, p int64, err error) {
	b := d.Base.Amount
	newIns := r.insured(s.Base)
	dIns, ok := subInt64(newIns, s.Insured)
	if !ok {
		return 0, 0, errOverflow(e)
	}
	if dIns != b {
		d.Flags |= FlagCeiling
	}
	s.Insured = newIns
	d.Insured.Amount = dIns
	if r.threshold > 0 && s.Base < r.threshold {
		d.Flags |= FlagProvisional
	}

	if r.period {
		// Charge the difference between the contribution on the period's
		// insured earnings and what has been charged already.
		tw, ok1 := mulRate(newIns, r.workerRate, r.mode)
		tp, ok2 := mulRate(newIns, r.platformRate, r.mode)
		w, ok3 := subInt64(tw, s.Worker)
		p, ok4 := subInt64(tp, s.Platform)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return 0, 0, errOverflow(e)
		}
		return w, p, nil
	}

	w, ok1 := mulRate(dIns, r.workerRate, r.mode)
	p, ok2 := mulRate(dIns, r.platformRate, r.mode)
	t, ok3 := addInt64(w, p)
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, errOverflow(e)
	}
	limit := r.maxTx
	if r.kind == RuleCappedPercentage {
		c, found := r.capFor(e.Category)
		switch {
		case found:
			limit = c
		case limit == 0:
			return 0, 0, Invalid("category", "no_cap", "no cap for sector "+quote(e.Category.Sector)+" and vehicle "+quote(e.Category.Vehicle))
		}
	}
	mag, neg := t, dIns < 0
	if neg {
		mag = -mag // t comes from two rates ≤ 100% of dIns, so it is far from math.MinInt64
	}
	switch {
	case limit > 0 && mag > limit:
		mag = limit
		d.Flags |= FlagCapped
	case r.minTx > 0 && dIns != 0 && mag < r.minTx:
		// Raise to the minimum, but never beyond the event's insured base.
		absIns := dIns
		if absIns < 0 {
			absIns = -absIns
		}
		if m := min(r.minTx, absIns); m > mag {
			mag = m
			d.Flags |= FlagFloored
		} else {
			return w, p, nil
		}
	default:
		return w, p, nil
	}
	if neg {
		mag = -mag
	}
	w, p = split2(mag, r.split)
	return w, p, nil
}

// insured returns the part of a period's base that counts as insured
// earnings: all of it, or at most the ceiling.
func (r *rule) insured(base int64) int64 {
	if r.ceiling > 0 && base > r.ceiling {
		return r.ceiling
	}
	return base
}

// split2 divides total between worker and platform by weights, exactly.
func split2(total int64, weights [2]int64) (w, p int64) {
	var dst [2]int64
	_ = allocateInto(dst[:], total, weights[:]) // weights are checked at load
	return dst[0], dst[1]
}

func errOverflow(e *Earning) error {
	return Errorf(EINVALID, "event %s: amounts overflow", e.EventID)
}
