package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/report"
)

// ReportRun is the matching run a report shows: its id and clock. The
// zero ReportRun means no run yet (and an empty report).
type ReportRun struct {
	ID   int64
	AsOf time.Time
}

// ReportFilter selects the outcomes of a report; empty fields select all.
type ReportFilter struct {
	Period, SchemeID, PlatformID string
}

// readReport runs read in a read-only snapshot, after calling start with
// the latest run, so the rows a report streams are those of the run it
// names even while a new run replaces them.
func (db *DB) readReport(ctx context.Context, start func(ReportRun) error, read func(tx pgx.Tx) error) error {
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin report: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var run ReportRun
	err = tx.QueryRow(ctx, `SELECT id, as_of FROM reconciliation_runs ORDER BY id DESC LIMIT 1`).Scan(&run.ID, &run.AsOf)
	if err != nil && err != pgx.ErrNoRows {
		return fmt.Errorf("read the latest run: %w", err)
	}
	run.AsOf = run.AsOf.UTC()
	if err := start(run); err != nil {
		return err
	}
	if err := read(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// eachRow scans each row of a query with scan and hands it to add, one
// at a time: rows stream from the server as they are read, never held.
func eachRow[T any](ctx context.Context, tx pgx.Tx, what string, scan func(pgx.Rows) (T, error), add func(T) error,
	sql string, args ...any) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		if err := add(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

// ReconciliationReport streams the latest run's outcomes of a period (the
// filter's Period is required) as report lines, by platform and scheme:
// start is called with the run first, then add with each line.
func (db *DB) ReconciliationReport(ctx context.Context, f ReportFilter, start func(ReportRun) error, add func(report.Line) error) error {
	return db.readReport(ctx, start, func(tx pgx.Tx) error {
		return eachRow(ctx, tx, "report lines", scanReportLine, add, `
			SELECT o.platform_id, coalesce(p.name, ''), o.scheme_id, o.period, o.currency, o.due_minor, o.advised_minor,
			       o.paid_minor, o.overpaid_minor, o.carried_in_minor, o.carried_out_minor, o.interest_minor, o.accrued_minor,
			       o.status, o.late, o.due_date, o.mismatches, coalesce(r.refs, '{}')
			FROM reconciliation_outcomes o LEFT JOIN platforms p ON p.id = o.platform_id
			LEFT JOIN (SELECT platform_id, scheme_id, array_agg(reference ORDER BY seq) AS refs
			           FROM statements WHERE period = $1 AND ($2 = '' OR scheme_id = $2) AND ($3 = '' OR platform_id = $3)
			           GROUP BY platform_id, scheme_id) r ON r.platform_id = o.platform_id AND r.scheme_id = o.scheme_id
			WHERE o.period = $1 AND ($2 = '' OR o.scheme_id = $2) AND ($3 = '' OR o.platform_id = $3)
			ORDER BY o.platform_id COLLATE "C", o.scheme_id COLLATE "C"`, f.Period, f.SchemeID, f.PlatformID)
	})
}

func scanReportLine(rows pgx.Rows) (report.Line, error) {
	var l report.Line
	var cur string
	var due time.Time
	var mismatches int32
	err := rows.Scan(&l.PlatformID, &l.PlatformName, &l.SchemeID, &l.Period, &cur, &l.Expected, &l.Advised, &l.Paid, &l.Overpaid,
		&l.CarriedIn, &l.CarriedOut, &l.InterestCharged, &l.InterestAccrued, &l.Status, &l.Late, &due, &mismatches, &l.References)
	l.Currency, l.DueDate, l.Mismatches = gateway.Currency(strings.TrimSpace(cur)), calendarDate(&due), int(mismatches)
	return l, err
}

// AgingReport streams what the latest run left open, a statement at a
// time, by platform and currency (the order report.Aging needs): start is
// called with the run first, then add with each open item. The filter's
// Period, when given, keeps that period's statements only.
func (db *DB) AgingReport(ctx context.Context, f ReportFilter, start func(ReportRun) error, add func(report.OpenItem) error) error {
	return db.readReport(ctx, start, func(tx pgx.Tx) error {
		return eachRow(ctx, tx, "open statements", scanOpenItem, add, `
			SELECT o.platform_id, coalesce(p.name, ''), o.scheme_id, o.period, o.currency, j.id, j.due_date, j.open_minor
			FROM reconciliation_outcomes o LEFT JOIN platforms p ON p.id = o.platform_id
			CROSS JOIN LATERAL jsonb_to_recordset(o.statements) AS j(id text, seq integer, due_date date, open_minor bigint)
			WHERE j.open_minor > 0 AND ($1 = '' OR o.period = $1) AND ($2 = '' OR o.scheme_id = $2) AND ($3 = '' OR o.platform_id = $3)
			ORDER BY o.platform_id COLLATE "C", o.currency COLLATE "C", j.due_date, o.scheme_id COLLATE "C", j.seq`,
			f.Period, f.SchemeID, f.PlatformID)
	})
}

func scanOpenItem(rows pgx.Rows) (report.OpenItem, error) {
	var it report.OpenItem
	var cur string
	var due time.Time
	err := rows.Scan(&it.PlatformID, &it.PlatformName, &it.SchemeID, &it.Period, &cur, &it.StatementID, &due, &it.Open)
	it.Currency, it.DueDate = gateway.Currency(strings.TrimSpace(cur)), calendarDate(&due)
	return it, err
}

// SuspenseReport streams the latest run's suspense, oldest receipt first:
// start is called with the run first, then add with each item.
func (db *DB) SuspenseReport(ctx context.Context, start func(ReportRun) error, add func(report.SuspenseLine) error) error {
	return db.readReport(ctx, start, func(tx pgx.Tx) error {
		return eachRow(ctx, tx, "suspense", scanSuspenseLine, add, `
			SELECT r.id, s.reason, s.currency, s.amount_minor, r.amount_minor, r.value_date, r.booking_date, r.debtor_name,
			       r.debtor_iban, r.debtor_other, r.creditor_ref, r.remittance, r.end_to_end_id, b.account, b.statement_ref, b.import_id
			FROM suspense_items s JOIN receipts r ON r.id = s.receipt_id JOIN bank_statements b ON b.id = r.bank_statement_id
			ORDER BY r.id`)
	})
}

func scanSuspenseLine(rows pgx.Rows) (report.SuspenseLine, error) {
	var l report.SuspenseLine
	var id int64
	var cur string
	var valued, booked *time.Time
	var debtor bankstatement.Account
	err := rows.Scan(&id, &l.Reason, &cur, &l.Amount.Amount, &l.Received.Amount, &valued, &booked, &l.DebtorName,
		&debtor.IBAN, &debtor.Other, &l.CreditorRef, &l.Remittance, &l.EndToEndID, &l.Account, &l.BankStatement, &l.ImportID)
	c := gateway.Currency(strings.TrimSpace(cur))
	l.ReceiptID, l.Amount.Currency, l.Received.Currency = strconv.FormatInt(id, 10), c, c
	l.ValueDate, l.BookingDate, l.DebtorAccount = calendarDate(valued), calendarDate(booked), debtor.String()
	return l, err
}
