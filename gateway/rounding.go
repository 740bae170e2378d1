package gateway

import (
	"bytes"
	"encoding/json"
	"math"
	"math/bits"
)

// RoundingMode names how a product that falls between two minor units is
// rounded. Every mode is symmetric about zero: rounding -x gives exactly the
// negative of rounding x. That symmetry is what makes a reversal the exact
// negative of the original deduction.
type RoundingMode uint8

// Rounding modes. Examples are in minor units, for 2.5, 2.4, -2.5 and -2.6.
const (
	// RoundHalfUp rounds to the nearest unit, ties away from zero
	// (2.5 → 3, 2.4 → 2, -2.5 → -3, -2.6 → -3). The usual commercial rule
	// and the default.
	RoundHalfUp RoundingMode = iota
	// RoundHalfEven rounds to the nearest unit, ties to the even neighbour
	// (2.5 → 2, 3.5 → 4, -2.5 → -2, -2.6 → -3). Banker's rounding.
	RoundHalfEven
	// RoundDown truncates toward zero (2.5 → 2, 2.9 → 2, -2.5 → -2,
	// -2.6 → -2): never takes more than the exact amount.
	RoundDown
	// RoundUp rounds away from zero (2.1 → 3, 2.5 → 3, -2.1 → -3,
	// -2.6 → -3): never takes less than the exact amount.
	RoundUp
)

var roundingNames = [...]string{"half_up", "half_even", "down", "up"}

// String returns the mode's name as written in scheme packs: "half_up",
// "half_even", "down" or "up".
func (m RoundingMode) String() string {
	if int(m) < len(roundingNames) {
		return roundingNames[m]
	}
	return "unknown"
}

// ParseRoundingMode reads a mode name as String writes it. The empty string
// is RoundHalfUp.
func ParseRoundingMode(s string) (RoundingMode, error) {
	if s == "" {
		return RoundHalfUp, nil
	}
	for i, n := range roundingNames {
		if n == s {
			return RoundingMode(i), nil
		}
	}
	return 0, Invalid("rounding", "unknown_rounding", "rounding "+quote(s)+" is not half_up, half_even, down or up")
}

// MarshalJSON writes the mode's name.
func (m RoundingMode) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads a mode's name.
func (m *RoundingMode) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return Invalid("rounding", "malformed", "rounding is a string: half_up, half_even, down or up")
	}
	v, err := ParseRoundingMode(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ApplyRate returns m × r rounded to a whole minor unit with the named mode.
// It is exact for every int64 amount and every Rate: the product is formed in
// 128 bits, so the only failure is a result that does not fit in int64 (an
// EINVALID error). It does not allocate unless it fails.
func ApplyRate(m Money, r Rate, mode RoundingMode) (Money, error) {
	v, ok := mulRate(m.Amount, r, mode)
	if !ok {
		return Money{}, Errorf(EINVALID, "%s %s × %s overflows", m.String(), m.Currency, r.String())
	}
	return Money{Amount: v, Currency: m.Currency}, nil
}

// mulRate is ApplyRate on a bare amount; ok is false on overflow.
func mulRate(a int64, r Rate, mode RoundingMode) (int64, bool) {
	if a == 0 || r.num == 0 {
		return 0, true
	}
	return mulDivRound(a, uint64(r.num), uint64(r.den), mode)
}

// mulDivRound returns a × num / den rounded with mode, exactly. den > 0.
func mulDivRound(a int64, num, den uint64, mode RoundingMode) (int64, bool) {
	neg := a < 0
	mag := uint64(a)
	if neg {
		mag = -mag // two's complement magnitude, correct for math.MinInt64
	}
	hi, lo := bits.Mul64(mag, num)
	if hi >= den {
		return 0, false // quotient needs more than 64 bits
	}
	q, rem := bits.Div64(hi, lo, den)
	if rem != 0 {
		half := den - rem // rem ≥ half ⇔ 2·rem ≥ den, without overflow
		inc := false
		switch mode {
		case RoundUp:
			inc = true
		case RoundHalfUp:
			inc = rem >= half
		case RoundHalfEven:
			inc = rem > half || (rem == half && q&1 == 1)
		case RoundDown:
		}
		if inc {
			q++
			if q == 0 { // wrapped around 2^64
				return 0, false
			}
		}
	}
	if neg {
		if q > 1<<63 {
			return 0, false
		}
		return int64(-q), true // -(1<<63) wraps to math.MinInt64
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return int64(q), true
}
