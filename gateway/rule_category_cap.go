package gateway

// compileCaps checks the cap table of a capped_percentage rule.
func (c *ruleCompiler) compileCaps(r *rule, spec RuleSpec) {
	if len(spec.Caps) == 0 {
		c.bad("caps", "required", "a capped_percentage rule needs a cap table")
	}
	seen := map[[2]string]bool{}
	for i, row := range spec.Caps {
		f := "caps[" + itoa(i) + "]"
		max := c.amount(f+".max", row.Max, true)
		if row.Max != "" && max == 0 {
			c.bad(f+".max", "zero", "a cap must be positive")
		}
		k := [2]string{wild(row.Sector), wild(row.Vehicle)}
		if seen[k] {
			c.bad(f, "duplicate", "another row has the same sector and vehicle")
		}
		seen[k] = true
		r.caps = append(r.caps, capRow{sector: row.Sector, vehicle: row.Vehicle, max: max})
	}
}

// capFor returns the per-transaction cap for category c: the most specific
// matching row, the first on a tie.
func (r *rule) capFor(c Category) (int64, bool) {
	best, bestScore := -1, -1
	for i := range r.caps {
		row := &r.caps[i]
		score := 0
		if matches(row.sector, c.Sector, &score) && matches(row.vehicle, c.Vehicle, &score) && score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return 0, false
	}
	return r.caps[best].max, true
}

// wild normalises a table wildcard: "" and "*" are the same.
func wild(s string) string {
	if s == "*" {
		return ""
	}
	return s
}
