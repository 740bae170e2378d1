package gateway

import (
	"testing"
	"time"
)

func TestSimulateKoreaRateProposal(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2026, 10, d, 3, 0, 0, 0, time.UTC) }
	krw := func(a int64) Money { return Money{a, "KRW"} }
	ev := func(id, platform, worker string, d int, gross int64) Earning {
		return Earning{EventID: id, PlatformID: platform, WorkerRef: worker, WorkerKey: "k-" + worker, OccurredAt: at(d), Gross: krw(gross), Orders: 1, Kind: KindEarning}
	}
	events := []Earning{
		ev("1", "A", "kim", 1, 400_000),
		ev("2", "B", "kim", 2, 600_000),
		ev("3", "A", "lee", 3, 900_000),
		ev("4", "A", "park", 4, 100_000),
		ev("5", "A", "park", 5, 50_000),
	}
	rev := ev("5r", "A", "park", 6, -50_000)
	rev.Kind, rev.Reverses = KindReversal, "5"
	events = append(events, rev, Earning{EventID: "bad"})

	current := mustCatalog(t)
	proposed := variantCatalog(t, "korea-employment-insurance.json", `"worker_rate": "0.8%"`, `"worker_rate": "1%"`)
	for _, tt := range []struct {
		name    string
		c       *Catalog
		opt     SimulateOptions
		a, b    PeriodTotals
		rejects int
	}{
		{"current, no combining", current, SimulateOptions{},
			PeriodTotals{Events: 3, Workers: 3, WorkersMeetingThreshold: 1, Base: krw(1_400_000), Worker: krw(7_200), Platform: krw(7_200), Total: krw(14_400), Adjustments: krw(-8_000)},
			PeriodTotals{Events: 1, Workers: 1, WorkersMeetingThreshold: 0, Base: krw(600_000), Worker: krw(0), Platform: krw(0), Total: krw(0), Adjustments: krw(-9_600)}, 1},
		{"current, combining", current, SimulateOptions{Combine: true},
			PeriodTotals{Events: 3, Workers: 3, WorkersMeetingThreshold: 2, Base: krw(1_400_000), Worker: krw(10_400), Platform: krw(10_400), Total: krw(20_800), Adjustments: krw(-1_600)},
			PeriodTotals{Events: 1, Workers: 1, WorkersMeetingThreshold: 1, Base: krw(600_000), Worker: krw(4_800), Platform: krw(4_800), Total: krw(9_600), Adjustments: krw(0)}, 1},
		{"proposed 1% worker rate, combining", proposed, SimulateOptions{Combine: true},
			PeriodTotals{Events: 3, Workers: 3, WorkersMeetingThreshold: 2, Base: krw(1_400_000), Worker: krw(13_000), Platform: krw(10_400), Total: krw(23_400), Adjustments: krw(-1_800)},
			PeriodTotals{Events: 1, Workers: 1, WorkersMeetingThreshold: 1, Base: krw(600_000), Worker: krw(6_000), Platform: krw(4_800), Total: krw(10_800), Adjustments: krw(0)}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := tt.c.Scheme("kr-ei")
			sim, err := Simulate(s.Plans[0], events, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(sim.Rejected) != tt.rejects || len(sim.Totals) != 2 {
				t.Fatalf("sim = %+v", sim)
			}
			for i, want := range []PeriodTotals{tt.a, tt.b} {
				want.PlatformID, want.Period = []string{"A", "B"}[i], "2026-10"
				if sim.Totals[i] != want {
					t.Errorf("totals %d = %+v\nwant %+v", i, sim.Totals[i], want)
				}
			}
		})
	}
}
