package gateway

// compileLevy checks the fields of a turnover_levy rule.
func (c *ruleCompiler) compileLevy(r *rule, spec RuleSpec) {
	r.turnoverRate = c.rate("turnover_rate", spec.TurnoverRate, true)
	r.payoutCapRate = c.rate("payout_cap_rate", spec.PayoutCapRate, false)
	if r.turnoverRate.Cmp(rateOne) > 0 || r.payoutCapRate.Cmp(rateOne) > 0 {
		c.bad("turnover_rate", "too_large", "levy rates cannot exceed 100%")
	}
	r.split = [2]int64{0, 1}
}

// Levy is an entity-level levy for one platform and period: a percentage of
// its turnover, capped at a percentage of what it paid or owes its workers.
type Levy struct {
	SchemeID   string
	PlanID     string
	Version    int
	Period     string
	Turnover   Money // the platform's turnover in the period, taxes excluded
	Payouts    Money // paid or owed to workers in the period, through associates and third parties too
	ByTurnover Money // Turnover × turnover rate
	Cap        Money // Payouts × payout cap rate; zero when the rule has no cap
	Amount     Money // the levy: ByTurnover, or Cap when that is lower
	Capped     bool
}

// Levy computes a turnover_levy rule at period close. The caller supplies the
// platform's turnover (which earnings events do not carry) and its payouts,
// usually the sum of the Base of its workers' period states.
func (v *PlanVersion) Levy(period string, turnover, payouts Money) (Levy, error) {
	if v.rule.kind != RuleTurnoverLevy {
		return Levy{}, Invalid("plan", "not_a_levy", "plan "+v.SchemeID+"/"+v.PlanID+" is a "+string(v.rule.kind)+" rule, not a turnover levy")
	}
	if _, err := v.ParsePeriod(period); err != nil {
		return Levy{}, err
	}
	for _, x := range [...]struct {
		field string
		m     Money
	}{{"turnover", turnover}, {"payouts", payouts}} {
		switch {
		case x.m.Currency != v.Currency:
			return Levy{}, Invalid(x.field, "currency_mismatch", x.field+" must be in "+string(v.Currency))
		case x.m.Amount < 0:
			return Levy{}, Invalid(x.field, "negative", x.field+" cannot be negative")
		}
	}
	l := Levy{SchemeID: v.SchemeID, PlanID: v.PlanID, Version: v.Version, Period: period, Turnover: turnover, Payouts: payouts}
	var err error
	if l.ByTurnover, err = ApplyRate(turnover, v.rule.turnoverRate, v.rule.mode); err != nil {
		return Levy{}, err
	}
	l.Amount = l.ByTurnover
	l.Cap = Money{Currency: v.Currency}
	if !v.rule.payoutCapRate.IsZero() {
		if l.Cap, err = ApplyRate(payouts, v.rule.payoutCapRate, v.rule.mode); err != nil {
			return Levy{}, err
		}
		if l.Cap.Amount < l.Amount.Amount {
			l.Amount, l.Capped = l.Cap, true
		}
	}
	return l, nil
}
