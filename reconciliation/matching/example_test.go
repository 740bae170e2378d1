package matching_test

import (
	"fmt"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/interest"
	"github.com/coverbridge/coverbridge/reconciliation/matching"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

func ExampleReconcile() {
	kl, _ := time.LoadLocation("Asia/Kuala_Lumpur")
	myr := func(minor int64) gateway.Money { return gateway.Money{Amount: minor, Currency: "MYR"} }
	ref, _ := rfref.Generate(rfref.Key{Platform: 42, Scheme: "SOCS", Period: "2026-10"})
	due := calendar.D(2026, 11, 16)
	st := statement.Statement{
		ID: "laju/2026-10/0", Key: statement.Key{Platform: "laju", Scheme: "SOCS", Period: "2026-10"},
		Reference: ref, Currency: "MYR", Total: myr(1000_00), DueDate: due,
		Lines: []statement.Line{
			{WorkerKey: "wk-a", Worker: myr(300_00), Platform: myr(300_00)},
			{WorkerKey: "wk-b", Worker: myr(200_00), Platform: myr(200_00)},
		},
	}
	receipt := func(id string, minor int64, on calendar.Date) matching.Receipt {
		return matching.Receipt{ID: id, Receipt: bankstatement.Receipt{
			Direction: bankstatement.Credit, Status: bankstatement.Booked, Amount: myr(minor),
			ValueDate: on, CreditorRef: rfref.Format(ref),
		}}
	}
	adv := statement.Advice{ID: "adv-1", Platform: "laju", PaymentReference: ref, Amount: myr(950_00),
		Lines: []statement.AdviceLine{{WorkerKey: "wk-a", Amount: myr(600_00)}, {WorkerKey: "wk-b", Amount: myr(350_00)}}}

	rule := interest.India() // 1% a month or part of a month
	cfg := matching.Config{Schemes: map[string]matching.Scheme{"SOCS": {Interest: &rule, Grace: 7, Location: kl}}}
	res, err := matching.Reconcile(cfg, matching.Input{
		Statements: []statement.Statement{st},
		Advices:    []statement.Advice{adv},
		Receipts:   []matching.Receipt{receipt("r1", 600_00, calendar.D(2026, 11, 13)), receipt("r2", 400_00, calendar.D(2026, 11, 20))},
		Now:        time.Date(2026, 12, 1, 9, 0, 0, 0, kl),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range res.Allocations {
		fmt.Println(a.ReceiptID, a.Amount, a.Rule, "late:", a.Late, "interest:", a.Interest)
	}
	o := res.Outcomes[0]
	fmt.Println(o.Key, o.Status, "paid", o.Paid, "late", o.Late, "interest", o.Interest)
	for _, m := range o.Mismatches {
		fmt.Println(m.Kind, m.WorkerKey, "stated", m.Stated, "advised", m.Advised)
	}
	// Output:
	// r1 600.00 reference late: 0 interest: 0.00
	// r2 400.00 reference late: 1 interest: 4.00
	// laju/SOCS/2026-10 paid paid 1000.00 late true interest 4.00
	// different_amount wk-b stated 400.00 advised 350.00
}
