package bankstatement

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

// FuzzParseCamt feeds arbitrary bytes, seeded with the fixtures, to the
// camt parser: it must never panic, must reject with a *gateway.Error
// carrying one detail, and whatever it accepts must balance and have exact,
// positive amounts in the statement currency.
func FuzzParseCamt(f *testing.F) {
	for _, name := range []string{"camt053_v2.xml", "camt053_v8.xml", "camt054_v2.xml", "camt054_v8.xml", "invalid/batch_sum.xml", "invalid/doctype_xxe.xml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		file, err := ParseCamt(bytes.NewReader(doc), Config{MaxBytes: 1 << 20})
		if err != nil {
			var e *gateway.Error
			if !errors.As(err, &e) || len(e.Details) != 1 || e.Details[0].Code == "" {
				t.Fatalf("error %v (%T) is not a rejection with one detail", err, err)
			}
			if file != nil {
				t.Fatal("rejected file returned")
			}
			return
		}
		for _, s := range file.Statements {
			var credits, debits int64
			for _, r := range s.Receipts {
				if r.Amount.Currency != s.Currency || r.Amount.Amount < 0 || r.Line <= 0 {
					t.Fatalf("receipt %+v in a %s statement", r, s.Currency)
				}
				if r.Direction != Credit && r.Direction != Debit {
					t.Fatalf("direction %q", r.Direction)
				}
				if r.Status == Booked {
					if r.Direction == Credit {
						credits += r.Amount.Amount
					} else {
						debits += r.Amount.Amount
					}
				}
			}
			if credits != s.Credits.Amount || debits != s.Debits.Amount {
				t.Fatalf("totals %v %v, receipts add up to %d %d", s.Credits, s.Debits, credits, debits)
			}
			if s.Opening != nil && s.Opening.Amount.Amount+credits-debits != s.Closing.Amount.Amount {
				t.Fatalf("accepted a statement that does not balance")
			}
		}
	})
}

// FuzzParseCSV does the same for CSV input.
func FuzzParseCSV(f *testing.F) {
	b, err := os.ReadFile("testdata/statement.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("statement_id,account,currency,direction,amount\nS,1,KRW,CRDT,1\n")
	f.Fuzz(func(t *testing.T, text string) {
		file, err := ParseCSV(strings.NewReader(text), CSVMapping{}, Config{MaxBytes: 1 << 20})
		if err != nil {
			var e *gateway.Error
			if !errors.As(err, &e) || len(e.Details) != 1 {
				t.Fatalf("error %v (%T) is not a rejection with one detail", err, err)
			}
			return
		}
		for _, s := range file.Statements {
			for _, r := range s.Receipts {
				if r.Amount.Currency != s.Currency || r.Amount.Amount < 0 {
					t.Fatalf("receipt %+v", r)
				}
			}
		}
	})
}
