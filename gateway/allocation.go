package gateway

import "math/bits"

// Allocate splits total into len(weights) parts proportional to the weights
// by the largest-remainder method. The parts always add up to total exactly.
// Each part first gets its proportional share rounded toward zero; the minor
// units left over go, one each, to the parts with the largest remainders,
// the lower index first on a tie, so the result is deterministic. A negative
// total is split like its magnitude and negated, so Allocate(-x) is the exact
// negative of Allocate(x).
//
// Weights must be ≥ 0 with a positive sum that fits in int64.
func Allocate(total Money, weights []int64) ([]Money, error) {
	if len(weights) == 0 {
		return nil, Invalid("weights", "required", "at least one weight is required")
	}
	parts := make([]int64, len(weights))
	if err := allocateInto(parts, total.Amount, weights); err != nil {
		return nil, err
	}
	out := make([]Money, len(parts))
	for i, p := range parts {
		out[i] = Money{Amount: p, Currency: total.Currency}
	}
	return out, nil
}

// allocateInto writes the parts of total into dst (len(dst) == len(weights)).
// With two or three weights it does not allocate.
func allocateInto(dst []int64, total int64, weights []int64) error {
	var sum uint64
	for _, w := range weights {
		if w < 0 {
			return Invalid("weights", "negative", "weights cannot be negative")
		}
		sum += uint64(w)
		if sum > 1<<63-1 {
			return Invalid("weights", "overflow", "weights add up to more than an int64")
		}
	}
	if sum == 0 {
		return Invalid("weights", "zero", "weights must not all be zero")
	}
	neg := total < 0
	mag := uint64(total)
	if neg {
		mag = -mag
	}
	var remBuf [4]uint64
	rems := remBuf[:0]
	if len(weights) > len(remBuf) {
		rems = make([]uint64, 0, len(weights))
	}
	var given uint64
	for i, w := range weights {
		// mag·w/sum ≤ mag < 2^64 because w ≤ sum, so Div64 cannot overflow.
		hi, lo := bits.Mul64(mag, uint64(w))
		q, r := bits.Div64(hi, lo, sum)
		dst[i] = int64(q) // q ≤ mag ≤ 2^63; fixed below for the 2^63 case
		given += q
		rems = append(rems, r)
	}
	left := mag - given // < len(weights)
	for ; left > 0; left-- {
		best := -1
		for i, r := range rems {
			if best < 0 || r > rems[best] {
				best = i
			}
		}
		dst[best]++
		rems[best] = 0
		// A part that received its extra unit is not chosen again: every
		// remainder was < sum and the one chosen is now 0 and the loop runs
		// fewer times than there are parts with a non-zero remainder.
	}
	if neg {
		for i := range dst {
			dst[i] = -dst[i] // -(2^63 as int64) is math.MinInt64: the whole of total
		}
	}
	return nil
}
