package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Outcome is the stored reconciliation of one platform, scheme and period,
// from the latest matching run.
type Outcome struct {
	PlatformID string
	SchemeID   string
	Period     string
	Currency   gateway.Currency
	Status     string // paid, overpaid, open, underpaid or missing
	Due        int64
	DueDate    calendar.Date
	Paid       int64
	Shortfall  int64
	Overpaid   int64
	CarriedIn  int64 // part of Paid: credit carried forward from receipts identified for other periods
	CarriedOut int64 // what receipts identified for this period paid to other periods
	Late       bool
	Interest   int64 // on the parts paid late
	Accrued    int64 // on what is still open after its due date, as of the run
	Advised    int64
	Mismatches int
	Statements []OutcomeStatement
	RunID      int64
	AsOf       time.Time // the run's clock
}

// OutcomeStatement is how much of one statement of an outcome is paid.
type OutcomeStatement struct {
	ID      string `json:"id"`
	Seq     uint32 `json:"seq"`
	Total   int64  `json:"total_minor"`
	DueDate string `json:"due_date"`
	Paid    int64  `json:"paid_minor"`
	Open    int64  `json:"open_minor"`
}

// OutcomeFilter selects outcomes; empty fields select all.
type OutcomeFilter struct {
	PlatformID, SchemeID, Period string
}

// Outcomes returns the latest run's outcomes, by period, platform and
// scheme.
func (db *DB) Outcomes(ctx context.Context, f OutcomeFilter) ([]Outcome, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT o.platform_id, o.scheme_id, o.period, o.currency, o.status, o.due_minor, o.due_date, o.paid_minor,
		       o.shortfall_minor, o.overpaid_minor, o.late, o.interest_minor, o.accrued_minor, o.advised_minor,
		       o.mismatches, o.statements, o.run_id, r.as_of, o.carried_in_minor, o.carried_out_minor
		FROM reconciliation_outcomes o JOIN reconciliation_runs r ON r.id = o.run_id
		WHERE ($1 = '' OR o.platform_id = $1) AND ($2 = '' OR o.scheme_id = $2) AND ($3 = '' OR o.period = $3)
		ORDER BY o.period, o.platform_id, o.scheme_id`, f.PlatformID, f.SchemeID, f.Period)
	if err != nil {
		return nil, fmt.Errorf("read outcomes: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Outcome, error) {
		var o Outcome
		var cur string
		var due time.Time
		var sts []byte
		err := row.Scan(&o.PlatformID, &o.SchemeID, &o.Period, &cur, &o.Status, &o.Due, &due, &o.Paid, &o.Shortfall,
			&o.Overpaid, &o.Late, &o.Interest, &o.Accrued, &o.Advised, &o.Mismatches, &sts, &o.RunID, &o.AsOf, &o.CarriedIn, &o.CarriedOut)
		if err != nil {
			return o, err
		}
		o.Currency, o.DueDate, o.AsOf = gateway.Currency(strings.TrimSpace(cur)), calendarDate(&due), o.AsOf.UTC()
		return o, json.Unmarshal(sts, &o.Statements)
	})
}

// Mismatch is one worker on which an advice and the statements disagree.
type Mismatch struct {
	Kind        string // missing_worker, different_amount or unknown_worker
	StatementID string // "" when the advice named the period
	WorkerKey   string
	Currency    gateway.Currency
	Stated      int64
	Advised     int64
	AdviceIDs   []string
}

// Mismatches returns up to limit advice mismatches of one outcome, by
// worker key.
func (db *DB) Mismatches(ctx context.Context, platformID, schemeID, period string, limit int) ([]Mismatch, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT kind, statement_id, worker_key, currency, stated_minor, advised_minor, advice_ids
		FROM advice_mismatches WHERE platform_id = $1 AND scheme_id = $2 AND period = $3
		ORDER BY position LIMIT $4`, platformID, schemeID, period, limit)
	if err != nil {
		return nil, fmt.Errorf("read mismatches: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Mismatch, error) {
		var m Mismatch
		var cur string
		var ids []int64
		err := row.Scan(&m.Kind, &m.StatementID, &m.WorkerKey, &cur, &m.Stated, &m.Advised, &ids)
		m.Currency = gateway.Currency(strings.TrimSpace(cur))
		for _, id := range ids {
			m.AdviceIDs = append(m.AdviceIDs, strconv.FormatInt(id, 10))
		}
		return m, err
	})
}

