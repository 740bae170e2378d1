package gateway

import (
	"encoding/json"
	"testing"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in       string
		num, den int64
		str      string
		code     string
	}{
		{"0.8%", 1, 125, "0.8%", ""},
		{"1.25%", 1, 80, "1.25%", ""},
		{"1/1500", 1, 1500, "1/1500", ""},
		{"0.008", 1, 125, "0.8%", ""},
		{"15.25%", 61, 400, "15.25%", ""},
		{"14.5%", 29, 200, "14.5%", ""},
		{"100%", 1, 1, "100%", ""},
		{"1", 1, 1, "100%", ""},
		{"0", 0, 1, "0%", ""},
		{"0%", 0, 1, "0%", ""},
		{"2/6000", 1, 3000, "1/3000", ""},
		{"1/3", 1, 3, "1/3", ""},
		{"0.0000001%", 1, 1_000_000_000, "1/1000000000", ""},
		{"0.000001%", 1, 100_000_000, "0.000001%", ""},
		{"110%", 11, 10, "110%", ""},
		{"", 0, 0, "", "required"},
		{"-1%", 0, 0, "", "negative"},
		{"1e-2", 0, 0, "", "malformed"},
		{"1.%", 0, 0, "", "malformed"},
		{".5%", 0, 0, "", "malformed"},
		{"1 %", 0, 0, "", "malformed"},
		{"%", 0, 0, "", "malformed"},
		{"1/0", 0, 0, "", "malformed"},
		{"1/", 0, 0, "", "malformed"},
		{"a/b", 0, 0, "", "malformed"},
		{"1.5/2", 0, 0, "", "malformed"},
		{"0.0000000000000000001", 0, 0, "", "overflow"},
		{"99999999999999999999/1", 0, 0, "", "overflow"},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.in)
		if tt.code != "" {
			if ErrorCode(err) != EINVALID || detailCode(err) != tt.code {
				t.Errorf("ParseRate(%q) = %v, %v; want %s", tt.in, r, err, tt.code)
			}
			continue
		}
		if err != nil || r.Num() != tt.num || r.Den() != tt.den || r.String() != tt.str {
			t.Errorf("ParseRate(%q) = %d/%d %q, %v; want %d/%d %q", tt.in, r.Num(), r.Den(), r.String(), err, tt.num, tt.den, tt.str)
		}
	}
}

func TestRateCmpAdd(t *testing.T) {
	a, b := MustParseRate("0.8%"), MustParseRate("1/125")
	if a.Cmp(b) != 0 || a != b {
		t.Error("0.8% and 1/125 must be equal")
	}
	if MustParseRate("1/1500").Cmp(MustParseRate("1/6000")) != 1 || MustParseRate("1%").Cmp(rateOne) != -1 {
		t.Error("Cmp")
	}
	s, err := MustParseRate("0.8%").Add(MustParseRate("0.8%"))
	if err != nil || s != MustParseRate("1.6%") {
		t.Errorf("Add = %v, %v", s, err)
	}
	if s, _ := MustParseRate("1/3").Add(MustParseRate("1/6")); s != MustParseRate("1/2") {
		t.Errorf("1/3+1/6 = %v", s)
	}
	if _, err := NewRate(1, 0); err == nil {
		t.Error("zero denominator accepted")
	}
	if BasisPoints(125) != MustParseRate("1.25%") {
		t.Error("BasisPoints")
	}
	var zero Rate
	if zero.Den() != 1 || !zero.IsZero() || zero.String() != "0%" {
		t.Error("zero rate")
	}
}

func TestRateJSON(t *testing.T) {
	var v struct {
		R Rate `json:"r"`
	}
	if err := json.Unmarshal([]byte(`{"r":"1.25%"}`), &v); err != nil || v.R != MustParseRate("1/80") {
		t.Fatalf("%v %v", v.R, err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"r":"1.25%"}` {
		t.Errorf("Marshal = %s", b)
	}
	err := json.Unmarshal([]byte(`{"r":0.0125}`), &v)
	if detailCode(err) != "not_a_string" {
		t.Errorf("number accepted: %v", err)
	}
}
