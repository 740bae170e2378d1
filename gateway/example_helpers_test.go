package gateway

import (
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

var builtin = sync.OnceValues(BuiltinPacks)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// variantFS returns the built-in packs with one file edited by replacing
// old with new (each pair), for examples that need configuration the shipped
// packs leave to each platform, and for load errors.
func variantFS(t testing.TB, file string, pairs ...string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	entries, err := builtinPacks.ReadDir("schemes")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := builtinPacks.ReadFile("schemes/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == file {
			s := string(data)
			for i := 0; i+1 < len(pairs); i += 2 {
				if !strings.Contains(s, pairs[i]) {
					t.Fatalf("%s does not contain %q", file, pairs[i])
				}
				s = strings.Replace(s, pairs[i], pairs[i+1], 1)
			}
			data = []byte(s)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// variantCatalog loads variantFS.
func variantCatalog(t testing.TB, file string, pairs ...string) *Catalog {
	t.Helper()
	c, err := LoadPacks(variantFS(t, file, pairs...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// containsLine reports whether every detail of err names a line.
func containsLine(err error) bool {
	e, ok := err.(*Error)
	if !ok || len(e.Details) == 0 {
		return false
	}
	for _, d := range e.Details {
		if d.Line <= 0 {
			return false
		}
	}
	return true
}

// ex is a worked example: events applied in order from empty period states,
// each with the deduction it must give, then period closes.
type ex struct {
	name   string
	plan   string // default: the scheme's first plan
	events []exEvent
	closes []exClose
}

type exEvent struct {
	id                                     string // default e1, e2, …
	at                                     string // "2026-10-05 12:00" in the scheme's zone, or RFC 3339
	gross                                  string
	tips, incentives, expenses, commission string
	orders                                 int64 // default 1
	zeroOrders                             bool
	sector, vehicle, region                string
	platform                               string // default p1
	worker                                 string // default w1
	adjustment                             bool
	reverses                               string

	w, p   string // expected worker and platform shares ("" is zero)
	flags  Flags  // flags that must be set
	not    Flags  // flags that must not be set
	period string // expected period key, when given
	err    string // expected error detail code
}

type exClose struct {
	period   string // default: the last event's period
	platform string // default: the last event's platform
	worker   string
	in       CloseInput
	adj      []exAdj
	notices  []exNotice
	met      *bool
}

type exAdj struct {
	kind AdjustmentKind
	w, p string
}

type exNotice struct {
	kind   NoticeKind
	amount string
}

type stateKey struct{ platform, worker, plan, period string }

func runExamples(t *testing.T, c *Catalog, schemeID string, examples []ex) {
	t.Helper()
	s, err := c.Scheme(schemeID)
	if err != nil {
		t.Fatal(err)
	}
	money := func(v string) Money {
		if v == "" {
			return Money{Currency: s.Currency}
		}
		return MustParseMoney(string(s.Currency), v)
	}
	for _, x := range examples {
		t.Run(x.name, func(t *testing.T) {
			planID := x.plan
			if planID == "" {
				planID = s.Plans[0].ID
			}
			plan, err := s.Plan(planID)
			if err != nil {
				t.Fatal(err)
			}
			states := map[stateKey]PeriodState{}
			deds := map[string]Deduction{}
			events := map[string]Earning{}
			var last stateKey
			for i, xe := range x.events {
				e := Earning{
					EventID:    xe.id,
					PlatformID: xe.platform,
					WorkerRef:  xe.worker,
					WorkerKey:  "k-" + xe.worker,
					Gross:      money(xe.gross),
					Exclusions: Exclusions{Tips: money(xe.tips), Incentives: money(xe.incentives), Expenses: money(xe.expenses), Commission: money(xe.commission)},
					Orders:     xe.orders,
					Category:   Category{Sector: xe.sector, Vehicle: xe.vehicle},
					Region:     xe.region,
					Kind:       KindEarning,
				}
				if e.EventID == "" {
					e.EventID = "e" + itoa(i+1)
				}
				if e.PlatformID == "" {
					e.PlatformID = "p1"
				}
				if e.WorkerRef == "" {
					e.WorkerRef = "w1"
				}
				if e.Orders == 0 && !xe.zeroOrders {
					e.Orders = 1
				}
				if xe.adjustment {
					e.Kind = KindAdjustment
				}
				e.OccurredAt = exTime(t, xe.at, s.Location)
				var orig Deduction
				if xe.reverses != "" {
					o, ok := events[xe.reverses]
					if !ok {
						t.Fatalf("event %d reverses unknown %s", i+1, xe.reverses)
					}
					e.Kind, e.Reverses = KindReversal, xe.reverses
					e.Gross, e.Exclusions, e.Orders = neg(o.Gross), Exclusions{neg(o.Exclusions.Tips), neg(o.Exclusions.Incentives), neg(o.Exclusions.Expenses), neg(o.Exclusions.Commission)}, o.Orders
					orig = deds[xe.reverses]
				}
				if err := e.Validate(); err != nil {
					t.Fatalf("event %s: %v", e.EventID, err)
				}
				var d Deduction
				var after PeriodState
				var key stateKey
				if e.Kind == KindReversal {
					v, verr := plan.VersionAt(events[xe.reverses].OccurredAt)
					if verr != nil {
						t.Fatal(verr)
					}
					key = stateKey{e.PlatformID, e.WorkerRef, planID, orig.Period}
					d, after, err = v.Reverse(&e, &orig, states[key])
				} else {
					v, verr := plan.VersionAt(e.OccurredAt)
					if verr != nil {
						err = verr
					} else {
						key = stateKey{e.PlatformID, e.WorkerRef, planID, v.periodKey(e.OccurredAt)}
						d, after, err = v.Deduct(&e, states[key])
					}
				}
				if xe.err != "" {
					if err == nil || (detailCode(err) != xe.err && ErrorCode(err) != xe.err) {
						t.Fatalf("event %s: err = %v, want %s", e.EventID, err, xe.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("event %s: %v", e.EventID, err)
				}
				if d.Worker != money(xe.w) || d.Platform != money(xe.p) {
					t.Errorf("event %s: worker %s platform %s, want %s and %s (flags %s)", e.EventID, d.Worker, d.Platform, money(xe.w), money(xe.p), d.Flags)
				}
				if d.Total.Amount != d.Worker.Amount+d.Platform.Amount {
					t.Errorf("event %s: total %s is not worker + platform", e.EventID, d.Total)
				}
				if !d.Flags.Has(xe.flags) || d.Flags&xe.not != 0 {
					t.Errorf("event %s: flags %q, want %q set and %q unset", e.EventID, d.Flags, xe.flags, xe.not)
				}
				if xe.period != "" && d.Period != xe.period {
					t.Errorf("event %s: period %s, want %s", e.EventID, d.Period, xe.period)
				}
				states[key] = after
				deds[e.EventID] = d
				events[e.EventID] = e
				last = key
			}
			for _, xc := range x.closes {
				key := last
				if xc.period != "" {
					key.period = xc.period
				}
				if xc.platform != "" {
					key.platform = xc.platform
				}
				if xc.worker != "" {
					key.worker = xc.worker
				}
				st := states[key]
				p, err := plan.Versions[0].ParsePeriod(key.period)
				if err != nil {
					t.Fatal(err)
				}
				v, err := plan.VersionAt(p.End.Add(-time.Nanosecond))
				if err != nil {
					t.Fatal(err)
				}
				in := xc.in
				if in.PlatformID == "" {
					in.PlatformID = key.platform
				}
				res, err := v.Close(st, in)
				if err != nil {
					t.Fatalf("close %v: %v", key, err)
				}
				if len(res.Adjustments) != len(xc.adj) {
					t.Fatalf("close %v: adjustments %+v, want %+v", key, res.Adjustments, xc.adj)
				}
				for i, a := range xc.adj {
					got := res.Adjustments[i]
					if got.Kind != a.kind || got.Worker != money(a.w) || got.Platform != money(a.p) || got.Total.Amount != got.Worker.Amount+got.Platform.Amount {
						t.Errorf("close %v: adjustment %d = %+v, want %+v", key, i, got, a)
					}
				}
				if len(res.Notices) != len(xc.notices) {
					t.Fatalf("close %v: notices %+v, want %+v", key, res.Notices, xc.notices)
				}
				for i, n := range xc.notices {
					if got := res.Notices[i]; got.Kind != n.kind || got.Amount != money(n.amount) {
						t.Errorf("close %v: notice %d = %+v, want %+v", key, i, got, n)
					}
				}
				if xc.met != nil && res.ThresholdMet != *xc.met {
					t.Errorf("close %v: threshold met = %v, want %v", key, res.ThresholdMet, *xc.met)
				}
				// Closing again settles nothing more.
				again, err := v.Close(res.State, in)
				if err != nil || len(again.Adjustments) != 0 {
					t.Errorf("close %v again: %+v, %v", key, again.Adjustments, err)
				}
				states[key] = res.State
			}
		})
	}
}

func neg(m Money) Money { return Money{Amount: -m.Amount, Currency: m.Currency} }

func exTime(t testing.TB, s string, loc *time.Location) time.Time {
	t.Helper()
	if strings.Contains(s, "T") {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }
