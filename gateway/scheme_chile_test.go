package gateway

import "testing"

// Worked examples for Chile: the platform withholds a percentage of each fee
// receipt, by year: 14.5% in 2025, 15.25% in 2026, 16% in 2027, 17% in 2028.
func TestSchemeChileWithholding(t *testing.T) {
	c := mustCatalog(t)
	runExamples(t, c, "cl-honorarios", []ex{
		{name: "2025 at 14.5%", events: []exEvent{
			{at: "2025-06-05 12:00", gross: "100000", w: "14500", period: "2025"},
		}},
		{name: "2026 at 15.25%", events: []exEvent{
			{at: "2026-06-05 12:00", gross: "100000", w: "15250", period: "2026"},
		}},
		{name: "new year in Santiago (summer time, UTC-3)", events: []exEvent{
			{at: "2026-01-01T02:59:59Z", gross: "100000", w: "14500", period: "2025"},
			{at: "2026-01-01T03:00:00Z", gross: "100000", w: "15250", period: "2026"},
		}},
		{name: "half a peso rounds up", events: []exEvent{
			{at: "2025-06-05 12:00", gross: "100", w: "15"}, // 14.5
			{at: "2025-06-05 12:01", gross: "10", w: "1"},   // 1.45
		}},
		{name: "2026 ties", events: []exEvent{
			{at: "2026-06-05 12:00", gross: "200", w: "31"}, // 30.5
			{at: "2026-06-05 12:01", gross: "20", w: "3"},   // 3.05
			{at: "2026-06-05 12:02", gross: "2", w: ""},     // 0.305
		}},
		{name: "reversal", events: []exEvent{
			{id: "a", at: "2026-06-05 12:00", gross: "100000", w: "15250"},
			{at: "2026-06-06 12:00", reverses: "a", w: "-15250", flags: FlagReversal},
		}, closes: []exClose{{}}},
		{name: "2027 and 2028", events: []exEvent{
			{at: "2027-06-05 12:00", gross: "100000", w: "16000"},
			{at: "2028-06-05 12:00", gross: "100000", w: "17000"},
			{at: "2031-06-05 12:00", gross: "100000", w: "17000"},
		}},
		{name: "a large receipt", events: []exEvent{
			{at: "2026-06-05 12:00", gross: "123456789", w: "18827160"}, // 18827160.3225
		}},
		{name: "a negative adjustment", events: []exEvent{
			{at: "2026-06-05 12:00", gross: "-200", adjustment: true, w: "-31"},
		}},
		{name: "before the law", events: []exEvent{
			{at: "2024-12-31 23:59", gross: "100000", err: ENOTFOUND},
		}},
		{name: "a reversal in the next year uses the original's rate and period", events: []exEvent{
			{id: "a", at: "2025-12-30 12:00", gross: "100000", w: "14500", period: "2025"},
			{at: "2026-01-02 12:00", reverses: "a", w: "-14500", period: "2025"},
		}},
	})
}

// A rate change inside a period: a per-transaction rule may change on any
// day; each receipt uses the rate in force when it was issued.
func TestSchemeChileMidYearRateChange(t *testing.T) {
	c := variantCatalog(t, "chile-withholding.json",
		`"valid_to": "2026-01-01", "period": "year"`, `"valid_to": "2026-07-01", "period": "year"`,
		`{"version": 2, "valid_from": "2026-01-01"`, `{"version": 2, "valid_from": "2026-07-01"`)
	runExamples(t, c, "cl-honorarios", []ex{
		{name: "one year, two rates, one state", events: []exEvent{
			{at: "2026-06-30 23:59", gross: "100000", w: "14500", period: "2026"},
			{at: "2026-07-01 00:00", gross: "100000", w: "15250", period: "2026"},
		}, closes: []exClose{{}}},
	})
}
