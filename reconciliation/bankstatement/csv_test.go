package bankstatement

import (
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

// A bank export with its own headers, semicolons, signed amounts, day-first
// dates and no balance columns.
func TestCSVMapping(t *testing.T) {
	const export = "\xEF\xBB\xBFStatement;Account No;CCY;Posted;Value;Amount;Reference;Payer;Payer Account;Details;Payment Ref\n" +
		"S-1;564210002211;MYR;16/11/2026;13/11/2026;12345.67;MBB1;LajuRide Technologies Sdn Bhd;514012345678;SOCSO Oct;RF67SOCS00000H2026100000\n" +
		"\n" +
		"S-1;564210002211;MYR;16/11/2026;16/11/2026;-15.00;MBB2;;;Fee;\n" +
		"S-2;GB29NWBK60161331926819;MYR;16/11/2026;16/11/2026;1.00;MBB3;;;;\n"
	m := CSVMapping{
		Comma: ';', StatementID: "statement", Account: "account no", Currency: "ccy",
		BookingDate: "Posted", ValueDate: "Value", Amount: "Amount", BankRef: "Reference",
		DebtorName: "Payer", DebtorAccount: "Payer Account", Remittance: "Details", CreditorRef: "Payment Ref",
		SignedAmounts: true, DateLayout: "02/01/2006",
	}
	file, err := ParseCSV(strings.NewReader(export), m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Statements) != 2 || file.Statements[0].Opening != nil || file.Statements[1].Account.IBAN != "GB29NWBK60161331926819" {
		t.Fatalf("statements %+v", file.Statements)
	}
	rs := file.Receipts()
	if len(rs) != 3 {
		t.Fatalf("%d receipts", len(rs))
	}
	want0 := Receipt{StatementID: "S-1", BankRef: "MBB1", Direction: Credit, Amount: myr("12345.67"), Status: Booked,
		BookingDate: nov16, ValueDate: nov13, CreditorRef: "RF67SOCS00000H2026100000", Remittance: "SOCSO Oct",
		DebtorName: "LajuRide Technologies Sdn Bhd", DebtorAccount: Account{Other: "514012345678"}, Line: 2}
	if rs[0] != want0 {
		t.Errorf("receipt 0:\n%s", diffFields(rs[0], want0))
	}
	if rs[1].Direction != Debit || rs[1].Amount != myr("15.00") || rs[1].Line != 4 || !rs[1].DebtorAccount.IsZero() {
		t.Errorf("receipt 1 = %+v", rs[1])
	}
	if s := file.Statements[0]; s.Credits != myr("12345.67") || s.Debits != myr("15.00") {
		t.Errorf("totals %v %v", s.Credits, s.Debits)
	}
}

func TestCSVDirectionValues(t *testing.T) {
	const export = "statement_id,account,currency,direction,amount,status,reversal\n" +
		"S,1,KRW,C,150000.00,book,yes\n" +
		"S,1,KRW,d,1000,PDNG,0\n"
	file, err := ParseCSV(strings.NewReader(export), CSVMapping{CreditValue: "C", DebitValue: "D"}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	rs := file.Receipts()
	if rs[0].Direction != Credit || rs[0].Amount != krw("150000") || !rs[0].Reversal || rs[0].Status != Booked {
		t.Errorf("receipt 0 = %+v", rs[0])
	}
	if rs[1].Direction != Debit || rs[1].Status != Pending || rs[1].Reversal {
		t.Errorf("receipt 1 = %+v", rs[1])
	}
	if s := file.Statements[0]; s.Credits != krw("150000") || s.Debits != krw("0") {
		t.Errorf("booked totals %v %v", s.Credits, s.Debits)
	}
}

func TestCSVReject(t *testing.T) {
	const head = "statement_id,account,currency,direction,amount"
	tests := []struct {
		name, text  string
		detail, fld string
		line        int
		msg         string
	}{
		{"empty", "", CodeMissing, "", 1, "the file is empty"},
		{"header only", head + "\n", CodeMissing, "", 2, "header but no rows"},
		{"one balance column", head + ",opening_balance\nS,1,MYR,CRDT,1.00,0\n", CodeMissing, "opening_balance/closing_balance", 1, "only one of the balance columns"},
		{"no statement id", head + "\n,1,MYR,CRDT,1.00\n", CodeMissing, "statement_id", 2, "no statement id"},
		{"no account", head + "\nS,,MYR,CRDT,1.00\n", CodeMissing, "account", 2, "no account"},
		{"unknown currency", head + "\nS,1,MYX,CRDT,1.00\n", CodeCurrency, "currency", 2, `unknown currency "MYX"`},
		{"no amount", head + "\nS,1,MYR,CRDT,\n", CodeMissing, "amount", 2, "no amount"},
		{"bad status", head + ",status\nS,1,MYR,CRDT,1.00,DONE\n", CodeValue, "status", 2, `status "DONE"`},
		{"bad reversal", head + ",reversal\nS,1,MYR,CRDT,1.00,perhaps\n", CodeValue, "reversal", 2, `reversal "perhaps"`},
		{"bad booking date", head + ",booking_date\nS,1,MYR,CRDT,1.00,16/11/2026\n", CodeValue, "booking_date", 2, `booking date "16/11/2026"`},
		{"bad value date", head + ",value_date\nS,1,MYR,CRDT,1.00,2026-13-01\n", CodeValue, "value_date", 2, `value date "2026-13-01"`},
		{"bad opening balance", head + ",opening_balance,closing_balance\nS,1,MYR,CRDT,1.00,1.001,2\n", CodeAmount, "opening_balance", 2, "opening balance"},
		{"bad closing balance", head + ",opening_balance,closing_balance\nS,1,MYR,CRDT,1.00,1,x\n", CodeAmount, "closing_balance", 2, "closing balance"},
		{"bad balance date", head + ",opening_balance,closing_balance,opening_date\nS,1,MYR,CRDT,1.00,1,2,tomorrow\n", CodeAmount, "opening_balance", 2, `date "tomorrow"`},
		{"currency differs", head + "\nS,1,MYR,CRDT,1.00\nS,1,SGD,CRDT,1.00\n", CodeMismatch, "currency", 3, `has currency "MYR" on line 2 but "SGD" here`},
		{"negative with direction", head + "\nS,1,MYR,CRDT,-1.00\n", CodeAmount, "amount", 2, "is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, err := ParseCSV(strings.NewReader(tt.text), CSVMapping{}, Config{})
			assertRejected(t, file, err, gateway.EINVALID, tt.detail, tt.line, tt.fld, tt.msg)
		})
	}
}

func TestCSVNegativeBalance(t *testing.T) {
	const text = "statement_id,account,currency,direction,amount,opening_balance,closing_balance\n" +
		"S,1,MYR,CRDT,30.00,-10.00,20.00\n"
	file, err := ParseCSV(strings.NewReader(text), CSVMapping{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s := file.Statements[0]; s.Opening.Amount != myr("-10.00") || s.Closing.Amount != myr("20.00") {
		t.Errorf("balances %v %v", s.Opening, s.Closing)
	}
}
