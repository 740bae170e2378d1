package gateway

import "testing"

// TestCloseWithOtherPlatforms closes one worker's period on each of two
// platforms, given what the other platform holds: the period amount,
// target and combinable threshold are the worker's, and the worker is
// told once, by the lead platform.
func TestCloseWithOtherPlatforms(t *testing.T) {
	state := func(events, base, worker, platform int64, cur Currency) PeriodState {
		return PeriodState{Period: "2026-10", Currency: cur, Events: events, Base: base, Insured: base, Worker: worker, Platform: platform}
	}
	tests := []struct {
		name, scheme, plan string
		own                PeriodState
		in                 CloseInput
		adjust             int64 // the worker's adjustment, 0 for none
		notice             NoticeKind
		amount             int64
	}{
		{"SESS plan 1 met on the two platforms together", "my-sess", "1", state(2, 1000, 810, 0, "MYR"),
			CloseInput{Others: state(1, 1000, 500, 0, "MYR"), Lead: true}, 0, "", 0},
		{"SESS plan 1 short on the two together: the lead tells the worker", "my-sess", "1", state(1, 1000, 500, 0, "MYR"),
			CloseInput{Others: state(1, 600, 300, 0, "MYR"), Lead: true}, 0, NoticeShortfall, 510},
		{"SESS plan 1 short: the other platform says nothing", "my-sess", "1", state(1, 600, 300, 0, "MYR"),
			CloseInput{Others: state(1, 1000, 500, 0, "MYR")}, 0, "", 0},
		{"SESS plan 1 on one platform, short", "my-sess", "1", state(1, 1000, 500, 0, "MYR"),
			CloseInput{Lead: true}, 0, NoticeShortfall, 810},
		{"Korea: 400,000 here and 600,000 elsewhere meet the threshold together", "kr-ei", "platform-workers",
			state(1, 400_000, 3200, 3200, "KRW"), CloseInput{Others: state(1, 600_000, 4800, 4800, "KRW")}, 0, "", 0},
		{"Korea: 300,000 and 400,000 stay short together: refunded", "kr-ei", "platform-workers",
			state(1, 300_000, 2400, 2400, "KRW"), CloseInput{Others: state(1, 400_000, 3200, 3200, "KRW"), Lead: true}, -2400, "", 0},
		{"Malaysia s83 target on both platforms' deductions: the lead tells the excess", "my-gig", "s83",
			state(1, 2_000_00, 2500, 0, "MYR"), CloseInput{SelectedPlan: "1", Others: state(1, 2_000_00, 2500, 0, "MYR"), Lead: true},
			0, NoticeExcess, 5000 - 1310},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVersion(t, tt.scheme, tt.plan, "2026-10-05T00:00:00Z")
			st, err := v.Close(tt.own, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var adjust int64
			for _, a := range st.Adjustments {
				adjust += a.Worker.Amount
			}
			if adjust != tt.adjust {
				t.Errorf("worker adjusted by %d, want %d (%+v)", adjust, tt.adjust, st.Adjustments)
			}
			switch {
			case tt.notice == "" && len(st.Notices) != 0:
				t.Errorf("notices %+v, want none", st.Notices)
			case tt.notice != "" && (len(st.Notices) != 1 || st.Notices[0].Kind != tt.notice || st.Notices[0].Amount.Amount != tt.amount):
				t.Errorf("notices %+v, want one %s of %d", st.Notices, tt.notice, tt.amount)
			}
		})
	}
}

// TestPeriodStatePlus adds a row to another platform's and takes it back
// out: the running totals add up, the settled amounts stay the row's own.
func TestPeriodStatePlus(t *testing.T) {
	a := PeriodState{Period: "2026-10", Currency: "MYR", Events: 2, Gross: 900, Base: 800, Insured: 800, Orders: 3, Units: 4, Worker: 10, Platform: 5, SettledWorker: -1}
	b := PeriodState{Period: "2026-10", Currency: "MYR", Events: 1, Gross: 100, Base: 90, Insured: 90, Orders: 1, Units: 2, Worker: 3, Platform: 1, SettledPlatform: 7}
	sum := PeriodState{}.Plus(a, 1).Plus(b, 1)
	want := PeriodState{Period: "2026-10", Currency: "MYR", Events: 3, Gross: 1000, Base: 890, Insured: 890, Orders: 4, Units: 6, Worker: 13, Platform: 6}
	if sum != want {
		t.Errorf("sum = %+v, want %+v", sum, want)
	}
	if back := a.Plus(b, 1).Plus(b, -1); back != a {
		t.Errorf("a + b - b = %+v, want %+v", back, a)
	}
}
