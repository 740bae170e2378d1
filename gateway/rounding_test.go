package gateway

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestApplyRateModes(t *testing.T) {
	// Amounts times 1/10 put the exact product on tenths of a minor unit.
	tenth := MustParseRate("1/10")
	tests := []struct {
		amount                     int64
		halfUp, halfEven, down, up int64
	}{
		{25, 3, 2, 2, 3},
		{35, 4, 4, 3, 4},
		{24, 2, 2, 2, 3},
		{26, 3, 3, 2, 3},
		{20, 2, 2, 2, 2},
		{-25, -3, -2, -2, -3},
		{-35, -4, -4, -3, -4},
		{-24, -2, -2, -2, -3},
		{-26, -3, -3, -2, -3},
		{5, 1, 0, 0, 1},
		{-5, -1, 0, 0, -1},
		{1, 0, 0, 0, 1},
		{0, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		for mode, want := range map[RoundingMode]int64{RoundHalfUp: tt.halfUp, RoundHalfEven: tt.halfEven, RoundDown: tt.down, RoundUp: tt.up} {
			got, err := ApplyRate(Money{tt.amount, "MYR"}, tenth, mode)
			if err != nil || got.Amount != want {
				t.Errorf("%d/10 %s = %v, %v; want %d", tt.amount, mode, got.Amount, err, want)
			}
		}
	}
}

func TestApplyRateSchemes(t *testing.T) {
	tests := []struct {
		cur    Currency
		amount int64
		rate   string
		mode   RoundingMode
		want   int64
	}{
		{"KRW", 400_000, "0.8%", RoundHalfUp, 3_200},
		{"KRW", 600_000, "0.8%", RoundHalfUp, 4_800},
		{"KRW", 12_345, "0.8%", RoundHalfUp, 99},       // 98.76
		{"KRW", 62_500, "0.8%", RoundHalfUp, 500},      // exact
		{"KRW", 62_562, "0.8%", RoundHalfEven, 500},    // 500.496
		{"MYR", 10_000, "1.25%", RoundHalfUp, 125},     // RM100.00 → RM1.25
		{"MYR", 1_000, "1.25%", RoundHalfUp, 13},       // 12.5 sen, tie
		{"MYR", 1_000, "1.25%", RoundHalfEven, 12},     // 12.5 sen, tie to even
		{"MYR", 1_000, "1.25%", RoundDown, 12},         //
		{"MYR", -1_000, "1.25%", RoundHalfUp, -13},     // symmetric
		{"INR", 3_745, "1%", RoundHalfUp, 37},          // Rs 37.45 → 0.3745
		{"INR", 1_000_000, "1/1500", RoundHalfUp, 667}, // one day's late charge
		{"CLP", 100_000, "15.25%", RoundHalfUp, 15_250},
		{"CLP", 10_001, "14.5%", RoundHalfUp, 1_450}, // 1450.145
	}
	for _, tt := range tests {
		got, err := ApplyRate(Money{tt.amount, tt.cur}, MustParseRate(tt.rate), tt.mode)
		if err != nil || got != (Money{tt.want, tt.cur}) {
			t.Errorf("%d %s × %s %s = %v, %v; want %d", tt.amount, tt.cur, tt.rate, tt.mode, got, err, tt.want)
		}
	}
}

func TestApplyRateOverflow(t *testing.T) {
	if _, err := ApplyRate(Money{math.MaxInt64, "KRW"}, MustParseRate("2"), RoundHalfUp); ErrorCode(err) != EINVALID {
		t.Errorf("overflow not detected: %v", err)
	}
	if v, err := ApplyRate(Money{math.MaxInt64, "KRW"}, rateOne, RoundHalfUp); err != nil || v.Amount != math.MaxInt64 {
		t.Errorf("max × 1 = %v, %v", v, err)
	}
	if v, err := ApplyRate(Money{math.MinInt64, "KRW"}, rateOne, RoundUp); err != nil || v.Amount != math.MinInt64 {
		t.Errorf("min × 1 = %v, %v", v, err)
	}
	r, _ := NewRate(math.MaxInt64, math.MaxInt64-1)
	if _, err := ApplyRate(Money{math.MaxInt64, "KRW"}, r, RoundDown); err == nil {
		t.Error("max × (max/(max-1)) should overflow")
	}
	if v, err := ApplyRate(Money{math.MaxInt64, "KRW"}, MustParseRate("1/2"), RoundHalfUp); err != nil || v.Amount != 1<<62 {
		t.Errorf("max/2 = %v, %v", v, err)
	}
}

// bigRound is the reference: exact rational arithmetic with math/big.
func bigRound(a int64, r Rate, mode RoundingMode) (*big.Int, bool) {
	x := new(big.Rat).Mul(new(big.Rat).SetInt64(a), big.NewRat(r.Num(), r.Den()))
	neg := x.Sign() < 0
	x.Abs(x)
	q, rem := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	if rem.Sign() != 0 {
		twice := new(big.Int).Lsh(rem, 1)
		c := twice.Cmp(x.Denom())
		switch mode {
		case RoundUp:
			q.Add(q, big.NewInt(1))
		case RoundHalfUp:
			if c >= 0 {
				q.Add(q, big.NewInt(1))
			}
		case RoundHalfEven:
			if c > 0 || (c == 0 && q.Bit(0) == 1) {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	if neg {
		q.Neg(q)
	}
	return q, q.IsInt64()
}

func TestApplyRateMatchesBigRat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	amounts := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MinInt64 + 1, 1 << 62, -(1 << 62)}
	rates := []Rate{rateOne, MustParseRate("0.8%"), MustParseRate("1/1500"), MustParseRate("1/3"), MustParseRate("2/3"), MustParseRate("150%")}
	for range 20000 {
		var a int64
		switch rng.IntN(3) {
		case 0:
			a = rng.Int64() - rng.Int64()
		case 1:
			a = rng.Int64N(1_000_000) - 500_000
		default:
			a = amounts[rng.IntN(len(amounts))]
		}
		var r Rate
		if rng.IntN(2) == 0 {
			r = rates[rng.IntN(len(rates))]
		} else {
			d := rng.Int64N(math.MaxInt64-1) + 1
			if rng.IntN(2) == 0 {
				d = rng.Int64N(20_000) + 1
			}
			r, _ = NewRate(rng.Int64N(d+1), d)
		}
		mode := RoundingMode(rng.IntN(4))
		got, ok := mulRate(a, r, mode)
		want, wantOK := bigRound(a, r, mode)
		if ok != wantOK || (ok && got != want.Int64()) {
			t.Fatalf("%d × %d/%d %s = %d %v; want %s %v", a, r.Num(), r.Den(), mode, got, ok, want, wantOK)
		}
		// Symmetry: rounding is an odd function.
		if a != math.MinInt64 && ok {
			n, _ := mulRate(-a, r, mode)
			if n != -got {
				t.Fatalf("not symmetric: %d → %d, %d → %d", a, got, -a, n)
			}
		}
	}
}

func TestRoundingModeNames(t *testing.T) {
	for _, m := range []RoundingMode{RoundHalfUp, RoundHalfEven, RoundDown, RoundUp} {
		back, err := ParseRoundingMode(m.String())
		if err != nil || back != m {
			t.Errorf("%s round trip: %v %v", m, back, err)
		}
	}
	if _, err := ParseRoundingMode("bankers"); ErrorCode(err) != EINVALID {
		t.Error("unknown mode accepted")
	}
}
