package gateway

import "testing"

// Worked examples for the Karnataka welfare fee: 1% of each payout, tips and
// incentives excluded, paid by the aggregator, capped by service and vehicle.
func TestSchemeKarnatakaWelfareFee(t *testing.T) {
	c := mustCatalog(t)
	runExamples(t, c, "in-ka-welfare", []ex{
		{name: "below the cap, rounded to the paisa", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "37.45", sector: "ride_hailing", vehicle: "2w", p: "0.37", period: "2026-Q1"},
		}},
		{name: "exactly at the cap", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "50.00", sector: "ride_hailing", vehicle: "2w", p: "0.50", not: FlagCapped},
			{at: "2026-03-05 12:01", gross: "50.49", sector: "ride_hailing", vehicle: "2w", p: "0.50", not: FlagCapped}, // 0.5049
		}},
		{name: "above the cap", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "60.00", sector: "ride_hailing", vehicle: "2w", p: "0.50", flags: FlagCapped},
			{at: "2026-03-05 12:01", gross: "90.00", sector: "ride_hailing", vehicle: "3w", p: "0.75", flags: FlagCapped},
			{at: "2026-03-05 12:02", gross: "190.00", sector: "ride_hailing", vehicle: "4w", p: "1.00", flags: FlagCapped},
		}},
		{name: "half a paisa rounds up", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "12.50", sector: "ride_hailing", vehicle: "4w", p: "0.13"},
		}},
		{name: "tips and incentives excluded", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "120.00", tips: "20.00", incentives: "10.00", sector: "ride_hailing", vehicle: "4w", p: "0.90"},
		}},
		{name: "food and grocery: one cap for every vehicle", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "100.00", sector: "food_grocery", vehicle: "2w", p: "0.50", flags: FlagCapped},
			{at: "2026-03-05 12:01", gross: "30.00", sector: "food_grocery", p: "0.30"},
		}},
		{name: "logistics by vehicle", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "200.00", sector: "logistics", vehicle: "hcv", p: "1.50", flags: FlagCapped},
			{at: "2026-03-05 12:01", gross: "200.00", sector: "logistics", vehicle: "lcv", p: "1.00", flags: FlagCapped},
			{at: "2026-03-05 12:02", gross: "40.00", sector: "e_marketplace", vehicle: "3w", p: "0.40"},
		}},
		{name: "professional services", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "80.00", sector: "professional_services", p: "0.80"},
			{at: "2026-03-05 12:01", gross: "200.00", sector: "professional_services", p: "1.50", flags: FlagCapped},
		}},
		{name: "reversal of a capped fee", events: []exEvent{
			{id: "a", at: "2026-03-05 12:00", gross: "100.00", sector: "logistics", vehicle: "3w", p: "0.75", flags: FlagCapped},
			{at: "2026-03-06 12:00", reverses: "a", p: "-0.75", flags: FlagCapped | FlagReversal},
		}, closes: []exClose{{}}},
		{name: "a negative adjustment is capped like a payout", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "-60.00", adjustment: true, sector: "ride_hailing", vehicle: "2w", p: "-0.50", flags: FlagCapped},
		}},
		{name: "quarter boundary in Kolkata", events: []exEvent{
			{at: "2026-03-31T18:29:59Z", gross: "10.00", sector: "food_grocery", p: "0.10", period: "2026-Q1"},
			{at: "2026-03-31T18:30:00Z", gross: "10.00", sector: "food_grocery", p: "0.10", period: "2026-Q2"},
		}},
		{name: "a category without a cap is rejected", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "10.00", sector: "ride_hailing", vehicle: "hcv", err: "no_cap"},
		}},
		{name: "before the Government Order", events: []exEvent{
			{at: "2026-02-12 23:59", gross: "10.00", sector: "food_grocery", err: ENOTFOUND},
		}},
	})
}

// Worked examples for the India Code on Social Security aggregator levy:
// 1% of turnover capped at 5% of payouts, computed at year end.
func TestSchemeIndiaCoSSLevy(t *testing.T) {
	c := mustCatalog(t)
	runExamples(t, c, "in-coss", []ex{
		{name: "events add up payouts and deduct nothing", events: []exEvent{
			{at: "2026-03-05 12:00", gross: "500.00", flags: FlagAtClose, period: "FY2025"},
			{at: "2026-03-06 12:00", gross: "250.00", flags: FlagAtClose},
		}, closes: []exClose{{}}},
		{name: "reversal", events: []exEvent{
			{id: "a", at: "2026-03-05 12:00", gross: "500.00"},
			{at: "2026-03-06 12:00", reverses: "a", flags: FlagAtClose | FlagReversal},
		}},
		{name: "financial year boundary in Kolkata", events: []exEvent{
			{at: "2027-03-31T18:29:59Z", gross: "1.00", period: "FY2026"},
			{at: "2027-03-31T18:30:00Z", gross: "1.00", period: "FY2027"},
			{at: "2026-12-31T18:30:00Z", gross: "1.00", period: "FY2026"},
		}},
	})
	v := mustVersion(t, "in-coss", "aggregator-levy", "2026-06-01T00:00:00Z")
	inr := func(s string) Money { return MustParseMoney("INR", s) }
	tests := []struct {
		name              string
		period            string
		turnover, payouts Money
		want              string
		capped            bool
		code              string
	}{
		{"turnover rate below the cap", "FY2026", inr("10000000.00"), inr("5000000.00"), "100000.00", false, ""},
		{"cap binds", "FY2026", inr("100000000.00"), inr("10000000.00"), "500000.00", true, ""},
		{"exactly at the cap", "FY2026", inr("5000000.00"), inr("1000000.00"), "50000.00", false, ""},
		{"half a paisa rounds up", "FY2026", inr("0.50"), inr("100.00"), "0.01", false, ""},
		{"no payouts, no levy", "FY2026", inr("1000.00"), inr("0"), "0.00", true, ""},
		{"rounding on the cap", "FY2026", inr("1000.00"), inr("0.30"), "0.02", true, ""}, // 0.015 → 0.02 < 10.00
		{"negative turnover", "FY2026", inr("-1.00"), inr("1.00"), "", false, "negative"},
		{"wrong currency", "FY2026", Money{100, "MYR"}, inr("1.00"), "", false, "currency_mismatch"},
		{"a calendar year is not a financial year", "2026", inr("1.00"), inr("1.00"), "", false, "malformed"},
		{"a month is not a year", "2026-10", inr("1.00"), inr("1.00"), "", false, "malformed"},
	}
	for _, tt := range tests {
		l, err := v.Levy(tt.period, tt.turnover, tt.payouts)
		if tt.code != "" {
			if detailCode(err) != tt.code {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
			}
			continue
		}
		if err != nil || l.Amount != inr(tt.want) || l.Capped != tt.capped {
			t.Errorf("%s: %+v, %v; want %s capped %v", tt.name, l, err, tt.want, tt.capped)
		}
	}
	kv := mustVersion(t, "in-ka-welfare", "welfare-fee", "2026-06-01T00:00:00Z")
	if _, err := kv.Levy("2026-Q2", inr("1"), inr("1")); detailCode(err) != "not_a_levy" {
		t.Errorf("levy on a per-transaction plan: %v", err)
	}
}
