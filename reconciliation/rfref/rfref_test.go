package rfref

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

func TestNew(t *testing.T) {
	tests := []struct {
		base string
		want string
	}{
		// ISO 11649 example and its leading-zero form (zeros do not change mod 97).
		{"539007547034", "RF18539007547034"},
		{"000000000539007547034", "RF18000000000539007547034"},
		{"5390075470Y", "RF185390075470Y"}, // python-stdnum's example with a letter
		{"5390075470y", "RF185390075470Y"}, // case is ignored
		{"12345678", "RF2012345678"},       // the SEPA remittance example
		{"1", "RF741"},
		{"A", "RF25A"},
		{"ZZZZZZZZZZZZZZZZZZZZZ", "RF09ZZZZZZZZZZZZZZZZZZZZZ"},
	}
	for _, tt := range tests {
		got, err := New(tt.base)
		if err != nil {
			t.Errorf("New(%q) error: %v", tt.base, err)
			continue
		}
		if got != tt.want {
			t.Errorf("New(%q) = %q, want %q", tt.base, got, tt.want)
		}
		if got != "RF"+referenceCheck(t, strings.ToUpper(tt.base))+strings.ToUpper(tt.base) {
			t.Errorf("New(%q) = %q disagrees with math/big", tt.base, got)
		}
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		base string
		code string
	}{
		{"", "length"},
		{"1234567890123456789012", "length"},
		{"12 34", "character"},
		{"12-34", "character"},
		{"ÄB", "character"},
	}
	for _, tt := range tests {
		_, err := New(tt.base)
		assertDetail(t, "New("+tt.base+")", err, tt.code)
	}
}

func TestValidate(t *testing.T) {
	valid := []string{
		"RF18539007547034",
		"RF18 5390 0754 7034",
		"rf18 5390 0754 7034",
		"RF18000000000539007547034",
		"RF18 0000 0000 0539 0075 4703 4",
		"RF185390075470Y",
		"RF18 5390 0754 70Y",
	}
	for _, ref := range valid {
		if err := Validate(ref); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", ref, err)
		}
	}
	invalid := []struct {
		ref  string
		code string
	}{
		{"RF17539007547034", "check_digits"},     // wrong check digits
		{"RF18 5390 0754 7043", "check_digits"},  // transposed digits
		{"RF18539007547035", "check_digits"},     // one digit changed
		{"RF1", "length"},                        // too short
		{"RF18", "length"},                       // no base
		{"RF180000000005390075470340", "length"}, // 26 characters
		{"XX18539007547034", "prefix"},
		{"RFAB539007547034", "check_digits"},
		{"RF18-5390-0754-7034", "character"},
		{"RF185390 07547034", "format"},    // space not after a group of four
		{"RF18  5390 0754 7034", "format"}, // double space
		{" RF18 5390 0754 7034", "format"}, // leading space
		{"RF18 5390 0754 7034 ", "format"}, // trailing space
		{"RF18 53900 754 7034", "format"},  // group of five
		{"", "length"},
	}
	for _, tt := range invalid {
		assertDetail(t, "Validate("+tt.ref+")", Validate(tt.ref), tt.code)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"RF18539007547034", "RF18 5390 0754 7034"},
		{"rf18539007547034", "RF18 5390 0754 7034"},
		{"RF18 5390 0754 7034", "RF18 5390 0754 7034"},
		{"RF185390075470Y", "RF18 5390 0754 70Y"},
		{"RF741", "RF74 1"},
		{"RF18000000000539007547034", "RF18 0000 0000 0539 0075 4703 4"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Format(tt.in); got != tt.want {
			t.Errorf("Format(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	got, err := Normalize("rf18 5390 0754 7034")
	if err != nil || got != "RF18539007547034" {
		t.Fatalf("Normalize = %q, %v", got, err)
	}
}

func FuzzReference(f *testing.F) {
	for _, s := range []string{"539007547034", "5390075470Y", "A", "ZZZZZZZZZZZZZZZZZZZZZ", "RF18 5390 0754 7034", "rf18539007547034", " ", "RF00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Validate never panics, and a reference it accepts is stable
		// under Normalize and Format.
		if n, err := Normalize(s); err == nil {
			if n2, err := Normalize(Format(n)); err != nil || n2 != n {
				t.Fatalf("Normalize(Format(%q)) = %q, %v", n, n2, err)
			}
			if got := referenceCheck(t, n[4:]); got != n[2:4] {
				t.Fatalf("Normalize accepted %q, math/big says check digits %s", s, got)
			}
		} else if gateway.ErrorCode(err) != gateway.EINVALID {
			t.Fatalf("Normalize(%q) error code %q", s, gateway.ErrorCode(err))
		}
		// Any base New accepts gives a valid reference that carries it.
		ref, err := New(s)
		if err != nil {
			return
		}
		if err := Validate(ref); err != nil {
			t.Fatalf("Validate(New(%q) = %q) = %v", s, ref, err)
		}
		if ref[4:] != strings.ToUpper(s) {
			t.Fatalf("New(%q) = %q does not end with the base", s, ref)
		}
		// Any change of one character is caught (MOD 97-10 detects all
		// single substitutions).
		b := []byte(ref)
		i := 2 + len(s)%(len(b)-2)
		if b[i] == '9' {
			b[i] = '0'
		} else if b[i] == 'Z' {
			b[i] = 'A'
		} else {
			b[i]++
		}
		if Validate(string(b)) == nil {
			t.Fatalf("Validate accepted %q, one change from %q", b, ref)
		}
	})
}

// referenceCheck computes the check digits for base independently, with
// math/big over the digit string of base + "RF00".
func referenceCheck(t testing.TB, base string) string {
	t.Helper()
	var digits strings.Builder
	for _, c := range base + "RF00" {
		if c >= 'A' && c <= 'Z' {
			digits.WriteString(big.NewInt(int64(c - 'A' + 10)).String())
		} else {
			digits.WriteRune(c)
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	if !ok {
		t.Fatalf("bad digits %q", digits.String())
	}
	cd := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return string([]byte{byte('0' + cd/10), byte('0' + cd%10)})
}

func assertDetail(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *gateway.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %v, want *gateway.Error", what, err)
		return
	}
	if e.Code != gateway.EINVALID || len(e.Details) != 1 || e.Details[0].Code != code {
		t.Errorf("%s: error %#v, want EINVALID with detail code %q", what, e, code)
	}
}
