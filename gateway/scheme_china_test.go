package gateway

import "testing"

// Worked examples for China occupational injury protection: a fee per order
// by industry, paid by the platform, on the month's running total, with a
// platform multiplier from 2027.
func TestSchemeChinaOccupationalInjury(t *testing.T) {
	c := variantCatalog(t, "china-occupational-injury.json",
		`"platforms": {}`, `"platforms": {"float-110": "110%", "float-50": "50%", "float-120": "120%", "float-150": "150%"}`)
	runExamples(t, c, "cn-oip", []ex{
		{name: "ride-hailing order", events: []exEvent{
			{at: "2026-07-05 12:00", gross: "35.00", sector: "ride_hailing", region: "CN-BJ", p: "0.01", period: "2026-07"},
		}},
		{name: "ten instant deliveries", events: []exEvent{
			{at: "2026-07-05 12:00", gross: "80.00", orders: 10, sector: "instant_delivery", region: "CN-SH", p: "0.70"},
		}},
		{name: "same-city freight, three orders", events: []exEvent{
			{at: "2026-07-05 12:00", gross: "300.00", orders: 3, sector: "same_city_freight", region: "CN-GD", p: "0.54"},
		}, closes: []exClose{{}}},
		{name: "a payout without orders costs nothing", events: []exEvent{
			{at: "2026-07-05 12:00", gross: "50.00", zeroOrders: true, sector: "instant_delivery", region: "CN-GD", p: ""},
		}},
		{name: "reversal gives the orders back", events: []exEvent{
			{id: "a", at: "2026-07-05 12:00", gross: "80.00", orders: 10, sector: "instant_delivery", region: "CN-SH", p: "0.70"},
			{at: "2026-07-06 12:00", reverses: "a", p: "-0.70", flags: FlagReversal},
		}, closes: []exClose{{}}},
		{name: "month boundary in Shanghai", events: []exEvent{
			{at: "2026-07-31T15:59:59Z", gross: "10.00", sector: "instant_delivery", region: "CN-ZJ", p: "0.07", period: "2026-07"},
			{at: "2026-07-31T16:00:00Z", gross: "10.00", sector: "instant_delivery", region: "CN-ZJ", p: "0.07", period: "2026-08"},
		}},
		{name: "rate change at 2027: the multiplier applies from January", events: []exEvent{
			{at: "2026-12-31 23:59", platform: "float-120", gross: "80.00", orders: 10, sector: "instant_delivery", region: "CN-SC", p: "0.70", period: "2026-12"},
			{at: "2027-01-01 00:00", platform: "float-120", gross: "80.00", orders: 10, sector: "instant_delivery", region: "CN-SC", p: "0.84", period: "2027-01"},
		}},
		{name: "110%: fen fractions carry within the month", events: []exEvent{
			{at: "2027-03-01 09:00", platform: "float-110", gross: "9.00", sector: "instant_delivery", region: "CN-HB", p: "0.08"}, // 7.7 fen
			{at: "2027-03-01 10:00", platform: "float-110", gross: "9.00", sector: "instant_delivery", region: "CN-HB", p: "0.07"}, // 15.4
			{at: "2027-03-01 11:00", platform: "float-110", gross: "9.00", sector: "instant_delivery", region: "CN-HB", p: "0.08"}, // 23.1
		}, closes: []exClose{{}}},
		{name: "50%: half a fen is a tie, rounded up once", events: []exEvent{
			{at: "2027-03-01 09:00", platform: "float-50", gross: "20.00", sector: "ride_hailing", region: "CN-HB", p: "0.01"}, // 0.5 fen
			{at: "2027-03-01 10:00", platform: "float-50", gross: "20.00", sector: "ride_hailing", region: "CN-HB", p: ""},     // 1.0
		}, closes: []exClose{{}}},
		{name: "150%, the upper bound", events: []exEvent{
			{at: "2027-03-01 09:00", platform: "float-150", gross: "200.00", orders: 2, sector: "same_city_freight", region: "CN-HB", p: "0.54"},
		}},
		{name: "a negative adjustment takes orders back", events: []exEvent{
			{at: "2026-07-05 12:00", gross: "80.00", orders: 10, sector: "instant_delivery", region: "CN-SH", p: "0.70"},
			{at: "2026-07-06 12:00", gross: "-16.00", orders: 2, adjustment: true, sector: "instant_delivery", region: "CN-SH", p: "-0.14"},
		}, closes: []exClose{{}}},
		{name: "unknown province", events: []exEvent{
			{at: "2026-07-05 12:00", gross: "10.00", sector: "instant_delivery", region: "CN-XX", err: "unknown_region"},
		}},
		{name: "unknown industry", events: []exEvent{
			{at: "2026-07-05 12:00", gross: "10.00", sector: "tutoring", region: "CN-BJ", err: "no_fee"},
		}},
		{name: "before the pilot", events: []exEvent{
			{at: "2022-06-30 23:59", gross: "10.00", sector: "instant_delivery", region: "CN-BJ", err: ENOTFOUND},
		}},
	})
}

func TestSchemeChinaMultiplierBounds(t *testing.T) {
	for _, tt := range []struct{ mult, code string }{{"160%", "out_of_range"}, {"40%", "out_of_range"}, {"115%", "off_step"}} {
		_, err := LoadPacks(variantFS(t, "china-occupational-injury.json", `"platforms": {}`, `"platforms": {"x": "`+tt.mult+`"}`))
		if detailCode(err) != tt.code || !containsLine(err) {
			t.Errorf("multiplier %s: %v, want %s with a line", tt.mult, err, tt.code)
		}
	}
}
