package gateway

import (
	"math/rand/v2"
	"slices"
	"testing"
	"testing/fstest"
	"time"
)

// fuzzPack exercises every option of every rule kind in one scheme.
const fuzzPack = `{
  "id": "fz", "name": "every option", "country": "XX", "currency": "MYR",
  "time_zone": "Asia/Kuala_Lumpur", "source": "tests",
  "plans": [
    {"id": "pct-tx", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "percentage", "worker_rate": "7/300", "platform_rate": "1/300", "base_excludes": ["tips"],
               "min_per_transaction": "0.05", "max_per_transaction": "9.99", "ceiling_per_period": "5000.00",
               "threshold": {"amount": "700.00"}, "rounding": "half_even"}}]},
    {"id": "pct-period", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "percentage", "basis": "period", "worker_rate": "0.8%", "platform_rate": "1.1%",
               "base_excludes": ["expenses", "tips"], "ceiling_per_period": "6000.00",
               "threshold": {"amount": "800.00", "combinable": true}, "rounding": "half_up"}}]},
    {"id": "capped", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "quarter",
      "rule": {"kind": "capped_percentage", "worker_rate": "0.5%", "platform_rate": "1%", "rounding": "up",
               "max_per_transaction": "2.00",
               "caps": [{"sector": "a", "max": "0.50"}, {"sector": "a", "vehicle": "4w", "max": "1.00"}]}}]},
    {"id": "fixed", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "fixed_period", "amount": "49.40", "max_share_per_earning": "30%",
               "split": {"worker": 2, "platform": 1}, "base_excludes": ["commission"]}}]},
    {"id": "order-period", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "per_order", "basis": "period", "split": {"worker": 1, "platform": 3},
               "fees": [{"sector": "a", "fee": "0.07"}, {"sector": "a", "region": "r2", "fee": "0.11"}, {"sector": "b", "fee": "0.18"}],
               "multipliers": {"min": "50%", "max": "150%", "step": "10%", "platforms": {"p1": "130%", "p2": "50%"}}}}]},
    {"id": "order-tx", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
      "rule": {"kind": "per_order", "rounding": "half_even", "split": {"worker": 1, "platform": 1},
               "fees": [{"fee": "0.03"}],
               "multipliers": {"min": "50%", "max": "150%", "platforms": {"p1": "110%"}}}}]},
    {"id": "levy", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "year",
      "rule": {"kind": "turnover_levy", "turnover_rate": "2%", "payout_cap_rate": "5%"}}]}
  ]
}`

