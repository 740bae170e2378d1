package gateway

// compileFixedPeriod checks the fields of a fixed_period rule.
func (c *ruleCompiler) compileFixedPeriod(r *rule, spec RuleSpec) {
	r.amount = c.amount("amount", spec.Amount, true)
	if spec.Amount != "" && r.amount == 0 {
		c.bad("amount", "zero", "amount must be positive")
	}
	r.maxShare = c.rate("max_share_per_earning", spec.MaxSharePerEarning, true)
	if spec.MaxSharePerEarning != "" && (r.maxShare.IsZero() || r.maxShare.Cmp(rateOne) > 0) {
		c.bad("max_share_per_earning", "out_of_range", "max_share_per_earning must be above 0% and at most 100%")
	}
	r.split = c.split(spec.Split, [2]int64{1, 0})
}

// fixedPeriod withholds the next part of the period's fixed amount from an
// earning: what is still due, but no more than the configured share of this
// earning (rounded down, so the share is never exceeded). Earnings with a
// base of zero or less withhold nothing.
func (r *rule) fixedPeriod(d *Deduction, s *PeriodState) (w, p int64, err error) {
	b := d.Base.Amount
	d.Insured.Amount = 0
	if b <= 0 {
		return 0, 0, nil
	}
	limit, _ := mulRate(b, r.maxShare, RoundDown) // ≤ b: cannot overflow
	withheld := s.Worker + s.Platform             // ≤ amount
	due := r.amount - withheld
	if due <= 0 {
		d.Flags |= FlagPeriodAmountReached
		return 0, 0, nil
	}
	t := due
	if limit < due {
		t = limit
		d.Flags |= FlagShareLimited
	}
	if t == due {
		d.Flags |= FlagPeriodAmountReached
	}
	// Split the running total rather than each part, so the worker's and
	// the platform's period shares do not depend on how it was reached.
	tw, tp := split2(withheld+t, r.split)
	return tw - s.Worker, tp - s.Platform, nil
}
