package statement

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

func TestParseAdviceCSV(t *testing.T) {
	f, err := os.Open("testdata/advice.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseAdviceCSV(f, "laju", CSVConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Advice{
		{Platform: "laju", PaymentReference: "RF41SOCS000016202610" + "0000", Amount: myr(235_00), ValueDate: calendar.D(2026, 11, 14), Line: 2,
			Lines: []AdviceLine{{"wk-a", myr(115_00), 2}, {"wk-b", myr(90_00), 3}, {"wk-c", myr(30_00), 5}}},
		{Platform: "laju", PaymentReference: "LAJU-PAY-77", Amount: myr(12_00), ValueDate: calendar.D(2026, 11, 20), Line: 4,
			Lines: []AdviceLine{{"wk-d", myr(12_00), 4}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseAdviceCSV =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseAdviceCSVSemicolon(t *testing.T) {
	f, err := os.Open("testdata/advice_semicolon.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseAdviceCSV(f, "laju", CSVConfig{Comma: ';'})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Scheme != "SOCS" || got[0].Period != "2026-10" || got[0].Amount != myr(150) {
		t.Errorf("got %+v", got)
	}
}

func TestParseAdviceCSVRejects(t *testing.T) {
	const head = "payment_reference,value_date,currency,worker_key,amount,total,scheme,period\n"
	tests := []struct {
		name, input string
		field       string
		line        int
		code        string
	}{
		{"empty", "", "", 1, "missing"},
		{"header only", head, "", 2, "missing"},
		{"missing column", "payment_reference,value_date,currency,amount\nX,2026-11-14,MYR,1\n", ColWorkerKey, 1, "missing"},
		{"duplicate column", "amount,payment_reference,value_date,currency,worker_key,amount\n", ColAmount, 1, "duplicate"},
		{"no reference", head + ",2026-11-14,MYR,w,1,,,\n", ColPaymentReference, 2, "missing"},
		{"unknown currency", head + "X,2026-11-14,XYZ,w,1,,,\n", ColCurrency, 2, "currency"},
		{"no date", head + "X,,MYR,w,1,,,\n", ColValueDate, 2, "missing"},
		{"bad date", head + "X,14/11/2026,MYR,w,1,,,\n", ColValueDate, 2, "value"},
		{"scheme without period", head + "X,2026-11-14,MYR,w,1,,SOCS,\n", ColScheme, 2, "missing"},
		{"date differs", head + "X,2026-11-14,MYR,w,1,,,\nX,2026-11-15,MYR,v,1,,,\n", ColValueDate, 3, "mismatch"},
		{"currency differs", head + "X,2026-11-14,MYR,w,1,,,\nX,2026-11-14,SGD,v,1,,,\n", ColCurrency, 3, "mismatch"},
		{"no worker", head + "X,2026-11-14,MYR,,1,,,\n", ColWorkerKey, 2, "missing"},
		{"duplicate worker", head + "X,2026-11-14,MYR,w,1,,,\nY,2026-11-14,MYR,w,1,,,\nX,2026-11-14,MYR,w,2,,,\n", ColWorkerKey, 4, "duplicate"},
		{"too many decimals", head + "X,2026-11-14,MYR,w,1.001,,,\n", ColAmount, 2, "amount"},
		{"won fraction", head + "X,2026-11-14,KRW,w,1.5,,,\n", ColAmount, 2, "amount"},
		{"negative", head + "X,2026-11-14,MYR,w,-1,,,\n", ColAmount, 2, "amount"},
		{"not a number", head + "X,2026-11-14,MYR,w,1e3,,,\n", ColAmount, 2, "amount"},
		{"total mismatch", head + "X,2026-11-14,MYR,w,1,3.00,,\nX,2026-11-14,MYR,v,1,3.00,,\n", ColTotal, 2, "total_mismatch"},
		{"total malformed", head + "X,2026-11-14,MYR,w,1,abc,,\n", ColTotal, 2, "amount"},
		{"quote", head + "X,2026-11-14,MYR,\"w,1,,,\n", "", 2, "syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAdviceCSV(strings.NewReader(tt.input), "p", CSVConfig{})
			var ge *gateway.Error
			if !errors.As(err, &ge) || ge.Code != gateway.EINVALID || len(ge.Details) != 1 {
				t.Fatalf("err = %v, want an EINVALID *gateway.Error with one detail", err)
			}
			d := ge.Details[0]
			if d.Field != tt.field || d.Line != tt.line || d.Code != tt.code {
				t.Errorf("detail = %+v, want field %q line %d code %q", d, tt.field, tt.line, tt.code)
			}
		})
	}
}

func TestParseAdviceCSVTooLarge(t *testing.T) {
	input := "payment_reference,value_date,currency,worker_key,amount\n" + strings.Repeat("X,2026-11-14,MYR,w,1\n", 1) + strings.Repeat("Y,2026-11-14,MYR,w,1\n", 100)
	_, err := ParseAdviceCSV(strings.NewReader(input), "p", CSVConfig{MaxBytes: 200})
	if gateway.ErrorCode(err) != gateway.ETOOLARGE {
		t.Errorf("err = %v, want too_large", err)
	}
}