func fuzzVersions(t testing.TB) []*PlanVersion {
	c, err := LoadPacks(fstest.MapFS{"fz.json": {Data: []byte(fuzzPack)}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.Scheme("fz")
	var vs []*PlanVersion
	for _, p := range s.Plans {
		vs = append(vs, p.Versions[0])
	}
	return vs
}

// genEarning returns a valid earning for the fuzz pack in October 2026.
func genEarning(rng *rand.Rand, i int, adjustments bool) Earning {
	myr := func(a int64) Money { return Money{a, "MYR"} }
	var gross int64
	switch rng.IntN(4) {
	case 0:
		gross = rng.Int64N(200)
	case 1:
		gross = rng.Int64N(100_000)
	case 2:
		gross = rng.Int64N(1_000_000_000)
	default:
		gross = []int64{0, 1, 5, 50, 70_000, 80_000, 500_000, 600_000}[rng.IntN(8)]
	}
	e := Earning{
		EventID: "e" + itoa(i), PlatformID: []string{"p1", "p2", "p3"}[rng.IntN(3)], WorkerRef: "w",
		OccurredAt: time.Date(2026, 10, 1+rng.IntN(30), rng.IntN(24), 0, 0, 0, time.UTC),
		Gross:      myr(gross), Orders: rng.Int64N(30), Kind: KindEarning,
		Category: Category{Sector: []string{"a", "b"}[rng.IntN(2)], Vehicle: []string{"", "4w"}[rng.IntN(2)]},
		Region:   []string{"r1", "r2"}[rng.IntN(2)],
	}
	rest := gross
	for _, x := range []*Money{&e.Exclusions.Tips, &e.Exclusions.Expenses, &e.Exclusions.Commission} {
		part := int64(0)
		if rest > 0 && rng.IntN(2) == 0 {
			part = rng.Int64N(rest/2 + 1)
		}
		rest -= part
		*x = myr(part)
	}
	if adjustments && rng.IntN(8) == 0 {
		e.Kind = KindAdjustment
		e.Gross.Amount = -e.Gross.Amount
		for _, x := range []*Money{&e.Exclusions.Tips, &e.Exclusions.Expenses, &e.Exclusions.Commission} {
			x.Amount = -x.Amount
		}
	}
	return e
}

func reversalOf(e Earning, id string) Earning {
	r := e
	r.EventID, r.Kind, r.Reverses = id, KindReversal, e.EventID
	r.Gross, r.Exclusions = neg(e.Gross), Exclusions{neg(e.Exclusions.Tips), neg(e.Exclusions.Incentives), neg(e.Exclusions.Expenses), neg(e.Exclusions.Commission)}
	return r
}

// FuzzDeduction checks the invariants of every rule kind over random event
// sequences: shares add up to the total; nothing withheld from the worker
// exceeds the event's base; a fixed period amount is never exceeded; the
// same inputs give the same outputs; reversing the latest event restores the
// state before it exactly; the state is the sum of the deductions.
func FuzzDeduction(f *testing.F) {
	for i := range 7 {
		for _, seed := range []uint64{1, 2, 3, 42, 1 << 40} {
			f.Add(seed, uint8(40), uint8(i))
		}
	}
	versions := fuzzVersions(f)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, which uint8) {
		v := versions[int(which)%len(versions)]
		rng := rand.New(rand.NewPCG(seed, uint64(which)))
		states := map[string]PeriodState{}
		applied := map[string]Earning{}
		deds := map[string]Deduction{}
		var sumW, sumP map[string]int64 = map[string]int64{}, map[string]int64{}
		var live []string
		for i := range int(n) {
			var e Earning
			var d, d2 Deduction
			var after, after2 PeriodState
			var err, err2 error
			var key string
			if len(live) > 0 && rng.IntN(6) == 0 {
				j := rng.IntN(len(live))
				orig := deds[live[j]]
				e = reversalOf(applied[live[j]], "r"+itoa(i))
				live = slices.Delete(live, j, j+1)
				key = e.PlatformID + "/" + orig.Period
				d, after, err = v.Reverse(&e, &orig, states[key])
				d2, after2, err2 = v.Reverse(&e, &orig, states[key])
				if err == nil && (d.Worker.Amount != -orig.Worker.Amount || d.Platform.Amount != -orig.Platform.Amount || d.Base.Amount != -orig.Base.Amount) {
					t.Fatalf("reversal %+v is not the negative of %+v", d, orig)
				}
			} else {
				e = genEarning(rng, i, true)
				if err := e.Validate(); err != nil {
					t.Fatalf("generated an invalid event: %v", err)
				}
				key = e.PlatformID + "/" + v.periodKey(e.OccurredAt)
				before := states[key]
				d, after, err = v.Deduct(&e, before)
				d2, after2, err2 = v.Deduct(&e, before)
				if err == nil {
					// Reversing it at once restores the state exactly.
					r := reversalOf(e, "undo")
					_, back, rerr := v.Reverse(&r, &d, after)
					if rerr != nil || back != before {
						t.Fatalf("reversal of %s: state %+v, want %+v (%v)", e.EventID, back, before, rerr)
					}
				}
			}
			if err != nil {
				if ErrorCode(err) != EINVALID {
					t.Fatalf("event %+v: %v", e, err)
				}
				continue // e.g. a category without a fee or cap
			}
			if err2 != nil || d != d2 || after != after2 {
				t.Fatalf("not deterministic: %+v / %+v", d, d2)
			}
			if d.Total.Amount != d.Worker.Amount+d.Platform.Amount {
				t.Fatalf("shares %s + %s != total %s", d.Worker, d.Platform, d.Total)
			}
			if b := d.Base.Amount; (b >= 0 && d.Worker.Amount > b) || (b < 0 && d.Worker.Amount < b) {
				t.Fatalf("worker share %s exceeds the base %s (%s)", d.Worker, d.Base, d.Flags)
			}
			if v.rule.kind == RuleFixedPeriod {
				if tot := after.Worker + after.Platform; tot > v.rule.amount || tot < 0 {
					t.Fatalf("fixed period withheld %d, amount %d", tot, v.rule.amount)
				}
			}
			if v.rule.kind == RuleTurnoverLevy && d.Total.Amount != 0 {
				t.Fatalf("a levy deducted %s per event", d.Total)
			}
			states[key] = after
			sumW[key] += d.Worker.Amount
			sumP[key] += d.Platform.Amount
			if after.Worker != sumW[key] || after.Platform != sumP[key] {
				t.Fatalf("state %+v is not the sum of deductions %d, %d", after, sumW[key], sumP[key])
			}
			if e.Kind != KindReversal {
				applied[e.EventID], deds[e.EventID] = e, d
				live = append(live, e.EventID)
			}
		}
		// Closing settles each state once.
		for key, st := range states {
			res, err := v.Close(st, CloseInput{PlatformID: key[:2]})
			if err != nil {
				t.Fatal(err)
			}
			again, err := v.Close(res.State, CloseInput{PlatformID: key[:2]})
			if err != nil || len(again.Adjustments) != 0 {
				t.Fatalf("second close: %+v %v", again.Adjustments, err)
			}
		}
	})
}

