package gateway

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// Money is an exact amount: Amount minor units (sen, fen, paise; whole won
// for KRW) of Currency. It never holds a fraction of a minor unit.
//
// The zero Money (no currency, amount 0) means "nothing": Add and Sub accept it
// with any currency and the result takes the other operand's currency.
type Money struct {
	Amount   int64
	Currency Currency
}

// NewMoney returns amount minor units of currency c.
func NewMoney(amount int64, c Currency) Money { return Money{Amount: amount, Currency: c} }

// ParseMoney parses an exact decimal string such as "13.10", "-0.5" or
// "1500" in the given currency. It accepts an optional leading minus sign,
// digits, and an optional decimal point followed by at most the currency's
// number of minor-unit digits. Exponents, spaces, a plus sign, a leading or
// trailing decimal point, and amounts beyond int64 minor units are rejected
// with an EINVALID error on field "value" (or "currency").
func ParseMoney(currency, value string) (Money, error) {
	c, err := LookupCurrency(currency)
	if err != nil {
		return Money{}, err
	}
	amt, err := parseDecimal(value, c.Exponent())
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: amt, Currency: c}, nil
}

// MustParseMoney is ParseMoney for constants in tests and examples; it panics
// on error.
func MustParseMoney(currency, value string) Money {
	m, err := ParseMoney(currency, value)
	if err != nil {
		panic(err)
	}
	return m
}

// parseDecimal parses value into an integer scaled by 10^exp, exactly.
func parseDecimal(value string, exp int) (int64, error) {
	const field = "value"
	if value == "" {
		return 0, Invalid(field, "required", "amount is required")
	}
	s := value
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	intPart, frac := s, ""
	dot := false
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac, dot = s[:i], s[i+1:], true
			break
		}
	}
	if intPart == "" || (dot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return 0, Invalid(field, "malformed", "amount "+quote(value)+" is not a decimal number like \"13.10\" (digits, optional '-' and '.', no exponent or spaces)")
	}
	if len(frac) > exp {
		return 0, Invalid(field, "too_many_decimals", "amount "+quote(value)+" has "+strconv.Itoa(len(frac))+" decimals; the currency has "+strconv.Itoa(exp))
	}
	// Accumulate the magnitude as a negative number so math.MinInt64 fits.
	var acc int64
	overflow := func() error {
		return Invalid(field, "overflow", "amount "+quote(value)+" is too large")
	}
	add := func(d byte) bool {
		if acc < (math.MinInt64+int64(d-'0'))/10 {
			return false
		}
		acc = acc*10 - int64(d-'0')
		return true
	}
	for i := 0; i < len(intPart); i++ {
		if !add(intPart[i]) {
			return 0, overflow()
		}
	}
	for i := 0; i < exp; i++ {
		d := byte('0')
		if i < len(frac) {
			d = frac[i]
		}
		if !add(d) {
			return 0, overflow()
		}
	}
	if neg {
		return acc, nil
	}
	if acc == math.MinInt64 {
		return 0, overflow()
	}
	return -acc, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String returns the exact decimal form with as many decimals as the
// currency has: "13.10", "-0.05", "1500" (KRW). It has no currency code.
func (m Money) String() string {
	var buf [32]byte
	return string(m.appendDecimal(buf[:0]))
}

func (m Money) appendDecimal(b []byte) []byte {
	exp := m.Currency.Exponent()
	if exp < 0 {
		exp = 0
	}
	return m.appendDecimalExp(b, exp)
}

// appendDecimalExp appends Amount scaled down by 10^exp as a decimal.
func (m Money) appendDecimalExp(b []byte, exp int) []byte {
	var mag uint64
	if m.Amount < 0 {
		b = append(b, '-')
		mag = uint64(-(m.Amount + 1)) + 1 // safe for math.MinInt64
	} else {
		mag = uint64(m.Amount)
	}
	var digits [24]byte
	d := strconv.AppendUint(digits[:0], mag, 10)
	if exp == 0 {
		return append(b, d...)
	}
	if len(d) <= exp {
		b = append(b, '0', '.')
		for i := len(d); i < exp; i++ {
			b = append(b, '0')
		}
		return append(b, d...)
	}
	b = append(b, d[:len(d)-exp]...)
	b = append(b, '.')
	return append(b, d[len(d)-exp:]...)
}

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Amount == 0 }

// IsNegative reports whether the amount is below zero.
func (m Money) IsNegative() bool { return m.Amount < 0 }

