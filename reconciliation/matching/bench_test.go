package matching

import (
	"encoding/hex"
	"fmt"
	"iter"
	"reflect"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// period is a generated period to reconcile: platforms × workers statement
// lines, as many advice lines, and receipts. Statements and advices are
// headers only; their lines are generated on demand by the period's
// LineSource, as a store would read them, so no slice of a million lines
// ever exists.
type period struct {
	platforms, workers int
	statements         []statement.Statement
	advices            []statement.Advice
	receipts           []Receipt
	accounts           []Platform
	index              map[string]int // statement or advice ID → platform number
	now                time.Time

	peakLive uint64 // highest live heap seen while lines were read
	reads    int
	sample   []metrics.Sample
}

// mix is splitmix64: a fast, well-spread hash for generated data.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// workerKey returns a 64-character hex key, like the HMAC-SHA256 worker
// keys of the ledger.
func workerKey(p, w int) string {
	var raw [32]byte
	seed := uint64(p)<<32 | uint64(w)
	for i := range 4 {
		v := mix(seed + uint64(i))
		for j := range 8 {
			raw[i*8+j] = byte(v >> (8 * j))
		}
	}
	var out [64]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// shares returns worker w of platform p's worker and platform shares.
func shares(p, w int) (int64, int64) {
	h := mix(uint64(p)*1_000_003 + uint64(w))
	worker := int64(500 + h%20_000)
	return worker, worker * 7 / 4
}

// advised returns what platform p's advice says for worker w, and whether
// the advice lists the worker at all: every 997th amount is a sen off and
// every 1,013th worker is left out.
func advised(p, w int) (int64, bool) {
	ws, ps := shares(p, w)
	switch {
	case (p+w)%1013 == 5:
		return 0, false
	case (p+w)%997 == 3:
		return ws + ps + 1, true
	}
	return ws + ps, true
}

const benchDue = 16 // November 2026

func newPeriod(platforms, workers, receipts int) *period {
	g := &period{platforms: platforms, workers: workers, index: map[string]int{},
		now:    time.Date(2027, 1, 10, 0, 0, 0, 0, kl),
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	due := calendar.D(2026, 11, benchDue)
	rel := 0
	add := func(r Receipt) {
		r.ID = fmt.Sprintf("r%06d", rel)
		rel++
		g.receipts = append(g.receipts, r)
	}
	for p := range platforms {
		pid := "plat-" + strconv.Itoa(p)
		ref, _ := rfref.Generate(rfref.Key{Platform: uint64(p + 1), Scheme: "SOCS", Period: "2026-10"})
		var total, adv int64
		for w := range workers {
			ws, ps := shares(p, w)
			total += ws + ps
			if a, ok := advised(p, w); ok {
				adv += a
			}
		}
		if p%7 == 0 {
			adv += 1234 // the unknown worker
		}
		st := statement.Statement{
			ID: pid + "/2026-10/0", Key: statement.Key{Platform: pid, Scheme: "SOCS", Period: "2026-10"},
			Kind: statement.Original, Reference: ref, Currency: "MYR", Total: myr(total), DueDate: due,
		}
		g.statements = append(g.statements, st)
		g.index[st.ID] = p
		acct := bankstatement.Account{Other: fmt.Sprintf("5140%08d", p)}
		g.accounts = append(g.accounts, Platform{ID: pid, Accounts: []bankstatement.Account{acct}})

		a := statement.Advice{ID: "adv-" + strconv.Itoa(p), Platform: pid, PaymentReference: ref, Amount: myr(adv), ValueDate: due}
		own := fmt.Sprintf("PLAT-%d-2026-10", p)
		if p%10 == 6 {
			a.PaymentReference, a.Scheme, a.Period = own, "SOCS", "2026-10"
		}
		g.advices = append(g.advices, a)
		g.index[a.ID] = p

		r := credit("", total, due.AddDays(-2))
		r.DebtorAccount = acct
		switch p % 10 {
		case 0, 1, 2, 3, 4: // one payment by reference
			r.CreditorRef = ref
			add(r)
		case 5: // three parts by reference, the last late
			for k, d := range []int{-5, -1, 9} {
				part := r
				part.CreditorRef, part.ValueDate, part.BookingDate = rfref.Format(ref), due.AddDays(d), due.AddDays(d)
				part.Amount = myr(total / 3)
				if k == 2 {
					part.Amount = myr(total - 2*(total/3))
				}
				add(part)
			}
		case 6: // the platform's own reference, from the advice
			r.EndToEndID = own
			add(r)
		case 7: // account only, two sen short
			r.Amount = myr(total - 2)
			add(r)
		case 8: // late, and every fourth returned
			r.CreditorRef, r.ValueDate, r.BookingDate = ref, due.AddDays(20), due.AddDays(20)
			r.EndToEndID = own
			add(r)
			if p%40 == 8 {
				rv := r
				rv.Direction, rv.Reversal, rv.CreditorRef = bankstatement.Debit, true, ""
				add(rv)
			}
		case 9: // nothing paid
		}
	}
	// The rest of the account's traffic: payments from elsewhere, some
	// from platforms' accounts that fit nothing, bank charges.
	for rel < receipts {
		h := mix(uint64(rel))
		r := credit("", int64(1_00+h%900_000), due.AddDays(int(h>>20%60)-30))
		switch h >> 40 % 20 {
		case 0:
			r.Direction = bankstatement.Debit
		case 1, 2, 3:
			r.DebtorAccount = g.accounts[int(h>>8)%platforms].Accounts[0]
		default:
			r.DebtorAccount = bankstatement.Account{Other: fmt.Sprintf("9%011d", h%1e11)}
			r.Remittance = fmt.Sprintf("INV %d RF12 %04d", h%100000, h%10000)
		}
		add(r)
	}
	return g
}

func (g *period) input() Input {
	return Input{Statements: g.statements, Advices: g.advices, Receipts: g.receipts, Platforms: g.accounts, Now: g.now, Lines: g}
}

func (g *period) measure() {
	if g.reads++; g.reads%50 != 0 {
		return
	}
	metrics.Read(g.sample)
	g.peakLive = max(g.peakLive, g.sample[0].Value.Uint64())
}

// StatementLines generates the statement's lines in worker order.
func (g *period) StatementLines(st *statement.Statement) iter.Seq2[statement.Line, error] {
	p := g.index[st.ID]
	g.measure()
	return func(yield func(statement.Line, error) bool) {
		for w := range g.workers {
			ws, ps := shares(p, w)
			if !yield(statement.Line{WorkerKey: workerKey(p, w), Worker: myr(ws), Platform: myr(ps)}, nil) {
				return
			}
		}
	}
}

// AdviceLines generates the advice's lines in reverse order, with its
// differences and, for every seventh platform, a worker the statement does
// not know.
func (g *period) AdviceLines(a *statement.Advice) iter.Seq2[statement.AdviceLine, error] {
	p := g.index[a.ID]
	return func(yield func(statement.AdviceLine, error) bool) {
		for w := g.workers - 1; w >= 0; w-- {
			if amt, ok := advised(p, w); ok && !yield(statement.AdviceLine{WorkerKey: workerKey(p, w), Amount: myr(amt)}, nil) {
				return
			}
		}
		if p%7 == 0 {
			yield(statement.AdviceLine{WorkerKey: workerKey(p, -1), Amount: myr(1234)}, nil)
		}
	}
}

// BenchmarkReconcile reconciles one period of 1,000 platforms × 1,000
// workers (1,000,000 statement lines and 1,000,000 advice lines, streamed)
// and 50,000 receipts, reporting seconds per reconciliation and the peak
// live heap. Then, at 250 × 250 and 500 × 500 lines with 50 receipts per
// platform, it runs the same reconciliation with linear scans in place of
// the indexes (each receipt scanning every statement, each advice line
// searching the lines seen so far), checks that both give the same result,
// and reports how many times slower the scans are; the ratio grows with
// the size, since the scans are quadratic.
//
//	go test ./reconciliation/matching -run '^$' -bench Reconcile -benchtime 3x
func BenchmarkReconcile(b *testing.B) {
	cfg := testConfig()
	b.Run("lines=1M/receipts=50k", func(b *testing.B) {
		g := newPeriod(1000, 1000, 50_000)
		b.ReportAllocs()
		b.ResetTimer()
		var res *Result
		for range b.N {
			var err error
			if res, err = Reconcile(cfg, g.input()); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
		b.ReportMetric(float64(g.peakLive)/(1<<20), "peak-live-MB")
		report(b, res)
	})
	for _, n := range []int{250, 500} {
		name := fmt.Sprintf("naive-vs-indexed/lines=%dk/receipts=%.1fk", n*n/1000, float64(n*50)/1000)
		b.Run(name, func(b *testing.B) {
			g := newPeriod(n, n, n*50)
			var fast, slow time.Duration
			for range b.N {
				t0 := time.Now()
				r1, err := Reconcile(cfg, g.input())
				t1 := time.Now()
				in := g.input()
				r2, err2 := reconcile(cfg, &in, newScan, compareNaive)
				t2 := time.Now()
				if err != nil || err2 != nil {
					b.Fatal(err, err2)
				}
				if !reflect.DeepEqual(r1, r2) {
					b.Fatal("the naive reconciliation disagrees with the indexed one")
				}
				fast += t1.Sub(t0)
				slow += t2.Sub(t1)
			}
			b.ReportMetric(float64(fast.Microseconds())/float64(b.N)/1000, "indexed-ms/op")
			b.ReportMetric(float64(slow.Microseconds())/float64(b.N)/1000, "naive-ms/op")
			b.ReportMetric(float64(slow)/float64(fast), "naive/indexed")
		})
	}
}

// report logs the shape of the result so a benchmark run shows it did the
// work it claims.
func report(b *testing.B, res *Result) {
	status := map[Status]int{}
	mismatches := 0
	for _, o := range res.Outcomes {
		status[o.Status]++
		mismatches += len(o.Mismatches)
	}
	b.Logf("%d outcomes %v, %d mismatches, %d allocations, %d in suspense, %d ignored, %d reversals",
		len(res.Outcomes), status, mismatches, len(res.Allocations), len(res.Suspense), len(res.Ignored), len(res.Reversals))
}

// TestGeneratedPeriod runs the benchmark's generated period at a small
// size, so the benchmark's data stays valid: invariants hold, the
// streamed lines give the expected mismatches, and the linear scans agree.
func TestGeneratedPeriod(t *testing.T) {
	g := newPeriod(30, 40, 300)
	in := g.input()
	res, err := Reconcile(testConfig(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, in, res)
	mismatches := 0
	for _, o := range res.Outcomes {
		mismatches += len(o.Mismatches)
	}
	want := 0
	for p := range 30 {
		for w := range 40 {
			if a, ok := advised(p, w); !ok {
				want++
			} else if ws, ps := shares(p, w); a != ws+ps {
				want++
			}
		}
		if p%7 == 0 {
			want++
		}
	}
	if mismatches != want {
		t.Errorf("%d mismatches, want %d", mismatches, want)
	}
	naive, err := reconcile(testConfig(), &in, newScan, compareNaive)
	if err != nil || !reflect.DeepEqual(res, naive) {
		t.Errorf("linear scans disagree (%v)", err)
	}
}
