package gateway

import (
	"bytes"
	"encoding/json"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Rate is an exact non-negative rational number num/den, kept in lowest
// terms: 0.8% is 1/125, 1.25% is 1/80, "1/1500 per day" is 1/1500. The zero
// Rate is zero. Rates multiply money only through ApplyRate, which rounds with
// a named mode.
type Rate struct {
	num, den int64 // den > 0 and gcd(num, den) == 1, or both zero for the zero Rate
}

// NewRate returns num/den in lowest terms. num must be ≥ 0 and den > 0.
func NewRate(num, den int64) (Rate, error) {
	switch {
	case den <= 0:
		return Rate{}, Invalid("rate", "malformed", "a rate's denominator must be positive")
	case num < 0:
		return Rate{}, Invalid("rate", "negative", "a rate cannot be negative")
	case num == 0:
		return Rate{}, nil
	}
	g := gcd(num, den)
	return Rate{num: num / g, den: den / g}, nil
}

// BasisPoints returns bp/10000 (125 basis points is 1.25%). It panics on a
// negative argument, which is a programming error.
func BasisPoints(bp int64) Rate {
	r, err := NewRate(bp, 10_000)
	if err != nil {
		panic(err)
	}
	return r
}

// ParseRate parses a rate written as a percentage ("0.8%", "15.25%"), a
// fraction ("1/1500") or a decimal ("0.008", "1"). It is exact: no binary
// floating point is involved. Negative rates are rejected.
func ParseRate(s string) (Rate, error) {
	const field = "rate"
	bad := func() (Rate, error) {
		return Rate{}, Invalid(field, "malformed", "rate "+quote(s)+` is not a percentage ("1.25%"), a fraction ("1/1500") or a decimal ("0.008")`)
	}
	if s == "" {
		return Rate{}, Invalid(field, "required", "rate is required")
	}
	if strings.HasPrefix(s, "-") {
		return Rate{}, Invalid(field, "negative", "rate "+quote(s)+" is negative")
	}
	if n, d, ok := strings.Cut(s, "/"); ok {
		if !allDigits(n) || !allDigits(d) || n == "" || d == "" {
			return bad()
		}
		num, err1 := strconv.ParseInt(n, 10, 64)
		den, err2 := strconv.ParseInt(d, 10, 64)
		if err1 != nil || err2 != nil {
			return Rate{}, Invalid(field, "overflow", "rate "+quote(s)+" is too large")
		}
		if den == 0 {
			return Rate{}, Invalid(field, "malformed", "rate "+quote(s)+" divides by zero")
		}
		return NewRate(num, den)
	}
	body, percent := strings.CutSuffix(s, "%")
	intPart, frac, dot := strings.Cut(body, ".")
	if intPart == "" || (dot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return bad()
	}
	digits := intPart + frac
	den := int64(1)
	scale := len(frac)
	if percent {
		scale += 2
	}
	if scale >= len(pow10) || len(strings.TrimLeft(digits, "0")) > 18 {
		return Rate{}, Invalid(field, "overflow", "rate "+quote(s)+" has too many digits")
	}
	den = pow10[scale]
	num, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return Rate{}, Invalid(field, "overflow", "rate "+quote(s)+" has too many digits")
	}
	return NewRate(num, den)
}

// MustParseRate is ParseRate for constants; it panics on error.
func MustParseRate(s string) Rate {
	r, err := ParseRate(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Num returns the numerator in lowest terms.
func (r Rate) Num() int64 { return r.num }

// Den returns the denominator in lowest terms (1 for the zero Rate).
func (r Rate) Den() int64 {
	if r.den == 0 {
		return 1
	}
	return r.den
}

// IsZero reports whether r is zero.
func (r Rate) IsZero() bool { return r.num == 0 }

// Cmp compares r and o exactly: -1, 0 or +1.
func (r Rate) Cmp(o Rate) int {
	// r.num/r.den vs o.num/o.den  ⇔  r.num*o.den vs o.num*r.den, in 128 bits.
	ah, al := bits.Mul64(uint64(r.num), uint64(o.Den()))
	bh, bl := bits.Mul64(uint64(o.num), uint64(r.Den()))
	switch {
	case ah < bh || (ah == bh && al < bl):
		return -1
	case ah == bh && al == bl:
		return 0
	default:
		return 1
	}
}

// Add returns r + o, or an error if the exact sum does not fit in int64 terms.
func (r Rate) Add(o Rate) (Rate, error) {
	if r.IsZero() {
		return o, nil
	}
	if o.IsZero() {
		return r, nil
	}
	g := gcd(r.den, o.den)
	rd := r.den / g // lcm = rd * o.den
	den, ok1 := mulInt64(rd, o.den)
	n1, ok2 := mulInt64(r.num, o.den/g)
	n2, ok3 := mulInt64(o.num, rd)
	num, ok4 := addInt64(n1, n2)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return Rate{}, Invalid("rate", "overflow", "sum of rates "+r.String()+" and "+o.String()+" is too large to keep exact")
	}
	return NewRate(num, den)
}

// rateOne is the rate 1 (100%).
var rateOne = Rate{num: 1, den: 1}

// String writes r as a percentage when that is exact with at most six
// decimals ("1.25%", "0.8%", "100%"), otherwise as a fraction ("1/1500").
func (r Rate) String() string {
	if r.num == 0 {
		return "0%"
	}
	// r × 100 × 10^k must be an integer for some k ≤ 6.
	for k := 0; k <= 6; k++ {
		scale := pow10[k+2]
		hi, lo := bits.Mul64(uint64(r.num), uint64(scale))
		if hi >= uint64(r.den) {
			break
		}
		q, rem := bits.Div64(hi, lo, uint64(r.den))
		if rem != 0 {
			continue
		}
		if q > math.MaxInt64 {
			break
		}
		m := Money{Amount: int64(q)}
		var b [32]byte
		d := m.appendDecimalExp(b[:0], k)
		return string(d) + "%"
	}
	return strconv.FormatInt(r.num, 10) + "/" + strconv.FormatInt(r.den, 10)
}

// MarshalJSON writes the rate as a JSON string in the form String gives.
func (r Rate) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, r.String()), nil
}

// UnmarshalJSON reads a JSON string in any form ParseRate accepts. A JSON
// number is rejected: rates are written as strings so they stay exact.
func (r *Rate) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	if len(data) == 0 || data[0] != '"' {
		return Invalid("rate", "not_a_string", `rates are strings such as "1.25%" or "1/1500", not JSON numbers`)
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return Invalid("rate", "malformed", "rate is not a valid JSON string")
	}
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	if a < 0 {
		return -a
	}
	return a
}
