package books_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
)

const testdata = "../bankstatement/testdata"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImportBankFile imports each format of the conformance fixtures; the
// same file again stores nothing, and the same statement in another format
// of the same kind is skipped.
func TestImportBankFile(t *testing.T) {
	f := newFixture(t)
	var stages []string
	opt := books.ImportOptions{Name: "camt053_v2.xml", By: "finance-1", Progress: func(stage string, n int) {
		stages = append(stages, stage)
	}}
	rep, err := f.books.ImportBankFile(f.ctx, bytes.NewReader(readFixture(t, "camt053_v2.xml")), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Duplicate || rep.Format != bankstatement.Camt053V2 || rep.Statements != 2 || rep.Receipts != 11 {
		t.Fatalf("first import = %+v", rep)
	}
	if len(stages) == 0 || stages[len(stages)-1] != "stored" {
		t.Errorf("progress stages = %v, want ending in stored", stages)
	}
	receipts := f.scalar(`SELECT count(*) FROM receipts`)
	if receipts != int64(rep.Receipts) {
		t.Errorf("receipts stored = %d, reported %d", receipts, rep.Receipts)
	}
	again, err := f.books.ImportBankFile(f.ctx, bytes.NewReader(readFixture(t, "camt053_v2.xml")), opt)
	if err != nil || !again.Duplicate || again.ImportID != rep.ImportID {
		t.Errorf("second import = %+v, %v; want a duplicate of %d", again, err, rep.ImportID)
	}
	// The same statements as camt.053 v8 and as CSV: skipped whole.
	for _, name := range []string{"camt053_v8.xml", "statement.csv"} {
		rep, err := f.books.ImportBankFile(f.ctx, bytes.NewReader(readFixture(t, name)), books.ImportOptions{Name: name})
		if err != nil || rep.Duplicate || rep.Statements != 0 || len(rep.Skipped) != 2 {
			t.Errorf("%s: %+v, %v; want its statement skipped", name, rep, err)
		}
	}
	// A camt.054 notification is another kind of record: stored.
	rep, err = f.books.ImportBankFile(f.ctx, bytes.NewReader(readFixture(t, "camt054_v2.xml")), books.ImportOptions{Name: "camt054_v2.xml"})
	if err != nil || rep.Statements == 0 || rep.Format != bankstatement.Camt054V2 {
		t.Errorf("camt.054: %+v, %v", rep, err)
	}
	if n := f.scalar(`SELECT count(*) FROM bank_imports`); n != 4 {
		t.Errorf("imports = %d, want 4", n)
	}
}

// TestImportRejectsWhole feeds every malformed fixture: each is refused with
// the place of the error and nothing is stored.
func TestImportRejectsWhole(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(testdata, "invalid")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.books.ImportBankFile(f.ctx, bytes.NewReader(b), books.ImportOptions{Name: e.Name()})
		ge, ok := err.(*gateway.Error)
		switch {
		case !ok:
			t.Errorf("%s: err = %v, want a *gateway.Error", e.Name(), err)
		case ge.Code != gateway.EINVALID && ge.Code != gateway.ETOOLARGE:
			t.Errorf("%s: code %s", e.Name(), ge.Code)
		case len(ge.Details) == 0 || (ge.Details[0].Line == 0 && ge.Details[0].Field == ""):
			t.Errorf("%s: %v names no place", e.Name(), err)
		}
	}
	if n := f.scalar(`SELECT (SELECT count(*) FROM bank_imports) + (SELECT count(*) FROM receipts)`); n != 0 {
		t.Errorf("rows stored from malformed files = %d", n)
	}
}

// TestImportCSVMapping reads a CSV export whose columns have the bank's own
// names, semicolons and signed amounts.
func TestImportCSVMapping(t *testing.T) {
	f := newFixture(t)
	csv := strings.Join([]string{
		"Konto;Auszug;Whg;Betrag;Valuta;Referenz",
		"KR-110-999;S-1;KRW;16000;2026-11-09;RF18539007547034",
		"KR-110-999;S-1;KRW;-500;2026-11-09;",
	}, "\n")
	m := bankstatement.CSVMapping{Comma: ';', Account: "Konto", StatementID: "Auszug", Currency: "Whg", Amount: "Betrag",
		ValueDate: "Valuta", BookingDate: "Valuta", CreditorRef: "Referenz", SignedAmounts: true}
	rep, err := f.books.ImportBankFile(f.ctx, strings.NewReader(csv), books.ImportOptions{Name: "bank.csv", CSV: &m})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != bankstatement.CSV || rep.Receipts != 2 {
		t.Fatalf("report = %+v", rep)
	}
	if n := f.scalar(`SELECT count(*) FROM receipts WHERE direction = 'DBIT' AND amount_minor = 500`); n != 1 {
		t.Errorf("debit receipts = %d, want the debit kept", n)
	}
}

func TestParseCSVMapping(t *testing.T) {
	m, err := books.ParseCSVMapping("amount=Betrag, value_date=Valuta\ncomma=;\nsigned_amounts=true,# a comment")
	if err != nil || m.Amount != "Betrag" || m.ValueDate != "Valuta" || m.Comma != ';' || !m.SignedAmounts {
		t.Errorf("mapping = %+v, %v", m, err)
	}
	for _, bad := range []string{"amount", "unknown=x", "comma=;;"} {
		if _, err := books.ParseCSVMapping(bad); gateway.ErrorCode(err) != gateway.EINVALID {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
}
