package gateway

import (
	"math/big"
	"testing"
	"time"
)

// benchCase is one rule kind with a typical event and the worker's state
// part-way through a period.
type benchCase struct {
	name   string
	scheme string
	plan   string
	e      Earning
	naive  func(v *PlanVersion, e *Earning, s PeriodState) (w, p int64)
}

func benchCases(t testing.TB) []benchCase {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	ev := func(cur Currency, gross int64, ts string) Earning {
		return Earning{EventID: "evt-000123", PlatformID: "grab", WorkerRef: "w-1", WorkerKey: "k", OccurredAt: at(ts),
			Gross: Money{gross, cur}, Orders: 1, Kind: KindEarning}
	}
	korea := ev("KRW", 123_457, "2026-10-05T03:00:00Z")
	gwa := ev("MYR", 10_050, "2026-10-05T03:00:00Z")
	gwa.Exclusions = Exclusions{Tips: Money{200, "MYR"}, Commission: Money{2_000, "MYR"}}
	ka := ev("INR", 12_345, "2026-05-05T03:00:00Z")
	ka.Category = Category{Sector: "logistics", Vehicle: "hcv"}
	ka.Exclusions.Tips = Money{500, "INR"}
	cn := ev("CNY", 8_000, "2027-03-05T03:00:00Z")
	cn.Orders, cn.Category, cn.Region, cn.PlatformID = 3, Category{Sector: "instant_delivery"}, "CN-GD", "p"
	sess := ev("MYR", 2_500, "2026-10-05T03:00:00Z")
	coss := ev("INR", 50_000, "2026-10-05T03:00:00Z")
	chile := ev("CLP", 345_678, "2026-10-05T03:00:00Z")
	return []benchCase{
		{"percentage_period/kr-ei", "kr-ei", "platform-workers", korea, naivePercentage},
		{"percentage_transaction/my-gig", "my-gig", "s83", gwa, naivePercentage},
		{"percentage_transaction/cl-honorarios", "cl-honorarios", "withholding", chile, naivePercentage},
		{"capped_percentage/in-ka-welfare", "in-ka-welfare", "welfare-fee", ka, naivePercentage},
		{"per_order/cn-oip", "cn-oip", "per-order", cn, naivePerOrder},
		{"fixed_period/my-sess", "my-sess", "2", sess, naiveFixed},
		{"turnover_levy/in-coss", "in-coss", "aggregator-levy", coss, nil}, // nothing to compare: no per-event arithmetic
	}
}

// A state part-way through the period: a few events already applied.
func warmState(t testing.TB, v *PlanVersion, e Earning) PeriodState {
	var s PeriodState
	for i := range 3 {
		x := e
		x.EventID = "warm" + itoa(i)
		var err error
		if _, s, err = v.Deduct(&x, s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

var sinkDeduction Deduction

func BenchmarkDeduct(b *testing.B) {
	c := mustCatalog(b)
	for _, bc := range benchCases(b) {
		v, err := c.PlanVersion(bc.scheme, bc.plan, bc.e.OccurredAt)
		if err != nil {
			b.Fatal(err)
		}
		s := warmState(b, v, bc.e)
		e := bc.e
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for range b.N {
				d, _, err := v.Deduct(&e, s)
				if err != nil {
					b.Fatal(err)
				}
				sinkDeduction = d
			}
			fast := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/fast.Seconds(), "events/s")
			if bc.naive == nil {
				return
			}
			// The same computation with math/big rationals, for comparison.
			n := min(b.N, 20_000)
			start = time.Now()
			var w, p int64
			for range n {
				w, p = bc.naive(v, &e, s)
			}
			slow := time.Since(start)
			if w != sinkDeduction.Worker.Amount || p != sinkDeduction.Platform.Amount {
				b.Fatalf("big.Rat gives %d/%d, Deduct %s/%s", w, p, sinkDeduction.Worker, sinkDeduction.Platform)
			}
			perFast := fast.Seconds() / float64(b.N)
			perSlow := slow.Seconds() / float64(n)
			b.ReportMetric(perSlow/perFast, "x_vs_big.Rat")
		})
	}
}

func BenchmarkReverse(b *testing.B) {
	c := mustCatalog(b)
	bc := benchCases(b)[0]
	v, _ := c.PlanVersion(bc.scheme, bc.plan, bc.e.OccurredAt)
	s := warmState(b, v, bc.e)
	d, after, _ := v.Deduct(&bc.e, s)
	r := reversalOf(bc.e, "rev")
	b.ReportAllocs()
	for range b.N {
		rd, _, err := v.Reverse(&r, &d, after)
		if err != nil {
			b.Fatal(err)
		}
		sinkDeduction = rd
	}
}

