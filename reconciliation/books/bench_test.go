package books_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
	"github.com/coverbridge/coverbridge/testing/banktest"
	"github.com/coverbridge/coverbridge/testing/meter"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// BenchmarkReconcilePeriod reconciles one period through the database:
// 1,000 platforms × 1,000 workers of my-gig in October 2026 (1,000,000
// ledger lines, closed into 1,000 statements of 1,000 lines), one
// remittance advice per platform with a line per worker (1,000,000 advice
// lines; every 997th worker advised a sen off, every 1,009th left out) and
// a camt.053 file of 50,000 receipts (49 part payments by RF reference per
// platform, one more with none that lands in suspense).
//
// The loop times a whole matching run over the stored data (read
// statements, advices, receipts, stream the 2,000,000 lines, match, write
// the result); the setup's stages are reported as metrics: close_s (settle
// and state), advice_s (store the advice), import_s (parse and store the
// bank file, then the run the import triggers). peak_heap_MB is the most
// heap in use seen during the runs. -short runs a tenth of the platforms.
func BenchmarkReconcilePeriod(b *testing.B) {
	ctx := context.Background()
	platforms, workers, perPlatform := 1000, 1000, 50
	if testing.Short() {
		platforms = 100
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: pgtest.New(b), MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	seedLedger(b, db, platforms, workers)
	b.Logf("seeded %d ledger entries in %s", platforms*workers, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	rep, err := keeper.ClosePeriod(ctx, "my-gig", "2026-10")
	if err != nil || len(rep.Statements) != platforms {
		b.Fatalf("close: %+v, %v", rep, err)
	}
	closeTime := time.Since(start)
	b.Logf("close: settling %s, stating %s", rep.Settling.Round(time.Millisecond), rep.Stating.Round(time.Millisecond))

	sts, err := db.Statements(ctx, postgres.StatementFilter{SchemeID: "my-gig", Limit: 1000})
	if err != nil || len(sts) != platforms {
		b.Fatalf("statements: %d, %v", len(sts), err)
	}
	start = time.Now()
	var advs []postgres.NewAdvice
	for _, st := range sts {
		advs = append(advs, benchAdvice(st, workers))
	}
	if _, err := db.StoreAdvices(ctx, advs, now); err != nil {
		b.Fatal(err)
	}
	adviceTime := time.Since(start)
	advs = nil

	var file bytes.Buffer
	var receipts []bankstatement.Receipt
	for _, st := range sts {
		part := st.Total.Amount / int64(perPlatform)
		for j := range perPlatform - 1 {
			amount := part
			if j == perPlatform-2 {
				amount = st.Total.Amount - part*int64(perPlatform-2)
			}
			receipts = append(receipts, banktest.Credit("MYR", amount, calendar.D(2026, 11, 10+j%10), st.Reference, ""))
		}
		receipts = append(receipts, banktest.Credit("MYR", 1234, calendar.D(2026, 11, 12), "", "UNKNOWN-"+st.Key.Platform))
	}
	if err := banktest.Camt053(&file, "BENCH", bankstatement.Statement{ID: "BENCH-1", Account: bankstatement.Account{Other: "564210002211"},
		Currency: "MYR", Receipts: receipts}); err != nil {
		b.Fatal(err)
	}
	receipts = nil
	start = time.Now()
	imp, err := keeper.ImportBankFile(ctx, &file, books.ImportOptions{Name: "bench.xml"})
	if err != nil || imp.Receipts != platforms*perPlatform {
		b.Fatalf("import: %+v, %v", imp, err)
	}
	importTime := time.Since(start)
	b.Logf("close %s, advice %s, import of %d receipts %s (its run %s)", closeTime.Round(time.Millisecond),
		adviceTime.Round(time.Millisecond), imp.Receipts, importTime.Round(time.Millisecond), imp.Run.Duration.Round(time.Millisecond))

	peak := meter.WatchHeap(5 * time.Millisecond)
	var run books.RunReport
	runs, go0, pg0 := 0, meter.ProcessCPU(), meter.BackendCPU(b, db.Pool)
	for b.Loop() {
		if run, err = keeper.Reconcile(ctx, books.TriggerManual); err != nil {
			b.Fatal(err)
		}
		runs++
	}
	b.StopTimer()
	goCPU, pgCPU := meter.ProcessCPU()-go0, meter.BackendCPU(b, db.Pool)-pg0
	heap := peak()
	if run.Digest != imp.Run.Digest {
		b.Errorf("the rerun's digest %s differs from the import's %s", run.Digest, imp.Run.Digest)
	}
	if run.Allocations != platforms*(perPlatform-1) || run.Suspense != platforms || run.Outcomes["paid"] != platforms {
		b.Errorf("run = %+v", run)
	}
	b.Logf("last run: load %s, match %s, save %s", run.Load.Round(time.Millisecond), run.Match.Round(time.Millisecond), run.Save.Round(time.Millisecond))
	b.Logf("run: %d statements, %d advices, %d receipts, %d allocations, %d in suspense, %d mismatches, outcomes %v",
		run.Statements, run.Advices, run.Receipts, run.Allocations, run.Suspense, run.Mismatches, run.Outcomes)
	b.ReportMetric(goCPU.Seconds()/float64(runs), "go_cpu_s/op")
	b.ReportMetric(pgCPU.Seconds()/float64(runs), "pg_cpu_s/op")
	b.ReportMetric(closeTime.Seconds(), "close_s")
	b.ReportMetric(adviceTime.Seconds(), "advice_s")
	b.ReportMetric(importTime.Seconds(), "import_s")
	b.ReportMetric(float64(heap)/(1<<20), "peak_heap_MB")
}

// seedLedger writes platforms × workers deductions of October 2026 under
// my-gig straight into the ledger, with the running totals and balances
// the engine would have left, in a few statements.
func seedLedger(b *testing.B, db *postgres.DB, platforms, workers int) {
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO platforms (id, name, country, currency, active_from)
		 SELECT 'p' || lpad(p::text, 4, '0'), 'Platform ' || p, 'MY', 'MYR', '2025-01-01' FROM generate_series(1, $1) p`,
		`INSERT INTO platform_schemes (platform_id, scheme_id, plan_id)
		 SELECT 'p' || lpad(p::text, 4, '0'), 'my-gig', 's83' FROM generate_series(1, $1) p`,
		`INSERT INTO ledger_entries (platform_id, event_id, worker_id, scheme_id, plan_id, plan_version, period, booked_period,
		        entry_kind, late, currency, worker_minor, platform_minor, gross_minor, base_minor, insured_minor, orders, units,
		        flags, source_partition, source_offset)
		 SELECT 'p' || lpad(p::text, 4, '0'), 'e' || w, md5(p || ':' || w) || md5(w || ':' || p), 'my-gig', 's83', 1,
		        '2026-10', '2026-10', 'deduction', false, 'MYR', 100 + (p * 7 + w * 13) % 5000, 0,
		        (100 + (p * 7 + w * 13) % 5000) * 80, (100 + (p * 7 + w * 13) % 5000) * 80, (100 + (p * 7 + w * 13) % 5000) * 80,
		        1, 0, 0, 0, p::bigint * 1000000 + w
		 FROM generate_series(1, $1) p, generate_series(1, $2) w`,
		`INSERT INTO worker_periods (worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base, insured,
		        orders, units, worker_minor, platform_minor)
		 SELECT worker_id, platform_id, scheme_id, plan_id, period, currency, 1, gross_minor, base_minor, insured_minor, 1, 0,
		        worker_minor, platform_minor
		 FROM ledger_entries`,
		`INSERT INTO platform_period_balances (platform_id, scheme_id, period, source_partition, currency, entries, late_entries,
		        worker_minor, platform_minor)
		 SELECT platform_id, scheme_id, booked_period, 0, currency, count(*), 0, sum(worker_minor), sum(platform_minor)
		 FROM ledger_entries GROUP BY platform_id, scheme_id, booked_period, currency`,
		`ANALYZE`,
	} {
		args := []any{platforms, workers}[:countParams(q)]
		if _, err := db.Pool.Exec(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
}

func countParams(q string) int {
	switch {
	case bytes.Contains([]byte(q), []byte("$2")):
		return 2
	case bytes.Contains([]byte(q), []byte("$1")):
		return 1
	}
	return 0
}

// benchAdvice is the platform's advice for its statement: every worker, every
// 997th a sen off, every 1,009th left out, the amount their sum.
func benchAdvice(st postgres.IssuedStatement, workers int) postgres.NewAdvice {
	a := statement.Advice{Platform: st.Key.Platform, PaymentReference: st.Reference, ValueDate: calendar.D(2026, 11, 10),
		Amount: gateway.Money{Currency: "MYR"}}
	p, _ := strconv.Atoi(strings.TrimPrefix(st.Key.Platform, "p"))
	for w := 1; w <= workers; w++ {
		n := p*1_000_000 + w
		if n%1009 == 0 {
			continue
		}
		amount := int64(100 + (p*7+w*13)%5000)
		if n%997 == 0 {
			amount++
		}
		a.Lines = append(a.Lines, statement.AdviceLine{WorkerKey: benchWorker(p, w), Amount: gateway.Money{Amount: amount, Currency: "MYR"}})
		a.Amount.Amount += amount
	}
	return postgres.NewAdvice{Ref: "bench-" + st.Key.Platform, Source: postgres.AdviceFromAPI, Advice: a}
}

// benchWorker is the worker key seedLedger gives worker w of platform p.
func benchWorker(p, w int) string {
	a := md5.Sum(fmt.Appendf(nil, "%d:%d", p, w))
	b := md5.Sum(fmt.Appendf(nil, "%d:%d", w, p))
	return hex.EncodeToString(a[:]) + hex.EncodeToString(b[:])
}
