package statement

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
)

var (
	kl     = mustZone("Asia/Kuala_Lumpur")
	issued = time.Date(2026, 11, 3, 9, 0, 0, 0, kl)
	key    = Key{Platform: "laju", Scheme: "SOCS", Period: "2026-10"}
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func socso(t testing.TB) Scheme {
	t.Helper()
	cal, err := calendar.Builtin("MY")
	if err != nil {
		t.Fatal(err)
	}
	rule, err := calendar.ParseRule("15th of next month")
	if err != nil {
		t.Fatal(err)
	}
	return Scheme{Code: "SOCS", Currency: "MYR", Location: kl, Unit: gateway.PeriodMonth, DueRule: rule, Calendar: cal}
}

func spec(t testing.TB) Spec {
	return Spec{Key: key, PlatformNumber: 42, Scheme: socso(t), IssuedAt: issued}
}

func entry(worker string, w, p int64) Entry {
	return Entry{Platform: "laju", Scheme: "SOCS", Period: "2026-10", WorkerKey: worker, WorkerMinor: w, PlatformMinor: p, Currency: "MYR"}
}

func late(e Entry, booked string) Entry {
	e.Late, e.BookedPeriod = true, booked
	return e
}

func myr(minor int64) gateway.Money { return gateway.Money{Amount: minor, Currency: "MYR"} }

func TestBuildOriginal(t *testing.T) {
	entries := []Entry{
		entry("wk-c", 100, 175),
		entry("wk-a", 50, 0),
		entry("wk-b", 30, 60),
		entry("wk-a", 25, 40),
		entry("wk-c", -100, -175), // a reversal cancels the first
		entry("wk-c", 10, 20),
	}
	st, err := Build(spec(t), slices.Values(entries), nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := rfref.Generate(rfref.Key{Platform: 42, Scheme: "SOCS", Period: "2026-10"})
	want := Statement{
		ID: ref, Key: key, Seq: 0, Kind: Original, Reference: ref, Currency: "MYR",
		Worker: myr(115), Platform: myr(120), Total: myr(235),
		DueDate:  calendar.D(2026, 11, 16), // the 15th is a Sunday
		IssuedAt: issued.UTC(),
		Lines: []Line{
			{WorkerKey: "wk-a", Worker: myr(75), Platform: myr(40)},
			{WorkerKey: "wk-b", Worker: myr(30), Platform: myr(60)},
			{WorkerKey: "wk-c", Worker: myr(10), Platform: myr(20)},
		},
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("Build =\n%+v\nwant\n%+v", st, want)
	}
	if err := rfref.Validate(st.Reference); err != nil {
		t.Errorf("reference %s: %v", st.Reference, err)
	}
	if st.IssuedAt.Location() != time.UTC {
		t.Errorf("IssuedAt in %v, want UTC", st.IssuedAt.Location())
	}
}

func TestBuildDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var entries []Entry
	for i := range 500 {
		e := entry(string(rune('a'+r.IntN(26)))+string(rune('a'+r.IntN(26))), r.Int64N(10_000)-2_000, r.Int64N(10_000))
		if i%17 == 0 {
			e = late(e, "2026-11")
		}
		entries = append(entries, e)
	}
	first, err := Build(spec(t), slices.Values(entries), nil)
	if err != nil {
		t.Fatal(err)
	}
	var sw, sp int64
	for _, e := range entries {
		sw += e.WorkerMinor
		sp += e.PlatformMinor
	}
	if first.Worker.Amount != sw || first.Platform.Amount != sp || first.Total.Amount != sw+sp {
		t.Errorf("totals %v %v %v, want %d %d %d", first.Worker, first.Platform, first.Total, sw, sp, sw+sp)
	}
	if !slices.IsSortedFunc(first.Lines, func(a, b Line) int { return cmpString(a.WorkerKey, b.WorkerKey) }) {
		t.Error("lines are not sorted by worker key")
	}
	for range 5 {
		r.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
		again, err := Build(spec(t), slices.Values(entries), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatal("Build of the same entries in another order gave another statement")
		}
	}
}

func TestBuildSupplementary(t *testing.T) {
	sp := spec(t)
	entries := []Entry{entry("wk-a", 100, 200), entry("wk-b", 50, 50), entry("wk-c", 10, 10)}
	orig, err := Build(sp, slices.Values(entries), nil)
	if err != nil {
		t.Fatal(err)
	}
	// After issue: a late earning for wk-a booked in November, a late
	// reversal of all of wk-c's, a new worker wk-d.
	entries = append(entries,
		late(entry("wk-a", 20, 40), "2026-11"),
		late(entry("wk-c", -10, -10), "2026-11"),
		late(entry("wk-d", 5, 7), "2026-11"),
	)
	sp.IssuedAt = time.Date(2026, 12, 2, 9, 0, 0, 0, kl)
	sup, err := Build(sp, slices.Values(entries), []Statement{orig})
	if err != nil {
		t.Fatal(err)
	}
	ref1, _ := rfref.Generate(rfref.Key{Platform: 42, Scheme: "SOCS", Period: "2026-10", Seq: 1})
	if sup.Kind != Supplementary || sup.Seq != 1 || sup.Supplements != orig.ID || sup.Reference != ref1 || sup.ID != ref1 {
		t.Errorf("supplementary header: kind %s seq %d supplements %s ref %s id %s", sup.Kind, sup.Seq, sup.Supplements, sup.Reference, sup.ID)
	}
	wantLines := []Line{
		{WorkerKey: "wk-a", Worker: myr(20), Platform: myr(40), Late: true},
		{WorkerKey: "wk-c", Worker: myr(-10), Platform: myr(-10), Late: true},
		{WorkerKey: "wk-d", Worker: myr(5), Platform: myr(7), Late: true},
	}
	if !reflect.DeepEqual(sup.Lines, wantLines) {
		t.Errorf("lines = %+v, want %+v", sup.Lines, wantLines)
	}
	if sup.Total != myr(52) || sup.LateEntries != 3 {
		t.Errorf("total %v late entries %d, want 52 and 3", sup.Total, sup.LateEntries)
	}
	// Late adjustments booked in November are due with November.
	if want := calendar.D(2026, 12, 15); sup.DueDate != want {
		t.Errorf("due %s, want %s", sup.DueDate, want)
	}
	if !reflect.DeepEqual(orig.Lines[0], Line{WorkerKey: "wk-a", Worker: myr(100), Platform: myr(200)}) {
		t.Error("building a supplementary statement changed the original")
	}

	// Nothing changed since: no second supplementary.
	if _, err := Build(sp, slices.Values(entries), []Statement{sup, orig}); !errors.Is(err, ErrUnchanged) {
		t.Errorf("Build with nothing new: %v, want ErrUnchanged", err)
	}
	// One more change: statement 2 states only it, whatever the order of
	// the earlier statements.
	entries = append(entries, late(entry("wk-b", 1, 1), "2026-12"))
	sup2, err := Build(sp, slices.Values(entries), []Statement{sup, orig})
	if err != nil {
		t.Fatal(err)
	}
	if sup2.Seq != 2 || sup2.Total != myr(2) || len(sup2.Lines) != 1 || sup2.DueDate != calendar.D(2027, 1, 15) {
		t.Errorf("second supplementary: seq %d total %v lines %+v due %s", sup2.Seq, sup2.Total, sup2.Lines, sup2.DueDate)
	}
}

// TestBuildSupplementarySums checks on random ledgers that the original
// plus every supplementary statement add up, per worker, to the ledger.
func TestBuildSupplementarySums(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	workers := []string{"w1", "w2", "w3", "w4", "w5", "w6"}
	for round := range 50 {
		var entries []Entry
		var issuedSt []Statement
		for step := range 4 {
			for range r.IntN(6) {
				e := entry(workers[r.IntN(len(workers))], r.Int64N(200)-50, r.Int64N(200)-50)
				if step > 0 {
					e = late(e, "2026-11")
				}
				entries = append(entries, e)
			}
			st, err := Build(spec(t), slices.Values(entries), issuedSt)
			if errors.Is(err, ErrUnchanged) {
				continue
			}
			if err != nil {
				t.Fatalf("round %d step %d: %v", round, step, err)
			}
			issuedSt = append(issuedSt, st)
		}
		want := map[string][2]int64{}
		for _, e := range entries {
			v := want[e.WorkerKey]
			want[e.WorkerKey] = [2]int64{v[0] + e.WorkerMinor, v[1] + e.PlatformMinor}
		}
		got := map[string][2]int64{}
		for _, st := range issuedSt {
			var tw, tp int64
			for _, l := range st.Lines {
				v := got[l.WorkerKey]
				got[l.WorkerKey] = [2]int64{v[0] + l.Worker.Amount, v[1] + l.Platform.Amount}
				tw += l.Worker.Amount
				tp += l.Platform.Amount
			}
			if st.Worker.Amount != tw || st.Platform.Amount != tp || st.Total.Amount != tw+tp {
				t.Fatalf("round %d: statement %d totals do not add up", round, st.Seq)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("round %d: worker %s: statements state %v, ledger %v", round, k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok && v != [2]int64{} {
				t.Fatalf("round %d: worker %s stated but not in the ledger", round, k)
			}
		}
	}
}

func TestBuildFiscalQuarter(t *testing.T) {
	cal, err := calendar.Builtin("IN")
	if err != nil {
		t.Fatal(err)
	}
	rule, _ := calendar.ParseRule("15th of the month after the quarter")
	kol := mustZone("Asia/Kolkata")
	sc := Scheme{Code: "COSS", Currency: "INR", Location: kol, Unit: gateway.PeriodQuarter, YearStart: time.April, DueRule: rule, Calendar: cal}
	k := Key{Platform: "p", Scheme: "COSS", Period: "FY2026-Q2"} // July to September 2026
	e := Entry{Platform: "p", Scheme: "COSS", Period: "FY2026-Q2", WorkerKey: "w", WorkerMinor: 100, Currency: "INR"}
	st, err := Build(Spec{Key: k, PlatformNumber: 9, Scheme: sc, IssuedAt: issued}, slices.Values([]Entry{e}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := calendar.D(2026, 10, 15); st.DueDate != want {
		t.Errorf("due %s, want %s", st.DueDate, want)
	}
	got, err := rfref.Parse(st.Reference)
	if err != nil || got.Period != "2026-Q2" || got.Scheme != "COSS" || got.Platform != 9 {
		t.Errorf("reference %s parses to %+v, %v", st.Reference, got, err)
	}
}

func TestBuildEmptyOriginal(t *testing.T) {
	st, err := Build(spec(t), slices.Values([]Entry(nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != myr(0) || len(st.Lines) != 0 || st.Kind != Original {
		t.Errorf("empty period: %+v", st)
	}
}

func TestBuildRejects(t *testing.T) {
	sp := spec(t)
	orig, err := Build(sp, slices.Values([]Entry{entry("w", 1, 1)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	other := orig
	other.Key.Period = "2026-09"
	second := orig
	second.Seq = 2
	krw := entry("w", 1, 1)
	krw.Currency = "KRW"
	noWorker := entry("", 1, 1)
	wrongKey := entry("w", 1, 1)
	wrongKey.Platform = "other"
	early := entry("w", 1, 1)
	early.BookedPeriod = "2026-09"
	badBooked := entry("w", 1, 1)
	badBooked.BookedPeriod = "2026-13"
	big := entry("w", 1<<62, 0)
	tests := []struct {
		name    string
		spec    func(*Spec)
		entries []Entry
		earlier []Statement
		field   string
	}{
		{"currency", nil, []Entry{entry("w", 1, 1), krw}, nil, "entries[1].currency"},
		{"worker key", nil, []Entry{noWorker}, nil, "entries[0].worker_key"},
		{"other key", nil, []Entry{wrongKey}, nil, "entries[0].period"},
		{"booked before period", nil, []Entry{early}, nil, "entries[0].booked_period"},
		{"booked period malformed", nil, []Entry{badBooked}, nil, "entries[0].booked_period"},
		{"overflow", nil, []Entry{big, big}, nil, "entries[1].worker_key"},
		{"earlier other key", nil, nil, []Statement{other}, "earlier"},
		{"earlier gap", nil, nil, []Statement{orig, second}, "earlier"},
		{"scheme mismatch", func(s *Spec) { s.Key.Scheme = "KRIA" }, nil, nil, "key.scheme"},
		{"no issue time", func(s *Spec) { s.IssuedAt = time.Time{} }, nil, nil, "issued_at"},
		{"no platform", func(s *Spec) { s.Key.Platform = "" }, nil, nil, "key.platform"},
		{"no calendar", func(s *Spec) { s.Scheme.Calendar = nil }, nil, nil, "scheme.calendar"},
		{"no zone", func(s *Spec) { s.Scheme.Location = nil }, nil, nil, "scheme.location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(t)
			if tt.spec != nil {
				tt.spec(&s)
			}
			_, err := Build(s, slices.Values(tt.entries), tt.earlier)
			var ge *gateway.Error
			if !errors.As(err, &ge) || ge.Code != gateway.EINVALID {
				t.Fatalf("err = %v, want an EINVALID *gateway.Error", err)
			}
			if len(ge.Details) == 0 || ge.Details[0].Field != tt.field {
				t.Errorf("err = %v, want field %s", err, tt.field)
			}
		})
	}
}
