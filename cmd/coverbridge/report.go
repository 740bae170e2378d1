package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/report"
)

const reportUsage = `usage: coverbridge report reconciliation --period KEY [--scheme ID] [--platform ID] [flags]
       coverbridge report aging [--as-of YYYY-MM-DD] [--period KEY] [--scheme ID] [--platform ID] [flags]
       coverbridge report suspense [flags]

Writes a finance report of the latest matching run in DATABASE_URL:

  reconciliation  per platform and scheme of a period: expected, advised,
                  received, variance, interest charged and accrued, status,
                  due date, RF references; totals per currency
  aging           what is still open per platform and currency, by days past
                  due as of a date (default today, UTC): not yet due, 1-30,
                  31-60, 61-90, over 90; totals per currency
  suspense        money received that pays no statement; totals per currency

as CSV (the main table only), JSON or an XLSX workbook, streamed: a report of
any size takes constant memory. With --out the file appears only once whole;
its extension chooses the format when --format is not given.

flags:
`

// runReport runs "coverbridge report KIND".
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "reconciliation" && args[0] != "aging" && args[0] != "suspense") {
		fmt.Fprint(stderr, reportUsage)
		return usageError{"report: expected reconciliation, aging or suspense"}
	}
	kind := args[0]
	fs := flag.NewFlagSet("report "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage); fs.PrintDefaults() }
	period := fs.String("period", "", "period key, such as 2026-10 (required for reconciliation)")
	scheme := fs.String("scheme", "", "only this scheme")
	platform := fs.String("platform", "", "only this platform")
	asOf := fs.String("as-of", "", "aging: the day ages are counted to, YYYY-MM-DD (default today, UTC)")
	formatName := fs.String("format", "", "csv, json or xlsx (default: by --out's extension, else csv)")
	out := fs.String("out", "", "file to write (default standard output)")
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (env DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("report %s takes no arguments, only flags", kind)}
	}
	if *dbURL == "" {
		return usageError{"report needs DATABASE_URL (or --database-url)"}
	}
	f := postgres.ReportFilter{Period: *period, SchemeID: *scheme, PlatformID: *platform}
	if kind == "reconciliation" || f.Period != "" {
		if err := report.ValidPeriod(f.Period); err != nil {
			return usageError{"--period: " + gateway.ErrorMessage(err)}
		}
	}
	day := calendar.DateOf(time.Now().UTC())
	if *asOf != "" {
		d, err := calendar.ParseDate(*asOf)
		if err != nil {
			return usageError{"--as-of: " + err.Error()}
		}
		day = d
	}
	name := cmp.Or(*formatName, strings.TrimPrefix(filepath.Ext(*out), "."), "csv")
	format, err := report.ParseFormat(name)
	if err != nil {
		return usageError{"--format: " + gateway.ErrorMessage(err)}
	}

	db, err := postgres.Open(ctx, postgres.Config{URL: *dbURL, MaxConns: 1})
	if err != nil {
		return err
	}
	defer db.Close()

	w, commit, abort, err := reportOutput(*out, stdout)
	if err != nil {
		return err
	}
	defer abort()
	rows, err := writeReport(ctx, db, kind, f, day, format, w)
	if err != nil {
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(stderr, "%s: %s report, %d rows\n", *out, kind, rows)
	}
	return nil
}

// writeReport streams one report to w and returns its number of rows.
func writeReport(ctx context.Context, db *postgres.DB, kind string, f postgres.ReportFilter, asOf calendar.Date, format report.Format, w io.Writer) (int, error) {
	rows := 0
	meta := func(run postgres.ReportRun, fields ...report.Field) []report.Field {
		at := ""
		if run.ID != 0 {
			at = run.AsOf.Format(time.RFC3339)
		}
		return append(append([]report.Field{{Key: "report", Value: report.Text(kind)}}, fields...),
			report.Field{Key: "run_id", Value: report.Int(run.ID)}, report.Field{Key: "run_as_of", Value: report.Text(at)})
	}
	var end func() error
	var err error
	switch kind {
	case "reconciliation":
		var r *report.Reconciliation
		err = db.ReconciliationReport(ctx, f, func(run postgres.ReportRun) error {
			r = report.NewReconciliation(report.NewWriter(format, w, meta(run, report.Field{Key: "period", Value: report.Text(f.Period)},
				report.Field{Key: "scheme_id", Value: report.Text(f.SchemeID)}, report.Field{Key: "platform_id", Value: report.Text(f.PlatformID)})))
			end = r.Close
			return nil
		}, func(l report.Line) error { rows++; return r.Add(l) })
	case "aging":
		var a *report.Aging
		err = db.AgingReport(ctx, f, func(run postgres.ReportRun) error {
			a = report.NewAging(report.NewWriter(format, w, meta(run, report.Field{Key: "as_of", Value: report.Day(asOf)})), asOf)
			end = a.Close
			return nil
		}, func(it report.OpenItem) error { rows++; return a.Add(it) })
	default:
		var s *report.Suspense
		err = db.SuspenseReport(ctx, func(run postgres.ReportRun) error {
			s = report.NewSuspense(report.NewWriter(format, w, meta(run)))
			end = s.Close
			return nil
		}, func(l report.SuspenseLine) error { rows++; return s.Add(l) })
	}
	if err != nil {
		return rows, err
	}
	return rows, end()
}

// reportOutput returns where a report goes: standard output, or a
// temporary file beside path that commit renames to path and abort
// removes.
func reportOutput(path string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, nil, nil, err
	}
	done := false
	commit = func() error {
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return err
		}
		done = true
		return nil
	}
	abort = func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}
	return tmp, commit, abort, nil
}
