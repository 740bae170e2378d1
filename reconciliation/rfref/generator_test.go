package rfref

import (
	"errors"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		key  Key
		base string
	}{
		{Key{Platform: 42, Scheme: "SOCS", Period: "2026-10"}, "SOCS000016202610" + "0000"},
		{Key{Platform: 42, Scheme: "socs", Period: "2026-10", Seq: 1}, "SOCS000016202610" + "0001"},
		{Key{Platform: 1, Scheme: "KR", Period: "2026-Q4", Seq: 36}, "00KR0000012026Q4" + "0010"},
		{Key{Platform: maxPlatform, Scheme: "EPF", Period: "2027-H1", Seq: maxSeq}, "0EPFZZZZZZ2027H1" + "ZZZZ"},
		{Key{Platform: 7, Scheme: "S", Period: "2026"}, "000S000007202600" + "0000"},
	}
	for _, tt := range tests {
		ref, err := Generate(tt.key)
		if err != nil {
			t.Errorf("Generate(%+v) error: %v", tt.key, err)
			continue
		}
		want, _ := New(tt.base)
		if ref != want {
			t.Errorf("Generate(%+v) = %q, want %q", tt.key, ref, want)
		}
		if len(ref) != 24 {
			t.Errorf("Generate(%+v) = %q has %d characters, want 24", tt.key, ref, len(ref))
		}
		got, err := Parse(Format(ref))
		if err != nil {
			t.Errorf("Parse(%q) error: %v", ref, err)
			continue
		}
		k := tt.key
		k.Scheme = upper(k.Scheme)
		if got != k {
			t.Errorf("Parse(Generate(%+v)) = %+v", tt.key, got)
		}
	}
}

func TestGenerateDistinct(t *testing.T) {
	// Keys that a naive concatenation would confuse.
	keys := []Key{
		{Platform: 1, Scheme: "A", Period: "2026-01"},
		{Platform: 1, Scheme: "A1", Period: "2026-01"},
		{Platform: 11, Scheme: "A", Period: "2026-01"},
		{Platform: 1, Scheme: "A", Period: "2026-01", Seq: 1},
		{Platform: 1, Scheme: "A", Period: "2026-Q1"},
		{Platform: 1, Scheme: "A", Period: "2026-H1"},
		{Platform: 1, Scheme: "A", Period: "2026"},
		{Platform: 36, Scheme: "A", Period: "2026-01"},
	}
	seen := map[string]Key{}
	for _, k := range keys {
		ref, err := Generate(k)
		if err != nil {
			t.Fatalf("Generate(%+v): %v", k, err)
		}
		if prev, dup := seen[ref]; dup {
			t.Fatalf("Generate(%+v) = Generate(%+v) = %q", k, prev, ref)
		}
		seen[ref] = k
	}
}

func TestGenerateRejects(t *testing.T) {
	tests := []struct {
		key   Key
		field string
	}{
		{Key{Platform: 0, Scheme: "SOCS", Period: "2026-10"}, "platform"},
		{Key{Platform: maxPlatform + 1, Scheme: "SOCS", Period: "2026-10"}, "platform"},
		{Key{Platform: 1, Scheme: "", Period: "2026-10"}, "scheme"},
		{Key{Platform: 1, Scheme: "SOCSO", Period: "2026-10"}, "scheme"},
		{Key{Platform: 1, Scheme: "1KR", Period: "2026-10"}, "scheme"},
		{Key{Platform: 1, Scheme: "K-R", Period: "2026-10"}, "scheme"},
		{Key{Platform: 1, Scheme: "KR", Period: "2026-13"}, "period"},
		{Key{Platform: 1, Scheme: "KR", Period: "2026-00"}, "period"},
		{Key{Platform: 1, Scheme: "KR", Period: "2026-Q5"}, "period"},
		{Key{Platform: 1, Scheme: "KR", Period: "2026-H3"}, "period"},
		{Key{Platform: 1, Scheme: "KR", Period: "26-10"}, "period"},
		{Key{Platform: 1, Scheme: "KR", Period: "0999"}, "period"},
		{Key{Platform: 1, Scheme: "KR", Period: "2026/10"}, "period"},
		{Key{Platform: 1, Scheme: "KR", Period: "2026-10", Seq: maxSeq + 1}, "seq"},
	}
	for _, tt := range tests {
		_, err := Generate(tt.key)
		e, ok := err.(interface{ Error() string })
		if !ok || err == nil {
			t.Errorf("Generate(%+v) accepted", tt.key)
			continue
		}
		if ge := asGateway(err); ge == nil || ge.Details[0].Field != tt.field {
			t.Errorf("Generate(%+v) = %v, want detail on %s", tt.key, e, tt.field)
		}
	}
}

func TestParseRejects(t *testing.T) {
	foreign := []string{
		"RF18539007547034",                    // valid, but not our layout
		mustNew(t, "SOCS00001620261300"+"00"), // month 13
		mustNew(t, "SOCS00000020261000"+"00"), // platform 0
		mustNew(t, "1OCS00001620261000"+"00"), // scheme starts with a digit
		mustNew(t, "SOCS0000162026Q500"+"00"), // quarter 5
		mustNew(t, "SOCS0000160999100000"),    // year 0999
	}
	for _, ref := range foreign {
		_, err := Parse(ref)
		ge := asGateway(err)
		if ge == nil || ge.Details[0].Code != "not_generated" {
			t.Errorf("Parse(%q) = %v, want not_generated", ref, err)
		}
	}
	if _, err := Parse("RF17539007547034"); asGateway(err) == nil || asGateway(err).Details[0].Code != "check_digits" {
		t.Errorf("Parse of a bad check digit = %v", err)
	}
}

func FuzzGenerate(f *testing.F) {
	f.Add(uint64(42), "SOCS", "2026-10", uint32(0))
	f.Add(uint64(1), "k", "2026-Q4", uint32(99))
	f.Add(uint64(maxPlatform), "EPF", "2027", uint32(maxSeq))
	f.Fuzz(func(t *testing.T, platform uint64, scheme, period string, seq uint32) {
		k := Key{Platform: platform, Scheme: scheme, Period: period, Seq: seq}
		ref, err := Generate(k)
		if err != nil {
			return
		}
		if err := Validate(ref); err != nil {
			t.Fatalf("Generate(%+v) = %q, invalid: %v", k, ref, err)
		}
		got, err := Parse(ref)
		k.Scheme = upper(k.Scheme)
		if err != nil || got != k {
			t.Fatalf("Parse(Generate(%+v)) = %+v, %v", k, got, err)
		}
	})
}

func mustNew(t *testing.T, base string) string {
	t.Helper()
	ref, err := New(base)
	if err != nil {
		t.Fatalf("New(%q): %v", base, err)
	}
	return ref
}

func upper(s string) string { return strings.ToUpper(s) }

func asGateway(err error) *gateway.Error {
	var e *gateway.Error
	if errors.As(err, &e) && len(e.Details) > 0 {
		return e
	}
	return nil
}
