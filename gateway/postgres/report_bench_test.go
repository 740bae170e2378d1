package postgres_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/report"
	"github.com/coverbridge/coverbridge/testing/meter"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// BenchmarkReconciliationReportXLSX writes the XLSX reconciliation report
// of one period from PostgreSQL for 1,000, 10,000 and 100,000 platforms
// (one outcome and one statement each, statuses mixed), streamed: rows
// come through a cursor and go into the workbook as they are read. naive
// does the same with everything in memory (the outcomes read into a
// slice, the workbook built with excelize's cell API, then written); it
// runs to 10,000 platforms. peak_heap_MB is the most heap in use seen
// during the runs, after a collection before them; go_cpu_ms/op the CPU
// this process spent per report (PostgreSQL's is apart); xlsx_KB the size
// of the file. The ratio of naive to streamed time and peak heap is logged
// per size. -short stops at 10,000 platforms.
func BenchmarkReconciliationReportXLSX(b *testing.B) {
	sizes := []int{1000, 10_000, 100_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, n := range sizes {
		db := seedReport(b, n)
		var streamed, naive benchResult
		b.Run(fmt.Sprintf("streamed/platforms=%d", n), func(b *testing.B) {
			streamed = benchReport(b, func(w io.Writer) (int, error) { return streamedReport(db, w) }, n)
		})
		if n <= 10_000 {
			b.Run(fmt.Sprintf("naive/platforms=%d", n), func(b *testing.B) {
				naive = benchReport(b, func(w io.Writer) (int, error) { return naiveReport(db, w) }, n)
			})
			if streamed.perOp > 0 && naive.perOp > 0 {
				fmt.Printf("%d platforms: naive/streamed time %.1f×, peak heap %.1f×\n", n,
					float64(naive.perOp)/float64(streamed.perOp), float64(naive.peak)/float64(streamed.peak))
			}
		}
		db.Close()
	}
}

// benchResult is what a sub-benchmark measured: time per report and the
// peak heap.
type benchResult struct {
	perOp time.Duration
	peak  uint64
}

func benchReport(b *testing.B, write func(io.Writer) (int, error), n int) benchResult {
	var size int64
	peak := meter.WatchHeap(2 * time.Millisecond)
	cpu0, runs, start := meter.ProcessCPU(), 0, time.Now()
	for b.Loop() {
		runs++
		cw := &countingWriter{}
		rows, err := write(cw)
		if err != nil || rows != n {
			b.Fatalf("%d rows, %v", rows, err)
		}
		size = cw.n
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(meter.ProcessCPU()-cpu0)/float64(time.Millisecond)/float64(runs), "go_cpu_ms/op")
	res := benchResult{perOp: elapsed / time.Duration(runs), peak: peak()}
	b.ReportMetric(float64(res.peak)/(1<<20), "peak_heap_MB")
	b.ReportMetric(float64(size)/(1<<10), "xlsx_KB")
	return res
}

// streamedReport is what GET /v1/finance/reports/reconciliation?format=xlsx
// and coverbridge report reconciliation do.
func streamedReport(db *postgres.DB, w io.Writer) (int, error) {
	rows := 0
	var r *report.Reconciliation
	err := db.ReconciliationReport(context.Background(), postgres.ReportFilter{Period: "2026-10"}, func(run postgres.ReportRun) error {
		r = report.NewReconciliation(report.NewWriter(report.XLSX, w, []report.Field{{Key: "run_id", Value: report.Int(run.ID)}}))
		return nil
	}, func(l report.Line) error { rows++; return r.Add(l) })
	if err != nil {
		return rows, err
	}
	return rows, r.Close()
}

// naiveReport reads every outcome into memory and builds the workbook
// with excelize's cell API before writing it.
func naiveReport(db *postgres.DB, w io.Writer) (int, error) {
	os, err := db.Outcomes(context.Background(), postgres.OutcomeFilter{Period: "2026-10"})
	if err != nil {
		return 0, err
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Sheet1"
	for i, c := range report.LineColumns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(sheet, cell, c.Title); err != nil {
			return 0, err
		}
	}
	for i, o := range os {
		m := func(a int64) string { return gateway.Money{Amount: a, Currency: o.Currency}.String() }
		refs := make([]string, len(o.Statements))
		for j, s := range o.Statements {
			refs[j] = s.ID
		}
		received := o.Paid + o.Overpaid
		row := []any{o.PlatformID, "", o.SchemeID, o.Period, string(o.Currency), m(o.Due), m(o.Advised), m(received), m(received - o.Due),
			m(o.Interest), m(o.Accrued), m(o.Interest + o.Accrued), m(o.CarriedIn), m(o.CarriedOut), o.Status, o.Late,
			o.DueDate.String(), strings.Join(refs, " "), o.Mismatches}
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
			switch v := v.(type) {
			case string:
				if j >= 5 && j <= 13 {
					err = f.SetCellDefault(sheet, cell, v) // a number, exactly as written
				} else {
					err = f.SetCellStr(sheet, cell, v)
				}
			default:
				err = f.SetCellValue(sheet, cell, v)
			}
			if err != nil {
				return 0, err
			}
		}
	}
	_, err = f.WriteTo(w)
	return len(os), err
}