// orderIndependent lists the fuzz pack's plans whose period totals after
// close do not depend on the order of events (see doc.go), and whether that
// holds with reversals and negative adjustments mixed in.
var orderIndependent = map[string]bool{
	"pct-period":   true,  // period basis: the period is rounded once, close trues up
	"capped":       true,  // each event on its own
	"order-period": true,  // period basis
	"order-tx":     true,  // each event on its own
	"levy":         true,  // nothing per event
	"fixed":        false, // earnings only: the total is min(amount, Σ shares of each earning)
}

// FuzzOrderIndependence applies the same events in two orders and checks that
// the period totals after close are equal for the rules documented as
// order-independent.
func FuzzOrderIndependence(f *testing.F) {
	for _, seed := range []uint64{1, 7, 99, 12345} {
		f.Add(seed, uint8(30))
	}
	versions := fuzzVersions(f)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		for _, v := range versions {
			withReversals, ok := orderIndependent[v.PlanID]
			if !ok {
				continue
			}
			rng := rand.New(rand.NewPCG(seed, 5))
			var events []Earning
			for i := range int(n) {
				e := genEarning(rng, i, withReversals)
				e.PlatformID, e.OccurredAt = "p1", time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
				events = append(events, e)
			}
			run := func(order []int) (int64, int64, int64) {
				var s PeriodState
				deds := map[string]Deduction{}
				for _, i := range order {
					e := events[i]
					var d Deduction
					var err error
					if i >= len(events) {
						continue
					}
					d, s, err = v.Deduct(&e, s)
					if err != nil {
						continue
					}
					deds[e.EventID] = d
				}
				if withReversals {
					// Reverse every third event that was applied, last.
					for i := 0; i < len(events); i += 3 {
						orig, ok := deds[events[i].EventID]
						if !ok {
							continue
						}
						r := reversalOf(events[i], "r"+itoa(i))
						var err error
						if _, s, err = v.Reverse(&r, &orig, s); err != nil {
							t.Fatal(err)
						}
					}
				}
				res, err := v.Close(s, CloseInput{PlatformID: "p1"})
				if err != nil {
					t.Fatal(err)
				}
				st := res.State
				return st.Worker + st.SettledWorker, st.Platform + st.SettledPlatform, st.Base
			}
			order := make([]int, len(events))
			for i := range order {
				order[i] = i
			}
			w1, p1, b1 := run(order)
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			w2, p2, b2 := run(order)
			if w1 != w2 || p1 != p2 || b1 != b2 {
				t.Fatalf("%s: totals depend on order: %d/%d/%d vs %d/%d/%d", v.PlanID, w1, p1, b1, w2, p2, b2)
			}
		}
	})
}
