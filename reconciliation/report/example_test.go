package report_test

import (
	"fmt"
	"os"

	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/report"
)

// A reconciliation report as CSV: a row per platform and scheme; the
// variance is received less expected, exact in the currency's digits.
func ExampleNewReconciliation() {
	r := report.NewReconciliation(report.NewWriter(report.CSV, os.Stdout, nil))
	r.Add(report.Line{PlatformID: "grab", SchemeID: "my-gig", Period: "2026-10", Currency: "MYR", Expected: 125, Paid: 125,
		Overpaid: 500, Status: "overpaid", DueDate: calendar.D(2026, 11, 16), References: []string{"RF47MYGW0000022026100000"}})
	if err := r.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// platform_id,platform_name,scheme_id,period,currency,expected,advised,received,variance,interest_charged,interest_accrued,interest,carried_in,carried_out,status,late,due_date,references,mismatches
	// grab,,my-gig,2026-10,MYR,1.25,0.00,6.25,5.00,0.00,0.00,0.00,0.00,0.00,overpaid,false,2026-11-16,RF47MYGW0000022026100000,0
}

// Receivables aging: what is open, by days past the due date as of a day.
func ExampleNewAging() {
	a := report.NewAging(report.NewWriter(report.CSV, os.Stdout, nil), calendar.D(2026, 12, 20))
	a.Add(report.OpenItem{PlatformID: "coupang", Currency: "KRW", DueDate: calendar.D(2026, 11, 10), Open: 6000})
	a.Add(report.OpenItem{PlatformID: "coupang", Currency: "KRW", DueDate: calendar.D(2026, 12, 31), Open: 16000})
	if err := a.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// platform_id,platform_name,currency,statements,not_due,days_1_30,days_31_60,days_61_90,over_90,total
	// coupang,,KRW,2,16000,0,6000,0,0,22000
}
