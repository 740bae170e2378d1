package gateway

// compilePerOrder checks the fields of a per_order rule.
func (c *ruleCompiler) compilePerOrder(r *rule, spec RuleSpec) {
	if len(spec.Fees) == 0 {
		c.bad("fees", "required", "a per_order rule needs a fee table")
	}
	seen := map[[3]string]bool{}
	for i, row := range spec.Fees {
		f := "fees[" + itoa(i) + "]"
		fee := c.amount(f+".fee", row.Fee, true)
		k := [3]string{wild(row.Sector), wild(row.Vehicle), wild(row.Region)}
		if seen[k] {
			c.bad(f, "duplicate", "another row has the same sector, vehicle and region")
		}
		seen[k] = true
		r.fees = append(r.fees, feeRow{sector: row.Sector, vehicle: row.Vehicle, region: row.Region, fee: fee})
	}
	if spec.Regions != nil {
		r.regions = make(map[string]bool, len(spec.Regions))
		for i, reg := range spec.Regions {
			if reg == "" || r.regions[reg] {
				c.bad("regions["+itoa(i)+"]", "duplicate", "region codes must be non-empty and unique")
			}
			r.regions[reg] = true
		}
		for i, row := range spec.Fees {
			if w := wild(row.Region); w != "" && !r.regions[w] {
				c.bad("fees["+itoa(i)+"].region", "unknown_region", "region "+quote(row.Region)+" is not in regions")
			}
		}
	}
	r.split = c.split(spec.Split, [2]int64{0, 1})
	if m := spec.Multipliers; m != nil {
		lo := c.rate("multipliers.min", m.Min, true)
		hi := c.rate("multipliers.max", m.Max, true)
		step := c.rate("multipliers.step", m.Step, false)
		if lo.Cmp(hi) > 0 {
			c.bad("multipliers.min", "above_max", "multipliers.min is above multipliers.max")
		}
		r.multipliers = make(map[string]Rate, len(m.Platforms))
		for _, id := range sortedKeys(m.Platforms) {
			f := "multipliers.platforms." + id
			x := c.rate(f, m.Platforms[id], true)
			if x.Cmp(lo) < 0 || x.Cmp(hi) > 0 {
				c.bad(f, "out_of_range", "multiplier "+x.String()+" is outside "+lo.String()+" to "+hi.String())
			}
			if !step.IsZero() && !isMultiple(x, step) {
				c.bad(f, "off_step", "multiplier "+x.String()+" is not a multiple of "+step.String())
			}
			r.multipliers[id] = x
		}
	}
}

// isMultiple reports whether x is an integer multiple of step.
func isMultiple(x, step Rate) bool {
	// x/step = (x.num·step.den)/(x.den·step.num)
	n, ok1 := mulInt64(x.num, step.Den())
	d, ok2 := mulInt64(x.Den(), step.num)
	return ok1 && ok2 && d != 0 && n%d == 0
}

// perOrder computes a per_order rule's shares for event e.
func (r *rule) perOrder(e *Earning, d *Deduction, s *PeriodState) (w, p int64, err error) {
	if r.regions != nil && !r.regions[e.Region] {
		return 0, 0, Invalid("region", "unknown_region", "region "+quote(e.Region)+" is not covered by the plan")
	}
	fee, ok := r.feeFor(e.Category, e.Region)
	if !ok {
		return 0, 0, Invalid("category", "no_fee", "no fee for sector "+quote(e.Category.Sector)+", vehicle "+quote(e.Category.Vehicle)+" in region "+quote(e.Region))
	}
	units, ok1 := mulInt64(fee, d.Orders)
	total, ok2 := addInt64(s.Units, units)
	if !ok1 || !ok2 {
		return 0, 0, errOverflow(e)
	}
	s.Units, d.Units = total, units
	m := rateOne
	if x, found := r.multipliers[e.PlatformID]; found {
		m = x
	}
	if r.period {
		t, ok := mulRate(total, m, r.mode)
		if !ok {
			return 0, 0, errOverflow(e)
		}
		tw, tp := split2(t, r.split)
		return tw - s.Worker, tp - s.Platform, nil
	}
	t, ok3 := mulRate(units, m, r.mode)
	if !ok3 {
		return 0, 0, errOverflow(e)
	}
	w, p = split2(t, r.split)
	return w, p, nil
}

// feeFor returns the fee per order for a category and region: the most
// specific matching row, the first on a tie.
func (r *rule) feeFor(c Category, region string) (int64, bool) {
	best, bestScore := -1, -1
	for i := range r.fees {
		row := &r.fees[i]
		score := 0
		if matches(row.sector, c.Sector, &score) && matches(row.vehicle, c.Vehicle, &score) &&
			matches(row.region, region, &score) && score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return 0, false
	}
	return r.fees[best].fee, true
}
