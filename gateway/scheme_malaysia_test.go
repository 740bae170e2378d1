package gateway

import "testing"

// Worked examples for Malaysia SESS plans 1-4: a fixed monthly amount withheld
// progressively, at most 50% of any one earning.
func TestSchemeMalaysiaSESS(t *testing.T) {
	c := mustCatalog(t)
	runExamples(t, c, "my-sess", []ex{
		{name: "plan 1 met by one earning", plan: "1", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "100.00", w: "13.10", flags: FlagPeriodAmountReached, not: FlagShareLimited, period: "2026-10"},
		}},
		{name: "exactly twice the amount: the share limit and the amount coincide", plan: "1", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "26.20", w: "13.10", flags: FlagPeriodAmountReached, not: FlagShareLimited},
		}},
		{name: "progressive: half of each earning until the amount is met, never more", plan: "1", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "20.00", w: "10.00", flags: FlagShareLimited, not: FlagPeriodAmountReached},
			{at: "2026-10-06 12:00", gross: "10.00", w: "3.10", flags: FlagPeriodAmountReached, not: FlagShareLimited},
			{at: "2026-10-07 12:00", gross: "50.00", w: "", flags: FlagPeriodAmountReached},
		}},
		{name: "half a sen is rounded down, never up", plan: "1", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "0.05", w: "0.02", flags: FlagShareLimited},
			{at: "2026-10-05 12:01", gross: "0.01", w: ""},
		}},
		{name: "reversal gives the amount back to the month", plan: "2", events: []exEvent{
			{id: "a", at: "2026-10-05 12:00", gross: "20.00", w: "10.00", flags: FlagShareLimited},
			{id: "b", at: "2026-10-06 12:00", gross: "30.00", w: "9.40", flags: FlagPeriodAmountReached},
			{id: "r", at: "2026-10-07 12:00", reverses: "a", w: "-10.00", flags: FlagReversal | FlagShareLimited},
			{id: "c", at: "2026-10-08 12:00", gross: "40.00", w: "10.00", flags: FlagPeriodAmountReached},
		}, closes: []exClose{{}}},
		{name: "month boundary in Kuala Lumpur: 23:59:59 and midnight are different months", plan: "1", events: []exEvent{
			{at: "2026-10-31T15:59:59Z", gross: "100.00", w: "13.10", period: "2026-10"},
			{at: "2026-10-31T16:00:00Z", gross: "100.00", w: "13.10", period: "2026-11"},
		}},
		{name: "month-end shortfall notice for plan 4", plan: "4", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "60.00", w: "30.00", flags: FlagShareLimited},
		}, closes: []exClose{{notices: []exNotice{{NoticeShortfall, "19.40"}}}}},
		{name: "plan 3 fully withheld: no notice", plan: "3", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "100.00", w: "36.90"},
		}, closes: []exClose{{}}},
		{name: "negative adjustment withholds nothing and refunds nothing", plan: "1", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-06 12:00", gross: "-4.00", adjustment: true, w: ""},
		}, closes: []exClose{{notices: []exNotice{{NoticeShortfall, "8.10"}}}}},
		{name: "many small earnings fill plan 4 exactly", plan: "4", events: []exEvent{
			{at: "2026-10-01 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-02 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-03 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-04 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-05 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-06 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-07 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-08 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-09 08:00", gross: "10.00", w: "5.00"},
			{at: "2026-10-10 08:00", gross: "10.00", w: "4.40", flags: FlagPeriodAmountReached},
			{at: "2026-10-11 08:00", gross: "10.00", w: ""},
		}, closes: []exClose{{}}},
		{name: "reversing the only earning, then earning again", plan: "1", events: []exEvent{
			{id: "a", at: "2026-10-05 12:00", gross: "100.00", w: "13.10"},
			{at: "2026-10-05 13:00", reverses: "a", w: "-13.10"},
			{at: "2026-10-05 14:00", gross: "100.00", w: "13.10"},
		}},
		{name: "an earning before the scheme started has no version", plan: "1", events: []exEvent{
			{at: "2017-05-31 23:59", gross: "100.00", err: ENOTFOUND},
		}},
	})
}

