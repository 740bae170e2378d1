package rfref

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
)

// Key identifies one statement: the platform that owes, the scheme, the
// contribution period and the statement's sequence within that period.
// [Generate] maps each Key to one reference and [Parse] maps it back.
type Key struct {
	// Platform is the platform's number, 1 to 2,176,782,335 (36^6 - 1).
	Platform uint64
	// Scheme is the scheme's short reference code: 1 to 4 characters, a
	// letter first, then letters or digits, e.g. "SOCS", "KRIA", "EPF".
	// Case is ignored; Parse returns it upper case.
	Scheme string
	// Period is the contribution period: "2026-10" (month), "2026-Q4"
	// (quarter), "2026-H2" (half year) or "2026" (year), years 1000-9999.
	Period string
	// Seq is 0 for a period's first statement and n for its n-th
	// supplementary statement, at most 1,679,615 (36^4 - 1).
	Seq uint32
}

// Layout of the 20-character base made by Generate, every field fixed width
// so the concatenation is unambiguous:
//
//	SSSS PPPPPP YYYYMM NNNN
//	│    │      │      └ Seq, base 36, zero-padded to 4
//	│    │      └ Period: YYYYMM for a month, YYYYQn, YYYYHn, or YYYY00 for a year
//	│    └ Platform, base 36, zero-padded to 6
//	└ Scheme code, left-padded with '0' to 4 (codes start with a letter)
const (
	schemeWidth   = 4
	platformWidth = 6
	periodWidth   = 6
	seqWidth      = 4
	baseLen       = schemeWidth + platformWidth + periodWidth + seqWidth

	maxPlatform = 36*36*36*36*36*36 - 1
	maxSeq      = 36*36*36*36 - 1
)

// Generate returns the reference for k in electronic format, e.g.
// Key{Platform: 42, Scheme: "SOCS", Period: "2026-10", Seq: 0} gives
// "RF" + check digits + "SOCS000016202610" + "0000".
//
// Generate is deterministic and injective: each field is encoded at a fixed
// width in an alphabet that cannot be confused with padding, so two
// different keys never give the same base, and the check digits are a
// function of the base. A statement store therefore gets unique references
// by keeping (platform, scheme, period, seq) unique; no counter or random
// number is involved, and reissuing a statement reproduces its reference.
func Generate(k Key) (string, error) {
	scheme := strings.ToUpper(k.Scheme)
	if err := checkScheme(scheme); err != nil {
		return "", err
	}
	if k.Platform == 0 || k.Platform > maxPlatform {
		return "", keyInvalid("platform", "must be 1 to %d, got %d", uint64(maxPlatform), k.Platform)
	}
	period, err := encodePeriod(k.Period)
	if err != nil {
		return "", err
	}
	if k.Seq > maxSeq {
		return "", keyInvalid("seq", "must be at most %d, got %d", maxSeq, k.Seq)
	}
	var b strings.Builder
	b.Grow(baseLen)
	pad(&b, scheme, schemeWidth)
	pad(&b, strings.ToUpper(strconv.FormatUint(k.Platform, 36)), platformWidth)
	b.WriteString(period)
	pad(&b, strings.ToUpper(strconv.FormatUint(uint64(k.Seq), 36)), seqWidth)
	return New(b.String())
}

// Parse validates ref (electronic or print format) and returns the Key that
// Generate made it from. A valid RF reference that Generate could not have
// made is an EINVALID error with detail code "not_generated".
func Parse(ref string) (Key, error) {
	s, err := Normalize(ref)
	if err != nil {
		return Key{}, err
	}
	base := s[4:]
	if len(base) != baseLen {
		return Key{}, notGenerated("base has %d characters, want %d", len(base), baseLen)
	}
	scheme := strings.TrimLeft(base[:schemeWidth], "0")
	if checkScheme(scheme) != nil {
		return Key{}, notGenerated("scheme code %q", base[:schemeWidth])
	}
	base = base[schemeWidth:]
	platform, err := strconv.ParseUint(strings.ToLower(base[:platformWidth]), 36, 64)
	if err != nil || platform == 0 {
		return Key{}, notGenerated("platform %q", base[:platformWidth])
	}
	base = base[platformWidth:]
	period, ok := decodePeriod(base[:periodWidth])
	if !ok {
		return Key{}, notGenerated("period %q", base[:periodWidth])
	}
	seq, err := strconv.ParseUint(strings.ToLower(base[periodWidth:]), 36, 32)
	if err != nil {
		return Key{}, notGenerated("sequence %q", base[periodWidth:])
	}
	return Key{Platform: platform, Scheme: scheme, Period: period, Seq: uint32(seq)}, nil
}

func checkScheme(s string) error {
	if len(s) == 0 || len(s) > schemeWidth {
		return keyInvalid("scheme", "code must be 1 to 4 characters, got %q", s)
	}
	if s[0] < 'A' || s[0] > 'Z' {
		return keyInvalid("scheme", "code must start with a letter, got %q", s)
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) && (s[i] < 'A' || s[i] > 'Z') {
			return keyInvalid("scheme", "code must be letters and digits, got %q", s)
		}
	}
	return nil
}

// encodePeriod turns "2026-10", "2026-Q4", "2026-H2" or "2026" into its six
// characters in the base.
func encodePeriod(p string) (string, error) {
	bad := keyInvalid("period", `must be "YYYY-MM", "YYYY-Qn", "YYYY-Hn" or "YYYY", got %q`, p)
	if len(p) < 4 || !allDigits(p[:4]) || p[0] == '0' {
		return "", bad
	}
	year, rest := p[:4], p[4:]
	switch {
	case rest == "":
		return year + "00", nil
	case len(rest) == 3 && rest[0] == '-' && allDigits(rest[1:]) && rest[1:] >= "01" && rest[1:] <= "12":
		return year + rest[1:], nil
	case len(rest) == 3 && rest[:2] == "-Q" && rest[2] >= '1' && rest[2] <= '4':
		return year + rest[1:], nil
	case len(rest) == 3 && rest[:2] == "-H" && rest[2] >= '1' && rest[2] <= '2':
		return year + rest[1:], nil
	default:
		return "", bad
	}
}

func decodePeriod(s string) (string, bool) {
	year, rest := s[:4], s[4:]
	if !allDigits(year) || year[0] == '0' {
		return "", false
	}
	switch {
	case rest == "00":
		return year, true
	case allDigits(rest) && rest >= "01" && rest <= "12":
		return year + "-" + rest, true
	case rest[0] == 'Q' && rest[1] >= '1' && rest[1] <= '4', rest[0] == 'H' && rest[1] >= '1' && rest[1] <= '2':
		return year + "-" + rest, true
	default:
		return "", false
	}
}

func pad(b *strings.Builder, s string, width int) {
	for range width - len(s) {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func keyInvalid(field, format string, args ...any) *gateway.Error {
	e := gateway.Errorf(gateway.EINVALID, "invalid statement key for an RF reference")
	e.Details = []gateway.Detail{{Field: field, Code: "invalid", Message: fmt.Sprintf(format, args...)}}
	return e
}

func notGenerated(format string, args ...any) *gateway.Error {
	e := gateway.Errorf(gateway.EINVALID, "RF reference was not issued by Coverbridge")
	e.Details = []gateway.Detail{{Field: "reference", Code: "not_generated", Message: fmt.Sprintf(format, args...)}}
	return e
}