// Cmp compares m and o: -1 if m < o, 0 if equal, +1 if m > o. Amounts of
// different currencies are ordered by currency code first, so Cmp is a total
// order; compare only same-currency amounts when the answer matters.
func (m Money) Cmp(o Money) int {
	switch {
	case m.Currency < o.Currency:
		return -1
	case m.Currency > o.Currency:
		return 1
	case m.Amount < o.Amount:
		return -1
	case m.Amount > o.Amount:
		return 1
	default:
		return 0
	}
}

// Add returns m + o. It fails if the currencies differ or the sum overflows.
func (m Money) Add(o Money) (Money, error) {
	c, err := sameCurrency(m, o)
	if err != nil {
		return Money{}, err
	}
	s, ok := addInt64(m.Amount, o.Amount)
	if !ok {
		return Money{}, overflowError("add", m, o)
	}
	return Money{Amount: s, Currency: c}, nil
}

// Sub returns m - o. It fails if the currencies differ or the difference
// overflows.
func (m Money) Sub(o Money) (Money, error) {
	c, err := sameCurrency(m, o)
	if err != nil {
		return Money{}, err
	}
	s, ok := subInt64(m.Amount, o.Amount)
	if !ok {
		return Money{}, overflowError("subtract", m, o)
	}
	return Money{Amount: s, Currency: c}, nil
}

// Neg returns -m. It fails only for the most negative int64 amount.
func (m Money) Neg() (Money, error) {
	if m.Amount == math.MinInt64 {
		return Money{}, Errorf(EINVALID, "negate %s %s: amount overflows", m.String(), m.Currency)
	}
	return Money{Amount: -m.Amount, Currency: m.Currency}, nil
}

// Mul returns m × n. It fails if the product overflows.
func (m Money) Mul(n int64) (Money, error) {
	p, ok := mulInt64(m.Amount, n)
	if !ok {
		return Money{}, Errorf(EINVALID, "multiply %s %s by %d: amount overflows", m.String(), m.Currency, n)
	}
	return Money{Amount: p, Currency: m.Currency}, nil
}

// sameCurrency returns the common currency of a and b, letting a zero Money
// without currency join either.
func sameCurrency(a, b Money) (Currency, error) {
	switch {
	case a.Currency == b.Currency:
		return a.Currency, nil
	case a.Currency == "" && a.Amount == 0:
		return b.Currency, nil
	case b.Currency == "" && b.Amount == 0:
		return a.Currency, nil
	default:
		return "", &Error{Code: EINVALID, Message: "currencies differ: " + string(a.Currency) + " and " + string(b.Currency),
			Details: []Detail{{Field: "currency", Code: "currency_mismatch", Message: "cannot combine " + string(a.Currency) + " with " + string(b.Currency)}}}
	}
}

func overflowError(op string, a, b Money) error {
	return Errorf(EINVALID, "%s %s and %s %s: amount overflows", op, a.String(), b.String(), b.Currency)
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	// Overflow iff a and b have the same sign and s has the other.
	return s, (a^s)&(b^s) >= 0
}

func subInt64(a, b int64) (int64, bool) {
	s := a - b
	// Overflow iff a and b have different signs and s differs from a.
	return s, (a^b)&(a^s) >= 0
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) || p/b != a {
		return 0, false
	}
	return p, true
}

// MarshalJSON writes {"currency":"MYR","value":"23.50"}. The value is a JSON
// string so no reader turns it into a binary floating-point number.
func (m Money) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 48)
	b = append(b, `{"currency":`...)
	b = strconv.AppendQuote(b, string(m.Currency))
	b = append(b, `,"value":"`...)
	b = m.appendDecimal(b)
	b = append(b, `"}`...)
	return b, nil
}

// UnmarshalJSON reads {"currency":"MYR","value":"23.50"}. A value written as a
// JSON number is rejected: money values are decimal strings.
func (m *Money) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var raw struct {
		Currency *string         `json:"currency"`
		Value    json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Invalid("", "malformed", `money must be an object {"currency":"MYR","value":"23.50"}`)
	}
	if raw.Currency == nil {
		return Invalid("currency", "required", "currency is required")
	}
	v := bytes.TrimSpace(raw.Value)
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		return Invalid("value", "required", "value is required")
	}
	if v[0] != '"' {
		return Invalid("value", "not_a_string", `money values are decimal strings such as "23.50", not JSON numbers`)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return Invalid("value", "malformed", "value is not a valid JSON string")
	}
	parsed, err := ParseMoney(*raw.Currency, s)
	if err != nil {
		return err
	}
	*m = parsed
	return nil
}
