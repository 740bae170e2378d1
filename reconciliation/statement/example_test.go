package statement_test

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

func ExampleBuild() {
	kl, _ := time.LoadLocation("Asia/Kuala_Lumpur")
	cal, _ := calendar.Builtin("MY")
	rule, _ := calendar.ParseRule("15th of next month")
	spec := statement.Spec{
		Key:            statement.Key{Platform: "laju", Scheme: "SOCS", Period: "2026-10"},
		PlatformNumber: 42,
		Scheme:         statement.Scheme{Code: "SOCS", Currency: "MYR", Location: kl, Unit: gateway.PeriodMonth, DueRule: rule, Calendar: cal},
		IssuedAt:       time.Date(2026, 11, 3, 9, 0, 0, 0, kl),
	}
	e := func(worker string, w, p int64, booked string) statement.Entry {
		return statement.Entry{Platform: "laju", Scheme: "SOCS", Period: "2026-10", WorkerKey: worker,
			WorkerMinor: w, PlatformMinor: p, Currency: "MYR", Late: booked != "", BookedPeriod: booked}
	}
	ledger := []statement.Entry{e("wk-b", 1250, 1750, ""), e("wk-a", 800, 0, ""), e("wk-b", 250, 350, "")}
	orig, _ := statement.Build(spec, slices.Values(ledger), nil)
	fmt.Println(orig.Kind, rfref.Format(orig.Reference), "due", orig.DueDate, "total", orig.Total)
	for _, l := range orig.Lines {
		fmt.Println(" ", l.WorkerKey, l.Worker, l.Platform)
	}

	// A late earning for October, booked in November after the statement
	// went out: a supplementary statement states the difference.
	ledger = append(ledger, e("wk-a", 200, 0, "2026-11"))
	spec.IssuedAt = time.Date(2026, 12, 2, 9, 0, 0, 0, kl)
	sup, _ := statement.Build(spec, slices.Values(ledger), []statement.Statement{orig})
	fmt.Println(sup.Kind, sup.Seq, rfref.Format(sup.Reference), "due", sup.DueDate, "total", sup.Total)
	for _, l := range sup.Lines {
		fmt.Println(" ", l.WorkerKey, l.Worker, l.Platform, "late:", l.Late)
	}
	// Output:
	// original RF41 SOCS 0000 1620 2610 0000 due 2026-11-16 total 44.00
	//   wk-a 8.00 0.00
	//   wk-b 15.00 21.00
	// supplementary 1 RF14 SOCS 0000 1620 2610 0001 due 2026-12-15 total 2.00
	//   wk-a 2.00 0.00 late: true
}

func ExampleParseAdviceCSV() {
	file := `payment_reference,value_date,currency,worker_key,amount,total
RF41 SOCS 0000 1620 2610 0000,2026-11-14,MYR,wk-a,8.00,44.00
RF41 SOCS 0000 1620 2610 0000,2026-11-14,MYR,wk-b,36.00,44.00
`
	advices, err := statement.ParseAdviceCSV(strings.NewReader(file), "laju", statement.CSVConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range advices {
		fmt.Println(a.PaymentReference, a.ValueDate, a.Amount, a.Amount.Currency, len(a.Lines), "lines")
	}

	_, err = statement.ParseAdviceCSV(strings.NewReader(strings.Replace(file, "36.00", "36.005", 1)), "laju", statement.CSVConfig{})
	fmt.Println(err)
	// Output:
	// RF41SOCS0000162026100000 2026-11-14 44.00 MYR 2 lines
	// invalid: remittance advice rejected: amount "36.005" is not an exact MYR amount: amount "36.005" has 3 decimals; the currency has 2 (line 3 amount: amount "36.005" is not an exact MYR amount: amount "36.005" has 3 decimals; the currency has 2)
}
