package postgres_test

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
	"github.com/coverbridge/coverbridge/reconciliation/gaps"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
	"github.com/coverbridge/coverbridge/testing/banktest"
	"github.com/coverbridge/coverbridge/testing/meter"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// BenchmarkDetectGaps detects gaps over one period of my-gig: 1,000
// platforms × 1,000 workers in October 2026 (1,000,000 ledger lines, every
// 100th worker unregistered), closed into 1,000 statements, reconciled on
// 30 November against a bank file where 20 platforms paid nothing, 40 half,
// 100 paid late and the rest on time, with an unidentified receipt per
// platform and remittance advice from 50 platforms (every 97th worker a sen
// off). 20 platforms reported nothing in the last five weeks.
//
// first_s is the first detection, which opens every gap (about 73,000: 60,000
// of them withheld-not-remitted, one per worker of the 60 platforms that
// did not pay in full); the loop times detection again over the same data,
// which finds the same and writes nothing. -short runs a tenth of the
// platforms.
func BenchmarkDetectGaps(b *testing.B) {
	ctx := context.Background()
	platforms, workers := 1000, 1000
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
	now := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	detectAt := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

	start := time.Now()
	seedGapLedger(b, db, platforms, workers, detectAt)
	b.Logf("seeded %d ledger entries in %s", platforms*workers, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if rep, err := keeper.ClosePeriod(ctx, "my-gig", "2026-10"); err != nil || len(rep.Statements) != platforms {
		b.Fatalf("close: %+v, %v", rep, err)
	}
	b.Logf("closed in %s", time.Since(start).Round(time.Millisecond))
	sts, err := db.Statements(ctx, postgres.StatementFilter{SchemeID: "my-gig", Limit: platforms})
	if err != nil || len(sts) != platforms {
		b.Fatalf("statements: %d, %v", len(sts), err)
	}
	var advs []postgres.NewAdvice
	var receipts []bankstatement.Receipt
	for _, st := range sts {
		p, _ := strconv.Atoi(strings.TrimPrefix(st.Key.Platform, "p"))
		if p <= 50 {
			advs = append(advs, gapBenchAdvice(st, p, workers))
		}
		switch {
		case p%50 == 1: // nothing paid
		case p%50 == 2 || p%50 == 3:
			receipts = append(receipts, banktest.Credit("MYR", st.Total.Amount/2, calendar.D(2026, 11, 10), st.Reference, ""))
		case p%10 == 5:
			receipts = append(receipts, banktest.Credit("MYR", st.Total.Amount, calendar.D(2026, 11, 25), st.Reference, ""))
		default:
			receipts = append(receipts, banktest.Credit("MYR", st.Total.Amount, calendar.D(2026, 11, 10), st.Reference, ""))
		}
		receipts = append(receipts, banktest.Credit("MYR", 1234, calendar.D(2026, 11, 12), "", "UNKNOWN-"+st.Key.Platform))
	}
	if _, err := db.StoreAdvices(ctx, advs, now); err != nil {
		b.Fatal(err)
	}
	var file bytes.Buffer
	if err := banktest.Camt053(&file, "BENCH", bankstatement.Statement{ID: "BENCH-1", Account: bankstatement.Account{Other: "564210002211"},
		Currency: "MYR", Receipts: receipts}); err != nil {
		b.Fatal(err)
	}
	now = detectAt
	imp, err := keeper.ImportBankFile(ctx, &file, books.ImportOptions{Name: "bench.xml"})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("matching run: %+v", imp.Run.Outcomes)

	start = time.Now()
	go0, pg0 := meter.ProcessCPU(), meter.BackendCPU(b, db.Pool)
	first, err := db.DetectGaps(ctx, postgres.GapTriggerCommand, gaps.Config{}, detectAt)
	if err != nil {
		b.Fatal(err)
	}
	firstTime := time.Since(start)
	firstGo, firstPG := meter.ProcessCPU()-go0, meter.BackendCPU(b, db.Pool)-pg0
	b.Logf("first detection in %s (read %s, plan %s, write %s): %d found %v", firstTime.Round(time.Millisecond),
		first.Read.Round(time.Millisecond), first.Plan.Round(time.Millisecond), first.Write.Round(time.Millisecond), first.Found, first.Kinds)
	n := platforms / 50
	want := map[gaps.Kind]int{gaps.Missing: n, gaps.Underpaid: 2 * n, gaps.Late: platforms / 10, gaps.UnmatchedReceipt: platforms,
		gaps.WithheldNotRemitted: 3 * n * workers, gaps.UnregisteredWorker: platforms * workers / 100, gaps.SilentPlatform: n}
	for k, w := range want {
		if first.Kinds[k] < w {
			b.Errorf("%s: %d found, want at least %d", k, first.Kinds[k], w)
		}
	}
	if first.Opened != first.Found {
		b.Errorf("first detection opened %d of %d", first.Opened, first.Found)
	}

	var rep postgres.GapDetection
	runs := 0
	go0, pg0 = meter.ProcessCPU(), meter.BackendCPU(b, db.Pool)
	for b.Loop() {
		runs++
		if rep, err = db.DetectGaps(ctx, postgres.GapTriggerCommand, gaps.Config{}, detectAt); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	goCPU, pgCPU := meter.ProcessCPU()-go0, meter.BackendCPU(b, db.Pool)-pg0
	b.Logf("last detection: read %s, plan %s, write %s", rep.Read.Round(time.Millisecond), rep.Plan.Round(time.Millisecond),
		rep.Write.Round(time.Millisecond))
	b.Logf("stages of the first: %v; of the last: %v", first.Stages, rep.Stages)
	if rep.Found != first.Found || rep.Opened+rep.Updated+rep.Cured+rep.Reopened != 0 {
		b.Errorf("detecting again changed something: %+v", rep)
	}
	b.ReportMetric(goCPU.Seconds()/float64(runs), "go_cpu_s/op")
	b.ReportMetric(pgCPU.Seconds()/float64(runs), "pg_cpu_s/op")
	b.ReportMetric(firstTime.Seconds(), "first_s")
	b.ReportMetric(firstGo.Seconds(), "first_go_cpu_s")
	b.ReportMetric(firstPG.Seconds(), "first_pg_cpu_s")
	b.ReportMetric(float64(first.Found), "gaps")
}

// seedGapLedger writes platforms × workers deductions of October 2026
// under my-gig straight into the ledger, with the running totals and
// balances the engine would have left. Every 100th worker is
// unregistered; entries were recorded over the 35 days before at, those
// of every 50th platform over the 28 days before the last 8.
func seedGapLedger(b *testing.B, db *postgres.DB, platforms, workers int, at time.Time) {
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO platforms (id, name, country, currency, active_from)
		 SELECT 'p' || lpad(p::text, 4, '0'), 'Platform ' || p, 'MY', 'MYR', '2025-01-01' FROM generate_series(1, $1) p`,
		`INSERT INTO platform_schemes (platform_id, scheme_id, plan_id)
		 SELECT 'p' || lpad(p::text, 4, '0'), 'my-gig', 's83' FROM generate_series(1, $1) p`,
		`INSERT INTO ledger_entries (platform_id, event_id, worker_id, scheme_id, plan_id, plan_version, period, booked_period,
		        entry_kind, late, currency, worker_minor, platform_minor, gross_minor, base_minor, insured_minor, orders, units,
		        flags, registered, source_partition, source_offset, created_at)
		 SELECT 'p' || lpad(p::text, 4, '0'), 'e' || w,
		        CASE WHEN w % 100 = 0 THEN 'ref:p' || lpad(p::text, 4, '0') || ':drv-' || w ELSE md5(p || ':' || w) || md5(w || ':' || p) END,
		        'my-gig', 's83', 1, '2026-10', '2026-10', 'deduction', false, 'MYR', 100 + (p * 7 + w * 13) % 5000, 0,
		        (100 + (p * 7 + w * 13) % 5000) * 80, (100 + (p * 7 + w * 13) % 5000) * 80, (100 + (p * 7 + w * 13) % 5000) * 80,
		        1, 0, 0, w % 100 <> 0, 0, p::bigint * 1000000 + w,
		        CASE WHEN p % 50 = 0 THEN $3::timestamptz - make_interval(days => 8 + w % 28, hours => 1)
		             ELSE $3::timestamptz - make_interval(days => w % 35, hours => 1) END
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
		var args []any
		switch {
		case strings.Contains(q, "$3"):
			args = []any{platforms, workers, at}
		case strings.Contains(q, "$1"):
			args = []any{platforms}
		}
		if _, err := db.Pool.Exec(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
}

// gapBenchAdvice is platform p's advice for its statement: every worker,
// every 97th a sen off.
func gapBenchAdvice(st postgres.IssuedStatement, p, workers int) postgres.NewAdvice {
	a := statement.Advice{Platform: st.Key.Platform, PaymentReference: st.Reference, ValueDate: calendar.D(2026, 11, 10),
		Amount: gateway.Money{Currency: "MYR"}}
	for w := 1; w <= workers; w++ {
		k := gapBenchWorker(st.Key.Platform, p, w)
		amount := int64(100 + (p*7+w*13)%5000)
		if w%97 == 0 {
			amount++
		}
		a.Lines = append(a.Lines, statement.AdviceLine{WorkerKey: k, Amount: gateway.Money{Amount: amount, Currency: "MYR"}})
		a.Amount.Amount += amount
	}
	return postgres.NewAdvice{Ref: "bench-" + st.Key.Platform, Source: postgres.AdviceFromAPI, Advice: a}
}

// gapBenchWorker is the worker id seedGapLedger gives worker w of platform
// p.
func gapBenchWorker(platformID string, p, w int) string {
	if w%100 == 0 {
		return "ref:" + platformID + ":drv-" + strconv.Itoa(w)
	}
	x := md5.Sum(fmt.Appendf(nil, "%d:%d", p, w))
	y := md5.Sum(fmt.Appendf(nil, "%d:%d", w, p))
	return hex.EncodeToString(x[:]) + hex.EncodeToString(y[:])
}
