package gateway

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestLookupCurrency(t *testing.T) {
	for code, exp := range map[string]int{"KRW": 0, "CLP": 0, "JPY": 0, "VND": 0, "MYR": 2, "CNY": 2, "INR": 2, "SGD": 2, "EUR": 2, "IDR": 2, "KWD": 3} {
		c, err := LookupCurrency(code)
		if err != nil {
			t.Fatalf("LookupCurrency(%q): %v", code, err)
		}
		if c.Exponent() != exp {
			t.Errorf("%s exponent = %d, want %d", code, c.Exponent(), exp)
		}
	}
	for _, code := range []string{"", "myr", "XXX", "MYRR"} {
		if _, err := LookupCurrency(code); ErrorCode(err) != EINVALID {
			t.Errorf("LookupCurrency(%q) = %v, want EINVALID", code, err)
		}
	}
	if Currency("ZZZ").Exponent() != -1 {
		t.Error("unknown currency exponent should be -1")
	}
}

func detailCode(err error) string {
	var e *Error
	if errors.As(err, &e) && len(e.Details) > 0 {
		return e.Details[0].Code
	}
	return ""
}

func TestParseMoney(t *testing.T) {
	tests := []struct {
		cur, in string
		want    int64
		code    string // detail code when the input is rejected
		str     string // String() of the result, when different from in
	}{
		{"MYR", "13.10", 1310, "", ""},
		{"MYR", "-0.5", -50, "", "-0.50"},
		{"MYR", "0.05", 5, "", ""},
		{"MYR", "-0.05", -5, "", ""},
		{"MYR", "1500", 150000, "", "1500.00"},
		{"MYR", "0", 0, "", "0.00"},
		{"MYR", "-0", 0, "", "0.00"},
		{"MYR", "007.1", 710, "", "7.10"},
		{"KRW", "1500", 1500, "", ""},
		{"KRW", "-800000", -800000, "", ""},
		{"KWD", "1.234", 1234, "", ""},
		{"KRW", "92233720368547758.07", 0, "too_many_decimals", ""},
		{"MYR", "92233720368547758.07", math.MaxInt64, "", ""},
		{"MYR", "-92233720368547758.08", math.MinInt64, "", ""},
		{"MYR", "92233720368547758.08", 0, "overflow", ""},
		{"KRW", "9223372036854775808", 0, "overflow", ""},
		{"KRW", "-9223372036854775808", math.MinInt64, "", ""},
		{"KRW", "99999999999999999999999", 0, "overflow", ""},
		{"MYR", "13.105", 0, "too_many_decimals", ""},
		{"KRW", "1500.0", 0, "too_many_decimals", ""},
		{"MYR", "", 0, "required", ""},
		{"MYR", "1e3", 0, "malformed", ""},
		{"MYR", "1.5e1", 0, "malformed", ""},
		{"MYR", " 1.50", 0, "malformed", ""},
		{"MYR", "1.50 ", 0, "malformed", ""},
		{"MYR", "+1.50", 0, "malformed", ""},
		{"MYR", ".5", 0, "malformed", ""},
		{"MYR", "5.", 0, "malformed", ""},
		{"MYR", "-", 0, "malformed", ""},
		{"MYR", "--1", 0, "malformed", ""},
		{"MYR", "1,50", 0, "malformed", ""},
		{"MYR", "NaN", 0, "malformed", ""},
		{"MYR", "Inf", 0, "malformed", ""},
		{"MYR", "0x10", 0, "malformed", ""},
		{"MYR", "1_000", 0, "malformed", ""},
		{"MYR", "١٢", 0, "malformed", ""},
		{"XXX", "1", 0, "unknown_currency", ""},
		{"", "1", 0, "required", ""},
	}
	for _, tt := range tests {
		m, err := ParseMoney(tt.cur, tt.in)
		if tt.code != "" {
			if ErrorCode(err) != EINVALID || detailCode(err) != tt.code {
				t.Errorf("ParseMoney(%q, %q) = %v, %v; want EINVALID %s", tt.cur, tt.in, m, err, tt.code)
			}
			continue
		}
		if err != nil || m.Amount != tt.want || string(m.Currency) != tt.cur {
			t.Errorf("ParseMoney(%q, %q) = %+v, %v; want %d", tt.cur, tt.in, m, err, tt.want)
			continue
		}
		want := tt.in
		if tt.str != "" {
			want = tt.str
		}
		if m.String() != want {
			t.Errorf("ParseMoney(%q, %q).String() = %q, want %q", tt.cur, tt.in, m.String(), want)
		}
	}
}

func TestMoneyStringRoundTrip(t *testing.T) {
	for _, cur := range []Currency{"KRW", "MYR", "KWD", "CLF"} {
		for _, a := range []int64{0, 1, -1, 9, -9, 10, 99, 100, -100, 12345, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
			m := Money{Amount: a, Currency: cur}
			back, err := ParseMoney(string(cur), m.String())
			if err != nil || back != m {
				t.Errorf("%d %s: String %q parses to %+v, %v", a, cur, m.String(), back, err)
			}
		}
	}
}

