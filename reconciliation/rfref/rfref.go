// Package rfref makes and checks ISO 11649 structured creditor references
// ("RF references"), the payment reference printed on every statement.
//
// A reference is "RF", two check digits and a base of 1 to 21 characters
// from A-Z and 0-9. The check digits are ISO 7064 MOD 97-10, as for an
// IBAN: the base followed by "RF00", with letters replaced by two-digit
// numbers (A=10 … Z=35), taken mod 97 and subtracted from 98. A reference
// is valid when the base followed by "RF" and the check digits is 1 mod 97.
//
// References are stored and compared in electronic format (upper case, no
// spaces, e.g. "RF18539007547034") and printed in groups of four
// ("RF18 5390 0754 7034"). [Validate] and [Normalize] accept either.
package rfref

import (
	"fmt"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
)

// Limits of the format.
const (
	MaxBaseLen = 21 // characters after "RF" and the check digits
	MaxLen     = 25 // whole reference in electronic format
	MinLen     = 5  // "RF", two check digits and one character
)

// New returns the electronic-format reference for base: "RF", the two check
// digits and base in upper case. base may be in either case but must be 1 to
// 21 characters from A-Z, a-z and 0-9; otherwise New returns an EINVALID
// *gateway.Error.
func New(base string) (string, error) {
	b := strings.ToUpper(base)
	if err := checkBase(b); err != nil {
		return "", err
	}
	// base + "RF00": R=27, F=15.
	r := mod97(b, 0)
	r = mod97("RF00", r)
	cd := 98 - r
	return "RF" + string(rune('0'+cd/10)) + string(rune('0'+cd%10)) + b, nil
}

// Validate reports whether ref is a valid RF reference, in electronic or
// print format, in any case. The error is an EINVALID *gateway.Error whose
// detail says what is wrong.
func Validate(ref string) error {
	_, err := Normalize(ref)
	return err
}

// Normalize validates ref and returns it in electronic format: upper case
// without spaces. Spaces are accepted only as the separators of the print
// format, a single space after every group of four characters.
func Normalize(ref string) (string, error) {
	s, err := compact(ref)
	if err != nil {
		return "", err
	}
	if len(s) < MinLen || len(s) > MaxLen {
		return "", invalid("length", "must be 5 to 25 characters without spaces, got %d", len(s))
	}
	if s[:2] != "RF" {
		return "", invalid("prefix", "must start with RF")
	}
	if !isDigit(s[2]) || !isDigit(s[3]) {
		return "", invalid("check_digits", "characters 3 and 4 must be digits")
	}
	if err := checkBase(s[4:]); err != nil {
		return "", err
	}
	// Rearranged: base, then "RF" and the check digits, must be 1 mod 97.
	if mod97(s[:4], mod97(s[4:], 0)) != 1 {
		return "", invalid("check_digits", "check digits %s do not match the reference", s[2:4])
	}
	return s, nil
}

// Format returns ref in print format: upper case, in groups of four
// characters separated by one space, the last group possibly shorter.
// Format does not validate; it strips all spaces from ref first.
func Format(ref string) string {
	s := strings.ToUpper(strings.ReplaceAll(ref, " ", ""))
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// compact removes the separators of the print format and upper-cases ref.
// It rejects spaces anywhere but after a complete group of four.
func compact(ref string) (string, error) {
	if !strings.Contains(ref, " ") {
		return strings.ToUpper(ref), nil
	}
	groups := strings.Split(ref, " ")
	for i, g := range groups {
		last := i == len(groups)-1
		if len(g) == 0 || len(g) > 4 || (!last && len(g) != 4) {
			return "", invalid("format", "spaces must separate groups of four characters")
		}
	}
	return strings.ToUpper(strings.Join(groups, "")), nil
}

// checkBase checks an upper-case base.
func checkBase(b string) error {
	if len(b) == 0 || len(b) > MaxBaseLen {
		return invalid("length", "reference base must be 1 to 21 characters, got %d", len(b))
	}
	for i := 0; i < len(b); i++ {
		if !isDigit(b[i]) && (b[i] < 'A' || b[i] > 'Z') {
			return invalid("character", "character %q at position %d is not A-Z or 0-9", b[i], i+1)
		}
	}
	return nil
}

// mod97 continues a MOD 97 computation with r as the remainder so far over
// the upper-case alphanumeric string s, letters counting as two digits.
func mod97(s string, r int) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func invalid(code, format string, args ...any) *gateway.Error {
	e := gateway.Errorf(gateway.EINVALID, "invalid RF creditor reference")
	e.Details = []gateway.Detail{{Field: "reference", Code: code, Message: fmt.Sprintf(format, args...)}}
	return e
}
