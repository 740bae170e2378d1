package gateway

import "testing"

// Worked examples for Korea employment insurance: 0.8% + 0.8% of monthly
// remuneration, provisional below KRW 800,000 a month, combinable across
// platforms, computed on the month's running total.
func TestSchemeKoreaEmploymentInsurance(t *testing.T) {
	c := mustCatalog(t)
	met, notMet := ptr(true), ptr(false)
	runExamples(t, c, "kr-ei", []ex{
		{name: "below the threshold: provisional, refunded at close", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "400000", w: "3200", p: "3200", flags: FlagProvisional},
		}, closes: []exClose{{met: notMet, adj: []exAdj{{AdjustRefundProvisional, "-3200", "-3200"}}}}},
		{name: "exactly at the threshold: due, nothing to refund", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "800000", w: "6400", p: "6400", not: FlagProvisional},
		}, closes: []exClose{{met: met}}},
		{name: "one won below the threshold", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "799999", w: "6399", p: "6399", flags: FlagProvisional}, // 6399.992
		}, closes: []exClose{{met: notMet, adj: []exAdj{{AdjustRefundProvisional, "-6399", "-6399"}}}}},
		{name: "combined across platforms: each charged on its own share", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "400000", platform: "A", w: "3200", p: "3200", flags: FlagProvisional},
			{at: "2026-10-06 12:00", gross: "600000", platform: "B", w: "4800", p: "4800", flags: FlagProvisional},
		}, closes: []exClose{
			{platform: "A", met: met, in: CloseInput{Combine: true, CombinedBase: Money{1_000_000, "KRW"}}},
			{platform: "B", met: met, in: CloseInput{Combine: true, CombinedBase: Money{1_000_000, "KRW"}}},
		}},
		{name: "combined and still short", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "300000", platform: "A", w: "2400", p: "2400"},
			{at: "2026-10-06 12:00", gross: "400000", platform: "B", w: "3200", p: "3200"},
		}, closes: []exClose{
			{platform: "A", met: notMet, in: CloseInput{Combine: true, CombinedBase: Money{700_000, "KRW"}}, adj: []exAdj{{AdjustRefundProvisional, "-2400", "-2400"}}},
			{platform: "B", met: notMet, in: CloseInput{Combine: true, CombinedBase: Money{700_000, "KRW"}}, adj: []exAdj{{AdjustRefundProvisional, "-3200", "-3200"}}},
		}},
		{name: "the month is rounded once: fractions carry to the next event", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "12345", w: "98", p: "98"}, // 98.76
			{at: "2026-10-06 12:00", gross: "12345", w: "99", p: "99"}, // 197.52 in total
			{at: "2026-10-07 12:00", gross: "800000", w: "6400", p: "6400", not: FlagProvisional},
		}, closes: []exClose{{met: met}}},
		{name: "expenses are not remuneration", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "900000", expenses: "150000", w: "6000", p: "6000", flags: FlagProvisional},
		}, closes: []exClose{{met: notMet, adj: []exAdj{{AdjustRefundProvisional, "-6000", "-6000"}}}}},
		{name: "a reversal can take the month back below the threshold", events: []exEvent{
			{id: "a", at: "2026-10-05 12:00", gross: "500000", w: "4000", p: "4000", flags: FlagProvisional},
			{id: "b", at: "2026-10-06 12:00", gross: "400000", w: "3200", p: "3200", not: FlagProvisional},
			{at: "2026-10-07 12:00", reverses: "a", w: "-4000", p: "-4000", flags: FlagReversal},
		}, closes: []exClose{{met: notMet, adj: []exAdj{{AdjustRefundProvisional, "-3200", "-3200"}}}}},
		{name: "a reversal's rounding is trued up at close", events: []exEvent{
			{id: "b", at: "2026-10-05 12:00", gross: "800000", w: "6400", p: "6400"},
			{id: "a", at: "2026-10-06 12:00", gross: "1100", w: "8", p: "8"}, // 6408.8
			{id: "c", at: "2026-10-07 12:00", gross: "1100", w: "9", p: "9"}, // 6417.6
			{at: "2026-10-08 12:00", reverses: "a", w: "-8", p: "-8"},        // 6409 charged on 6408.8
		}, closes: []exClose{{met: met, adj: []exAdj{{AdjustTrueUp, "-1", "-1"}}}}},
		{name: "month boundary in Seoul", events: []exEvent{
			{at: "2026-10-31T14:59:59Z", gross: "800000", w: "6400", p: "6400", period: "2026-10"},
			{at: "2026-10-31T15:00:00Z", gross: "400000", w: "3200", p: "3200", period: "2026-11", flags: FlagProvisional},
		}, closes: []exClose{
			{period: "2026-10", met: met},
			{period: "2026-11", met: notMet, adj: []exAdj{{AdjustRefundProvisional, "-3200", "-3200"}}},
		}},
		{name: "closing twice refunds once", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "400000", w: "3200", p: "3200"},
		}, closes: []exClose{{adj: []exAdj{{AdjustRefundProvisional, "-3200", "-3200"}}}}},
		{name: "before 2022 platform workers were not covered", events: []exEvent{
			{at: "2021-12-31 23:59", gross: "400000", err: ENOTFOUND},
		}},
	})
}

func TestSchemeKoreaLateEarningAfterClose(t *testing.T) {
	v := mustVersion(t, "kr-ei", "platform-workers", "2026-10-05T00:00:00Z")
	e := Earning{EventID: "a", PlatformID: "p", WorkerRef: "w", OccurredAt: exTime(t, "2026-10-05T00:00:00Z", nil), Gross: Money{400_000, "KRW"}, Orders: 1, Kind: KindEarning}
	_, s, err := v.Deduct(&e, PeriodState{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := v.Close(s, CloseInput{})
	if err != nil || len(st.Adjustments) != 1 || st.Adjustments[0].Total.Amount != -6400 {
		t.Fatalf("close: %+v %v", st.Adjustments, err)
	}
	e2 := e
	e2.EventID, e2.Gross = "b", Money{400_000, "KRW"}
	d, s2, err := v.Deduct(&e2, st.State)
	if err != nil || d.Worker.Amount != 3200 || d.Flags.Has(FlagProvisional) {
		t.Fatalf("late: %+v %v", d, err)
	}
	st2, err := v.Close(s2, CloseInput{})
	if err != nil || len(st2.Adjustments) != 1 || st2.Adjustments[0].Kind != AdjustTrueUp || st2.Adjustments[0].Worker.Amount != 3200 {
		t.Fatalf("re-close: %+v %v", st2.Adjustments, err)
	}
	if _, err := v.Close(s2, CloseInput{Combine: true, CombinedBase: Money{1, "MYR"}}); detailCode(err) != "currency_mismatch" {
		t.Errorf("combined base in MYR: %v", err)
	}
}

func TestSchemeKoreaRejectsMidMonthRateChange(t *testing.T) {
	_, err := LoadPacks(variantFS(t, "korea-employment-insurance.json",
		`{"version": 1, "valid_from": "2022-01-01", "period": "month",`,
		`{"version": 1, "valid_from": "2022-01-15", "period": "month",`))
	if detailCode(err) != "mid_period" || !containsLine(err) {
		t.Fatalf("err = %v", err)
	}
}

func mustVersion(t testing.TB, scheme, plan, at string) *PlanVersion {
	t.Helper()
	v, err := mustCatalog(t).PlanVersion(scheme, plan, exTime(t, at, nil))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