func TestMoneyArithmetic(t *testing.T) {
	myr := func(a int64) Money { return Money{a, "MYR"} }
	if s, err := myr(1310).Add(myr(-1940)); err != nil || s != myr(-630) {
		t.Errorf("Add = %v, %v", s, err)
	}
	if s, err := myr(1310).Sub(myr(1940)); err != nil || s != myr(-630) {
		t.Errorf("Sub = %v, %v", s, err)
	}
	if s, err := (Money{}).Add(myr(5)); err != nil || s != myr(5) {
		t.Errorf("zero Add = %v, %v", s, err)
	}
	if s, err := myr(5).Sub(Money{}); err != nil || s != myr(5) {
		t.Errorf("Sub zero = %v, %v", s, err)
	}
	if s, err := myr(1310).Mul(12); err != nil || s != myr(15720) {
		t.Errorf("Mul = %v, %v", s, err)
	}
	if s, err := myr(1310).Neg(); err != nil || s != myr(-1310) {
		t.Errorf("Neg = %v, %v", s, err)
	}
	fails := []struct {
		name string
		err  error
		code string
	}{
		{"add mixed", second(myr(1).Add(Money{1, "KRW"})), "currency_mismatch"},
		{"sub mixed", second(myr(1).Sub(Money{1, "KRW"})), "currency_mismatch"},
		{"add overflow", second(myr(math.MaxInt64).Add(myr(1))), ""},
		{"add underflow", second(myr(math.MinInt64).Add(myr(-1))), ""},
		{"sub overflow", second(myr(math.MaxInt64).Sub(myr(-1))), ""},
		{"sub underflow", second(myr(math.MinInt64).Sub(myr(1))), ""},
		{"neg min", second(myr(math.MinInt64).Neg()), ""},
		{"mul overflow", second(myr(math.MaxInt64/2 + 1).Mul(2)), ""},
		{"mul min by -1", second(myr(math.MinInt64).Mul(-1)), ""},
		{"mul -1 by min", second(myr(-1).Mul(math.MinInt64)), ""},
	}
	for _, f := range fails {
		if ErrorCode(f.err) != EINVALID || detailCode(f.err) != f.code {
			t.Errorf("%s: err = %v, want EINVALID %q", f.name, f.err, f.code)
		}
	}
	if _, err := myr(math.MinInt64).Add(myr(math.MaxInt64)); err != nil {
		t.Errorf("min+max: %v", err)
	}
	if _, err := myr(math.MinInt64 / 2).Mul(2); err != nil {
		t.Errorf("min/2*2: %v", err)
	}
}

func second(_ Money, err error) error { return err }

func TestMoneyPredicates(t *testing.T) {
	a, b := Money{5, "MYR"}, Money{7, "MYR"}
	if a.Cmp(b) != -1 || b.Cmp(a) != 1 || a.Cmp(a) != 0 {
		t.Error("Cmp")
	}
	if (Money{5, "KRW"}).Cmp(Money{1, "MYR"}) != -1 {
		t.Error("Cmp orders currencies first")
	}
	if !(Money{}).IsZero() || a.IsZero() || !(Money{-1, "MYR"}).IsNegative() || a.IsNegative() {
		t.Error("IsZero/IsNegative")
	}
}

func TestMoneyJSON(t *testing.T) {
	m := Money{2350, "MYR"}
	b, err := json.Marshal(m)
	if err != nil || string(b) != `{"currency":"MYR","value":"23.50"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back Money
	if err := json.Unmarshal(b, &back); err != nil || back != m {
		t.Fatalf("Unmarshal = %+v, %v", back, err)
	}
	var inStruct struct {
		Gross Money `json:"gross"`
	}
	if err := json.Unmarshal([]byte(`{"gross":{"value":"-800000","currency":"KRW"}}`), &inStruct); err != nil || inStruct.Gross != (Money{-800000, "KRW"}) {
		t.Fatalf("nested = %+v, %v", inStruct.Gross, err)
	}
	bad := []struct{ in, code, msg string }{
		{`{"currency":"MYR","value":23.50}`, "not_a_string", "decimal strings"},
		{`{"currency":"MYR","value":2350}`, "not_a_string", "decimal strings"},
		{`{"currency":"MYR","value":"23.505"}`, "too_many_decimals", ""},
		{`{"currency":"MYR","value":"2.3e1"}`, "malformed", ""},
		{`{"currency":"MYR"}`, "required", ""},
		{`{"value":"1"}`, "required", ""},
		{`{"currency":"ZZZ","value":"1"}`, "unknown_currency", ""},
		{`"23.50"`, "malformed", ""},
		{`[1]`, "malformed", ""},
	}
	for _, tt := range bad {
		var got Money
		err := json.Unmarshal([]byte(tt.in), &got)
		if ErrorCode(err) != EINVALID || detailCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Unmarshal(%s) = %v, want %s", tt.in, err, tt.code)
		}
	}
	var n Money
	if err := json.Unmarshal([]byte(`null`), &n); err != nil || n != (Money{}) {
		t.Errorf("null: %+v %v", n, err)
	}
}