// seedReport is a database with n platforms, each with one statement of
// my-gig for October 2026 and the outcome of a matching run: paid,
// underpaid, overpaid, missing and open in turn.
func seedReport(b *testing.B, n int) *postgres.DB {
	b.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: pgtest.New(b)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for _, q := range []string{
		`INSERT INTO platforms (id, name, country, currency, active_from)
		 SELECT 'p' || lpad(i::text, 6, '0'), 'Platform ' || i, 'MY', 'MYR', '2025-01-01' FROM generate_series(1, $1) i`,
		`INSERT INTO scheme_periods (scheme_id, period, status, closed_at) VALUES ('my-gig', '2026-10', 'closed', '2026-11-04')
		 ON CONFLICT (scheme_id, period) DO NOTHING`,
		`INSERT INTO statements (id, platform_id, scheme_id, scheme_code, period, seq, kind, reference, currency, worker_minor,
		                         platform_minor, total_minor, due_date, late_entries, lines, booked_period, issued_at)
		 SELECT 'RF00MYGW' || lpad(i::text, 8, '0'), 'p' || lpad(i::text, 6, '0'), 'my-gig', 'MYGW', '2026-10', 0, 'original',
		        'RF00MYGW' || lpad(i::text, 8, '0'), 'MYR', 100000 + i * 37 % 900000, 0, 100000 + i * 37 % 900000, '2026-11-16',
		        0, 1000, '2026-10', '2026-11-04'
		 FROM generate_series(1, $1) i`,
		`INSERT INTO reconciliation_runs (trigger, as_of, started_at, finished_at, statements, advices, receipts, allocations,
		                                  suspense, mismatches, digest)
		 VALUES ('manual', '2026-11-20', now(), now(), $1, 0, 0, 0, 0, 0, sha256('bench'))`,
		`INSERT INTO reconciliation_outcomes (run_id, platform_id, scheme_id, period, currency, status, due_minor, due_date, paid_minor,
		                                      shortfall_minor, overpaid_minor, late, interest_minor, accrued_minor, advised_minor,
		                                      mismatches, statements)
		 SELECT r.id, s.platform_id, 'my-gig', '2026-10', 'MYR', x.status, s.total_minor, s.due_date, x.paid,
		        s.total_minor - least(x.paid, s.total_minor), greatest(x.paid - s.total_minor, 0), x.late, x.interest, x.accrued,
		        s.total_minor, 0,
		        jsonb_build_array(jsonb_build_object('id', s.id, 'seq', 0, 'total_minor', s.total_minor, 'due_date', '2026-11-16',
		                                             'paid_minor', least(x.paid, s.total_minor), 'open_minor', s.total_minor - least(x.paid, s.total_minor)))
		 FROM statements s CROSS JOIN (SELECT max(id) AS id FROM reconciliation_runs) r
		 CROSS JOIN LATERAL (SELECT
		        (ARRAY['paid', 'underpaid', 'overpaid', 'missing', 'open'])[1 + ctid_n % 5] AS status,
		        (ARRAY[s.total_minor, s.total_minor / 2, s.total_minor + 1234, 0, 0])[1 + ctid_n % 5] AS paid,
		        ctid_n % 5 = 0 AS late, CASE WHEN ctid_n % 5 = 0 THEN 17 ELSE 0 END AS interest,
		        CASE WHEN ctid_n % 5 IN (1, 3) THEN 25 ELSE 0 END AS accrued
		     FROM (SELECT substr(s.id, 9)::int AS ctid_n) k) x`,
		`ANALYZE platforms; ANALYZE statements; ANALYZE reconciliation_outcomes`,
	} {
		var err error
		if strings.Contains(q, "$1") {
			_, err = db.Pool.Exec(ctx, q, n)
		} else {
			_, err = db.Pool.Exec(ctx, q)
		}
		if err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	b.Logf("seeded %d platforms in %s", n, time.Since(start).Round(time.Millisecond))
	return db
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