// SuspenseItem is money received that pays no statement, with its receipt.
type SuspenseItem struct {
	StoredReceipt
	Amount gateway.Money // what is in suspense: the receipt, or what manual matches left of it
	Reason string        // unidentified, unmatched, manual_remainder or undated
}

// Suspense returns the latest run's suspense, oldest receipt first.
func (db *DB) Suspense(ctx context.Context) ([]SuspenseItem, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+receiptColumns+`, s.amount_minor, s.reason
		FROM suspense_items s JOIN receipts r ON r.id = s.receipt_id JOIN bank_statements b ON b.id = r.bank_statement_id
		ORDER BY r.id`)
	if err != nil {
		return nil, fmt.Errorf("read suspense: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (SuspenseItem, error) {
		var it SuspenseItem
		var id int64
		var dir, cur, status string
		var booked, valued *time.Time
		r := &it.Receipt.Receipt
		err := row.Scan(&id, &r.EntryRef, &r.BankRef, &r.EndToEndID, &dir, &cur, &r.Amount.Amount, &status, &r.Reversal,
			&booked, &valued, &r.CreditorRef, &r.Remittance, &r.DebtorName, &r.DebtorAccount.IBAN, &r.DebtorAccount.Other,
			&r.Line, &it.StatementRef, &it.Account, &it.ImportID, &it.Amount.Amount, &it.Reason)
		it.ID = strconv.FormatInt(id, 10)
		r.StatementID = it.StatementRef
		r.Direction, r.Status = bankstatement.Direction(dir), bankstatement.Status(status)
		r.Amount.Currency = gateway.Currency(strings.TrimSpace(cur))
		it.Amount.Currency = r.Amount.Currency
		r.BookingDate, r.ValueDate = calendarDate(booked), calendarDate(valued)
		return it, err
	})
}

// Allocation is money from one receipt credited to one statement by the
// latest run.
type Allocation struct {
	ReceiptID   string
	StatementID string
	Rule        string
	Amount      gateway.Money
	Overpayment bool
	Carried     bool   // credit carried forward from a receipt identified for another period
	CreditOf    string // for carried credit, the statement the receipt was identified for
	ValueDate   calendar.Date
	Late        int
	Interest    int64
}

// Allocations returns the latest run's allocations to a statement, or of a
// receipt, in the order they were made.
func (db *DB) Allocations(ctx context.Context, statementID, receiptID string) ([]Allocation, error) {
	receipt, _ := strconv.ParseInt(receiptID, 10, 64)
	rows, err := db.Pool.Query(ctx, `
		SELECT receipt_id, statement_id, rule, currency, amount_minor, overpayment, value_date, late, interest_minor,
		       carried, credit_of
		FROM match_allocations WHERE ($1 = '' OR statement_id = $1) AND ($2 = 0 OR receipt_id = $2) ORDER BY position`,
		statementID, receipt)
	if err != nil {
		return nil, fmt.Errorf("read allocations: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Allocation, error) {
		var a Allocation
		var id int64
		var cur string
		var vd *time.Time
		err := row.Scan(&id, &a.StatementID, &a.Rule, &cur, &a.Amount.Amount, &a.Overpayment, &vd, &a.Late, &a.Interest,
			&a.Carried, &a.CreditOf)
		a.ReceiptID, a.Amount.Currency, a.ValueDate = strconv.FormatInt(id, 10), gateway.Currency(strings.TrimSpace(cur)), calendarDate(vd)
		return a, err
	})
}

// LatestRun returns the latest matching run, or ENOTFOUND before the
// first.
func (db *DB) LatestRun(ctx context.Context) (Run, error) {
	var r Run
	var digest []byte
	err := db.Pool.QueryRow(ctx, `
		SELECT id, trigger, as_of, started_at, finished_at, statements, advices, receipts, allocations, suspense, mismatches, digest
		FROM reconciliation_runs ORDER BY id DESC LIMIT 1`).Scan(&r.ID, &r.Trigger, &r.AsOf, &r.StartedAt, &r.FinishedAt,
		&r.Statements, &r.Advices, &r.Receipts, &r.Allocations, &r.Suspense, &r.Mismatches, &digest)
	if err == pgx.ErrNoRows {
		return Run{}, gateway.Errorf(gateway.ENOTFOUND, "no matching run yet")
	}
	if err != nil {
		return Run{}, fmt.Errorf("read the latest run: %w", err)
	}
	r.Digest = [32]byte(digest)
	return r, nil
}
