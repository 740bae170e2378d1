package gateway

import (
	"testing"
	"testing/fstest"
)

const rulePack = `{
  "id": "rt", "name": "rule options", "country": "XX", "currency": "MYR",
  "time_zone": "Asia/Kuala_Lumpur", "source": "tests",
  "plans": [
    {"id": "limits", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "percentage", "worker_rate": "2%", "platform_rate": "1%",
               "min_per_transaction": "0.05", "max_per_transaction": "3.00"}}]},
    {"id": "ceiling", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "percentage", "worker_rate": "2%", "platform_rate": "1%", "ceiling_per_period": "1000.00"}}]},
    {"id": "ceiling-period", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "percentage", "basis": "period", "worker_rate": "2%", "ceiling_per_period": "1000.00"}}]},
    {"id": "threshold", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "percentage", "worker_rate": "1%", "threshold": {"amount": "500.00"}}}]},
    {"id": "split", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "fixed_period", "amount": "10.00", "max_share_per_earning": "100%", "split": {"worker": 1, "platform": 2}}}]}
  ]
}`

func TestRuleOptions(t *testing.T) {
	c, err := LoadPacks(fstest.MapFS{"rt.json": {Data: []byte(rulePack)}})
	if err != nil {
		t.Fatal(err)
	}
	at := "2026-10-05 12:00"
	runExamples(t, c, "rt", []ex{
		{name: "minimum per transaction, split by the rates", plan: "limits", events: []exEvent{
			{at: at, gross: "1.00", w: "0.03", p: "0.02", flags: FlagFloored}, // 0.03 raised to 0.05
		}},
		{name: "minimum never above the base", plan: "limits", events: []exEvent{
			{at: at, gross: "0.03", w: "0.02", p: "0.01", flags: FlagFloored}, // rounds to 0, raised to 0.03
			{at: at, gross: "0.00", w: "", p: "", not: FlagFloored},
		}},
		{name: "maximum per transaction, split by the rates", plan: "limits", events: []exEvent{
			{at: at, gross: "200.00", w: "2.00", p: "1.00", flags: FlagCapped},
			{at: at, gross: "100.00", w: "2.00", p: "1.00", not: FlagCapped}, // exactly 3.00
			{at: at, gross: "-200.00", adjustment: true, w: "-2.00", p: "-1.00", flags: FlagCapped},
		}},
		{name: "ceiling on insured earnings, progressive", plan: "ceiling", events: []exEvent{
			{at: at, gross: "900.00", w: "18.00", p: "9.00", not: FlagCeiling},
			{at: at, gross: "300.00", w: "2.00", p: "1.00", flags: FlagCeiling},
			{at: at, gross: "50.00", w: "", p: "", flags: FlagCeiling},
			{at: at, gross: "-250.00", adjustment: true, w: "", p: "", flags: FlagCeiling}, // 1000.00: still at the ceiling
			{at: at, gross: "-50.00", adjustment: true, w: "-1.00", p: "-0.50", not: FlagCeiling},
		}},
		{name: "ceiling on a period basis: reversal of the event that crossed it", plan: "ceiling-period", events: []exEvent{
			{id: "a", at: at, gross: "900.00", w: "18.00"},
			{id: "b", at: at, gross: "300.00", w: "2.00", flags: FlagCeiling},
			{at: at, reverses: "a", w: "-18.00"},
			// 300.01 insured: 6.00 due, 2.00 charged, but no more than the
			// earning itself is withheld; close collects the rest.
			{at: at, gross: "0.01", w: "0.01", flags: FlagBaseLimited},
		}, closes: []exClose{{adj: []exAdj{{AdjustTrueUp, "3.99", ""}}}}},
		{name: "threshold on a transaction basis", plan: "threshold", events: []exEvent{
			{at: at, gross: "300.00", w: "3.00", flags: FlagProvisional},
			{at: at, gross: "199.99", w: "2.00", flags: FlagProvisional},
		}, closes: []exClose{{met: ptr(false), adj: []exAdj{{AdjustRefundProvisional, "-5.00", ""}}}}},
		{name: "threshold met exactly", plan: "threshold", events: []exEvent{
			{at: at, gross: "300.00", w: "3.00", flags: FlagProvisional},
			{at: at, gross: "200.00", w: "2.00", not: FlagProvisional},
		}, closes: []exClose{{met: ptr(true)}}},
		{name: "fixed amount split on the running total", plan: "split", events: []exEvent{
			{at: at, gross: "0.01", w: "", p: "0.01"},
			{at: at, gross: "0.01", w: "0.01", p: ""},
			{at: at, gross: "0.01", w: "", p: "0.01"},
			{at: at, gross: "100.00", w: "3.32", p: "6.65", flags: FlagPeriodAmountReached},
		}},
	})
}
