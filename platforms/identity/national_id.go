package identity

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRawLen bounds the input looked at. The longest number is 18 characters;
// the rest is room for separators.
const maxRawLen = 64

// Birth years outside this span are rejected everywhere. It is the span that
// every supported scheme can encode (two-digit years with a century marker),
// applied also to China's four-digit year so that a typo such as year 0199
// is caught.
const (
	minBirthYear = 1800
	maxBirthYear = 2099
)

// scheme validates one country's number. check receives the canonical form
// (ASCII digits and upper-case letters only, not empty) and returns the number
// as it is stored and keyed.
type scheme struct {
	check         func(id string) (string, error)
	badCharacters string // message when the input holds something other than separators, digits and letters
	badLength     string // message when the input is far too long to be a number
}

var schemes = map[string]scheme{
	"BE": belgium,
	"CL": chile,
	"CN": china,
	"IN": india,
	"KR": korea,
	"MY": malaysia,
	"SG": singapore,
}

var unsupportedCountry = "national IDs are supported only for the countries " + strings.Join(Countries(), ", ")

// Countries returns the ISO 3166-1 alpha-2 codes of the supported countries,
// sorted.
func Countries() []string {
	cs := make([]string, 0, len(schemes))
	for c := range schemes {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// Normalize returns the canonical form of a national ID from country, or an
// error saying why it is not a valid number.
//
// country is an ISO 3166-1 alpha-2 code, matched without regard to ASCII case.
// The canonical form is what remains of raw after removing white space,
// dashes, dots and invisible formatting characters, folding full-width forms
// to ASCII and upper-casing ASCII letters; for Chile, leading zeros of the
// RUT are also dropped. Normalize(country, Normalize(country, raw)) returns
// the same value.
//
// Errors are *gateway.Error values (code gateway.EINVALID) with one detail
// naming Field and one of the Code constants. Their text never contains raw.
func Normalize(country, raw string) (string, error) {
	s, ok := schemes[upperASCII(country)]
	if !ok {
		return "", invalid(CodeUnsupportedCountry, unsupportedCountry)
	}
	if len(raw) > maxRawLen {
		return "", invalid(CodeBadLength, s.badLength)
	}
	id, ok := canonical(raw)
	if !ok {
		return "", invalid(CodeBadCharacters, s.badCharacters)
	}
	if id == "" {
		return "", invalid(CodeRequired, "is required")
	}
	return s.check(id)
}

// Validate reports whether raw is a valid national ID from country; it
// returns the error Normalize would.
func Validate(country, raw string) error {
	_, err := Normalize(country, raw)
	return err
}

// canonical removes separators and folds raw to ASCII upper case. It reports
// false when raw holds anything other than separators, ASCII letters and
// digits (or their full-width forms); the string is then still returned,
// with the other characters kept, for Mask.
func canonical(raw string) (string, bool) {
	buf := make([]byte, 0, len(raw))
	ok := true
	for _, r := range raw {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII, as typed with CJK input methods
			r -= 0xFEE0
		}
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			buf = append(buf, byte(r))
		case r >= 'a' && r <= 'z':
			buf = append(buf, byte(r-'a'+'A'))
		case isSeparator(r):
		default:
			ok = false
			buf = utf8.AppendRune(buf, r)
		}
	}
	return string(buf), ok
}

// isSeparator reports whether r is dropped from a number: white space, any
// dash, the minus sign, a dot, and invisible formatting characters such as
// zero-width spaces and byte-order marks that come with copied text.
func isSeparator(r rune) bool {
	switch {
	case r == '.', r == '-', r == '\u2212':
		return true
	case unicode.IsSpace(r), unicode.Is(unicode.Pd, r), unicode.Is(unicode.Cf, r):
		return true
	}
	return false
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// allDigits reports whether s is made of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi converts a string of ASCII digits, already checked, to an int.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// validDate reports whether y-m-d is a calendar date with a year in the
// supported span.
func validDate(y, m, d int) bool {
	if y < minBirthYear || y > maxBirthYear || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