// Worked examples for the Malaysia Gig Workers Act: 1.25% of earnings after
// commission, excluding tips, checked at month end against the SESS plan.
func TestSchemeMalaysiaGigWorkers(t *testing.T) {
	c := mustCatalog(t)
	runExamples(t, c, "my-gig", []ex{
		{name: "tips and commission excluded", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "100.00", commission: "20.00", tips: "5.00", w: "0.94"}, // 75.00 × 1.25% = 0.9375
		}},
		{name: "a tie of half a sen rounds up", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "10.00", w: "0.13"}, // 0.125
			{at: "2026-10-05 12:01", gross: "0.40", w: "0.01"},  // 0.005
			{at: "2026-10-05 12:02", gross: "0.39", w: ""},      // 0.004875
		}},
		{name: "a negative adjustment is the mirror image", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "-10.00", adjustment: true, w: "-0.13"},
		}},
		{name: "reversal", events: []exEvent{
			{id: "a", at: "2026-10-05 12:00", gross: "80.00", commission: "5.00", w: "0.94"},
			{at: "2026-10-06 12:00", reverses: "a", w: "-0.94", flags: FlagReversal},
		}},
		{name: "shortfall against plan 1", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "1000.00", w: "12.50"},
		}, closes: []exClose{{in: CloseInput{SelectedPlan: "1"}, notices: []exNotice{{NoticeShortfall, "0.60"}}}}},
		{name: "exactly the plan 1 amount: no notice", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "1048.00", w: "13.10"},
		}, closes: []exClose{{in: CloseInput{SelectedPlan: "1"}}}},
		{name: "excess over plan 1: the worker chooses", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "2000.00", w: "25.00"},
		}, closes: []exClose{{in: CloseInput{SelectedPlan: "1"}, notices: []exNotice{{NoticeExcess, "11.90"}}}}},
		{name: "exactly the plan 2 amount over two earnings", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "776.00", w: "9.70"},
			{at: "2026-10-25 12:00", gross: "776.00", w: "9.70"},
		}, closes: []exClose{{in: CloseInput{SelectedPlan: "2"}}}},
		{name: "no selected plan: no check", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "100.00", w: "1.25"},
		}, closes: []exClose{{}}},
		{name: "month boundary in Kuala Lumpur splits the check", events: []exEvent{
			{at: "2026-10-31T15:59:00Z", gross: "1048.00", w: "13.10", period: "2026-10"},
			{at: "2026-10-31T16:00:00Z", gross: "1048.00", w: "13.10", period: "2026-11"},
		}, closes: []exClose{
			{period: "2026-10", in: CloseInput{SelectedPlan: "1"}},
			{period: "2026-11", in: CloseInput{SelectedPlan: "4"}, notices: []exNotice{{NoticeShortfall, "36.30"}}},
		}},
		{name: "before commencement there is no version", events: []exEvent{
			{at: "2025-12-31 23:59", gross: "100.00", err: ENOTFOUND},
		}},
	})
}

func TestSchemeMalaysiaGigWorkersRefundExcess(t *testing.T) {
	c := variantCatalog(t, "malaysia-gig-workers.json", `"excess": "notify"`, `"excess": "refund"`)
	runExamples(t, c, "my-gig", []ex{
		{name: "excess over plan 1 refunded", events: []exEvent{
			{at: "2026-10-05 12:00", gross: "2000.00", w: "25.00"},
		}, closes: []exClose{{in: CloseInput{SelectedPlan: "1"}, adj: []exAdj{{AdjustRefundExcess, "-11.90", ""}}}}},
	})
	v, err := c.PlanVersion("my-gig", "s83", exTime(t, "2026-10-05T00:00:00Z", nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Close(PeriodState{Period: "2026-10", Currency: "MYR"}, CloseInput{SelectedPlan: "9"}); detailCode(err) != "unknown_plan" {
		t.Errorf("unknown selected plan: %v", err)
	}
}
