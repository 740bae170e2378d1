package banktest_test

import (
	"bytes"
	"testing"

	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/testing/banktest"
)

// TestCamt053ReadsBack writes a statement and reads it back with the
// product's parser: same receipts, balances that add up.
func TestCamt053ReadsBack(t *testing.T) {
	d := calendar.D(2026, 11, 9)
	debit := banktest.Credit("KRW", 500, d, "", "")
	debit.Direction = bankstatement.Debit
	s := bankstatement.Statement{ID: "S-1", Account: bankstatement.Account{IBAN: "DE89370400440532013000"}, Currency: "KRW",
		Receipts: []bankstatement.Receipt{
			banktest.Credit("KRW", 16000, d, "RF18539007547034", "110-222-333"),
			banktest.Credit("KRW", 2500, d.AddDays(1), "", "999 & <co>"),
			debit,
		}}
	var buf bytes.Buffer
	if err := banktest.Camt053(&buf, "MSG-1", s); err != nil {
		t.Fatal(err)
	}
	f, err := bankstatement.ParseCamt(&buf, bankstatement.Config{})
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	got := f.Receipts()
	if f.Format != bankstatement.Camt053V2 || len(got) != 3 || f.Statements[0].Closing.Amount.Amount != 18000 {
		t.Fatalf("file = %+v", f)
	}
	if got[0].CreditorRef != "RF18539007547034" || got[0].Amount.Amount != 16000 || got[1].DebtorAccount.Other != "999 & <co>" ||
		got[2].Direction != bankstatement.Debit || got[1].ValueDate != d.AddDays(1) {
		t.Errorf("receipts = %+v", got)
	}
}