func TestDeductDoesNotAllocate(t *testing.T) {
	c := mustCatalog(t)
	for _, bc := range benchCases(t) {
		v, err := c.PlanVersion(bc.scheme, bc.plan, bc.e.OccurredAt)
		if err != nil {
			t.Fatal(err)
		}
		s := warmState(t, v, bc.e)
		e := bc.e
		if n := testing.AllocsPerRun(200, func() { sinkDeduction, _, _ = v.Deduct(&e, s) }); n != 0 {
			t.Errorf("%s: Deduct allocates %v times per event", bc.name, n)
		}
		d, after, _ := v.Deduct(&e, s)
		r := reversalOf(e, "rev")
		if n := testing.AllocsPerRun(200, func() { sinkDeduction, _, _ = v.Reverse(&r, &d, after) }); n != 0 {
			t.Errorf("%s: Reverse allocates %v times per event", bc.name, n)
		}
	}
}

// The naive versions compute the same shares with big.Rat, half-up or down
// as the pack says, without the checks and flags.

func bigRoundMode(x *big.Rat, mode RoundingMode) int64 {
	q, rem := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	if rem.Sign() != 0 {
		switch mode {
		case RoundHalfUp:
			if new(big.Int).Lsh(new(big.Int).Abs(rem), 1).Cmp(x.Denom()) >= 0 {
				q.Add(q, big.NewInt(int64(rem.Sign())))
			}
		case RoundUp:
			q.Add(q, big.NewInt(int64(rem.Sign())))
		}
	}
	return q.Int64()
}

func bigRate(r Rate) *big.Rat { return big.NewRat(r.Num(), r.Den()) }

func naivePercentage(v *PlanVersion, e *Earning, s PeriodState) (int64, int64) {
	r := &v.rule
	base := new(big.Rat).SetInt64(e.Gross.Amount)
	if r.excludes&ExcludeTips != 0 {
		base.Sub(base, new(big.Rat).SetInt64(e.Exclusions.Tips.Amount))
	}
	if r.excludes&ExcludeCommission != 0 {
		base.Sub(base, new(big.Rat).SetInt64(e.Exclusions.Commission.Amount))
	}
	if r.excludes&ExcludeExpenses != 0 {
		base.Sub(base, new(big.Rat).SetInt64(e.Exclusions.Expenses.Amount))
	}
	if r.excludes&ExcludeIncentives != 0 {
		base.Sub(base, new(big.Rat).SetInt64(e.Exclusions.Incentives.Amount))
	}
	if r.period {
		total := new(big.Rat).Add(base, new(big.Rat).SetInt64(s.Base))
		w := bigRoundMode(new(big.Rat).Mul(total, bigRate(r.workerRate)), r.mode) - s.Worker
		p := bigRoundMode(new(big.Rat).Mul(total, bigRate(r.platformRate)), r.mode) - s.Platform
		return w, p
	}
	w := bigRoundMode(new(big.Rat).Mul(base, bigRate(r.workerRate)), r.mode)
	p := bigRoundMode(new(big.Rat).Mul(base, bigRate(r.platformRate)), r.mode)
	if r.kind == RuleCappedPercentage {
		limit, _ := r.capFor(e.Category)
		if p > limit {
			p = limit
		}
	}
	return w, p
}

func naivePerOrder(v *PlanVersion, e *Earning, s PeriodState) (int64, int64) {
	r := &v.rule
	fee, _ := r.feeFor(e.Category, e.Region)
	units := new(big.Rat).SetInt64(s.Units + fee*e.Orders)
	m := big.NewRat(1, 1)
	if x, ok := r.multipliers[e.PlatformID]; ok {
		m = bigRate(x)
	}
	return 0, bigRoundMode(units.Mul(units, m), r.mode) - s.Platform
}

func naiveFixed(v *PlanVersion, e *Earning, s PeriodState) (int64, int64) {
	r := &v.rule
	limit := new(big.Rat).Mul(new(big.Rat).SetInt64(e.Gross.Amount), bigRate(r.maxShare))
	due := new(big.Rat).SetInt64(r.amount - s.Worker - s.Platform)
	l := new(big.Rat).SetInt64(bigRoundMode(limit, RoundDown))
	if l.Cmp(due) < 0 {
		due = l
	}
	return bigRoundMode(due, RoundDown), 0
}
