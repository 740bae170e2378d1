package gateway

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestAllocate(t *testing.T) {
	tests := []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{-100, []int64{1, 1, 1}, []int64{-34, -33, -33}},
		{101, []int64{1, 1}, []int64{51, 50}},
		{5, []int64{1, 2, 2}, []int64{1, 2, 2}},
		{7, []int64{1, 2, 2}, []int64{1, 3, 3}},  // 1.4, 2.8, 2.8: .8 and .8 win
		{8, []int64{1, 2, 2}, []int64{2, 3, 3}},  // 1.6, 3.2, 3.2: the .6 wins
		{1, []int64{3, 3, 3}, []int64{1, 0, 0}},  // tie: lower index
		{2, []int64{3, 3, 3}, []int64{1, 1, 0}},  //
		{320, []int64{1, 1}, []int64{160, 160}},  // Korea: 0.8% + 0.8%
		{0, []int64{1, 5}, []int64{0, 0}},        //
		{10, []int64{0, 1}, []int64{0, 10}},      // platform pays all
		{10, []int64{1, 0, 1}, []int64{5, 0, 5}}, //
		{math.MaxInt64, []int64{1, 1}, []int64{math.MaxInt64/2 + 1, math.MaxInt64 / 2}},
		{math.MinInt64, []int64{1, 1}, []int64{math.MinInt64 / 2, math.MinInt64 / 2}},
		{math.MinInt64, []int64{1}, []int64{math.MinInt64}},
		{1000, []int64{math.MaxInt64 - 1, 1}, []int64{1000, 0}},
		{100, []int64{1, 1, 1, 1, 1, 1, 1}, []int64{15, 15, 14, 14, 14, 14, 14}},
	}
	for _, tt := range tests {
		parts, err := Allocate(Money{tt.total, "MYR"}, tt.weights)
		if err != nil {
			t.Errorf("Allocate(%d, %v): %v", tt.total, tt.weights, err)
			continue
		}
		got := make([]int64, len(parts))
		for i, p := range parts {
			got[i] = p.Amount
			if p.Currency != "MYR" {
				t.Errorf("currency %q", p.Currency)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Allocate(%d, %v) = %v, want %v", tt.total, tt.weights, got, tt.want)
		}
	}
	for _, w := range [][]int64{nil, {}, {0, 0}, {-1, 2}, {math.MaxInt64, 1}} {
		if _, err := Allocate(Money{1, "MYR"}, w); ErrorCode(err) != EINVALID {
			t.Errorf("Allocate(1, %v) = %v, want EINVALID", w, err)
		}
	}
}

func TestAllocateSumsToWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		n := rng.IntN(8) + 1
		w := make([]int64, n)
		for i := range w {
			w[i] = rng.Int64N(1000)
		}
		w[rng.IntN(n)]++
		total := rng.Int64() - rng.Int64()
		parts, err := Allocate(Money{total, "KRW"}, w)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for i, p := range parts {
			sum += p.Amount
			if w[i] == 0 && p.Amount != 0 {
				t.Fatalf("zero weight got %d", p.Amount)
			}
		}
		if sum != total {
			t.Fatalf("Allocate(%d, %v) sums to %d", total, w, sum)
		}
		neg, _ := Allocate(Money{-total, "KRW"}, w)
		for i := range parts {
			if total != math.MinInt64 && neg[i].Amount != -parts[i].Amount {
				t.Fatalf("not symmetric: %v vs %v", parts, neg)
			}
		}
	}
}
