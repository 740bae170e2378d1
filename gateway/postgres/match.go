package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/matching"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// reconcileLock serialises matching runs.
var reconcileLock = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("reconcile"))
	return int64(h.Sum64())
}()

// ReconcileTx is the transaction of one matching run: it reads everything
// matching looks at, streams statement and advice lines as a
// matching.LineSource, and replaces the stored result. Obtain one with
// InReconcile.
type ReconcileTx struct {
	tx    pgx.Tx
	ctx   context.Context
	lines lineReader
}

// InReconcile runs fn in one transaction that holds the lock of matching
// runs, so two runs never interleave; the transaction commits when fn
// returns nil.
func (db *DB) InReconcile(ctx context.Context, fn func(*ReconcileTx) error) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, reconcileLock); err != nil {
			return fmt.Errorf("lock matching: %w", err)
		}
		return fn(&ReconcileTx{tx: tx, ctx: ctx})
	})
}

// Statements returns every statement's header, by key and number.
func (r *ReconcileTx) Statements(ctx context.Context) ([]IssuedStatement, error) {
	sts, err := readIssued(ctx, r.tx, `ORDER BY s.platform_id, s.scheme_id, s.period, s.seq`)
	r.lines.init()
	for _, s := range sts {
		r.lines.counts[LineRef{ID: s.ID}] = s.LineCount
	}
	return sts, err
}

// Advices returns every remittance advice's header. Advice.Scheme is the
// scheme's id.
func (r *ReconcileTx) Advices(ctx context.Context) ([]statement.Advice, error) {
	rows, err := r.tx.Query(ctx, `SELECT `+adviceColumns+` FROM remittance_advices a ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("read advices: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanAdvice)
	if err != nil {
		return nil, fmt.Errorf("read advices: %w", err)
	}
	out := make([]statement.Advice, len(list))
	r.lines.init()
	for i := range list {
		out[i] = list[i].Advice
		r.lines.counts[LineRef{Advice: true, ID: list[i].ID}] = list[i].LineCount
	}
	return out, nil
}

// Receipts returns every receipt.
func (r *ReconcileTx) Receipts(ctx context.Context) ([]matching.Receipt, error) {
	list, err := readReceipts(ctx, r.tx, `ORDER BY r.id`)
	if err != nil {
		return nil, err
	}
	out := make([]matching.Receipt, len(list))
	for i := range list {
		out[i] = list[i].Receipt
	}
	return out, nil
}

// Platforms returns the platforms with a remittance account. An account
// that looks like an IBAN (two letters, two digits, then letters and
// digits) is one; any other is an "other" identifier.
func (r *ReconcileTx) Platforms(ctx context.Context) ([]matching.Platform, error) {
	rows, err := r.tx.Query(ctx, `SELECT id, remittance_account FROM platforms WHERE remittance_account <> '' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read platforms: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (matching.Platform, error) {
		var p matching.Platform
		var acct string
		err := row.Scan(&p.ID, &acct)
		p.Accounts = []bankstatement.Account{ParseAccount(acct)}
		return p, err
	})
}

// ParseAccount reads an account as written: an IBAN when it looks like one,
// another identifier otherwise.
func ParseAccount(s string) bankstatement.Account {
	k := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	if len(k) >= 15 && len(k) <= 34 && isUpper(k[0]) && isUpper(k[1]) && isDigit(k[2]) && isDigit(k[3]) && alnum(k) {
		return bankstatement.Account{IBAN: k}
	}
	return bankstatement.Account{Other: strings.TrimSpace(s)}
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func alnum(s string) bool {
	for i := range len(s) {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// Decisions returns every manual decision, in the order they were made.
func (r *ReconcileTx) Decisions(ctx context.Context) ([]matching.Decision, error) {
	return readDecisions(ctx, r.tx, `ORDER BY d.decided_at, d.id`)
}

const decisionColumns = `d.id, d.kind, d.receipt_id, coalesce(d.statement_id, ''), coalesce(d.amount_minor, 0),
	coalesce(d.currency, ''), d.reason, d.decided_by, d.decided_at`

func readDecisions(ctx context.Context, q querier, where string, args ...any) ([]matching.Decision, error) {
	rows, err := q.Query(ctx, `SELECT `+decisionColumns+` FROM match_decisions d `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (matching.Decision, error) {
		var d matching.Decision
		var id, receipt int64
		var kind, cur string
		err := row.Scan(&id, &kind, &receipt, &d.StatementID, &d.Amount.Amount, &cur, &d.Reason, &d.User, &d.At)
		d.ID, d.ReceiptID, d.Kind = strconv.FormatInt(id, 10), strconv.FormatInt(receipt, 10), matching.DecisionKind(kind)
		d.Amount.Currency = gateway.Currency(strings.TrimSpace(cur))
		d.At = d.At.UTC()
		return d, err
	})
}

// Run is the record of one matching run.
type Run struct {
	ID         int64
	Trigger    string // import, manual, decision, schedule or close
	AsOf       time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Statements int
	Advices    int
	Receipts   int
	// Counts of the result.
	Allocations int
	Suspense    int
	Mismatches  int
	Digest      [32]byte
}

// SaveResult replaces the stored result with res and records the run.
// schemeID maps a statement key's scheme code to the scheme's id.
func (r *ReconcileTx) SaveResult(ctx context.Context, run Run, res *matching.Result, schemeID func(code string) string) (int64, error) {
	for _, t := range []string{"match_allocations", "suspense_items", "ignored_receipts", "receipt_reversals",
		"reconciliation_outcomes", "advice_mismatches", "decision_results"} {
		if _, err := r.tx.Exec(ctx, `DELETE FROM `+t); err != nil {
			return 0, fmt.Errorf("clear %s: %w", t, err)
		}
	}
	for _, o := range res.Outcomes {
		run.Mismatches += len(o.Mismatches)
	}
	run.Allocations, run.Suspense = len(res.Allocations), len(res.Suspense)
	err := r.tx.QueryRow(ctx, `
		INSERT INTO reconciliation_runs (trigger, as_of, started_at, finished_at, statements, advices, receipts,
		       allocations, suspense, mismatches, digest)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		run.Trigger, run.AsOf, run.StartedAt, run.FinishedAt, run.Statements, run.Advices, run.Receipts,
		run.Allocations, run.Suspense, run.Mismatches, run.Digest[:]).Scan(&run.ID)
	if err != nil {
		return 0, fmt.Errorf("record run: %w", err)
	}
	id := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
	copies := []struct {
		table string
		cols  []string
		rows  func(yield func([]any) bool)
	}{
		{"match_allocations", []string{"run_id", "position", "receipt_id", "statement_id", "rule", "currency", "amount_minor",
			"overpayment", "value_date", "late", "interest_minor", "carried", "credit_of"}, func(yield func([]any) bool) {
			for i, a := range res.Allocations {
				if !yield([]any{run.ID, i, id(a.ReceiptID), a.StatementID, string(a.Rule), string(a.Amount.Currency), a.Amount.Amount,
					a.Overpayment, dateOf(a.ValueDate), a.Late, a.Interest.Amount, a.Carried, a.CreditOf}) {
					return
				}
			}
		}},
		{"suspense_items", []string{"run_id", "receipt_id", "currency", "amount_minor", "reason"}, func(yield func([]any) bool) {
			for _, s := range res.Suspense {
				if !yield([]any{run.ID, id(s.ReceiptID), string(s.Amount.Currency), s.Amount.Amount, s.Reason}) {
					return
				}
			}
		}},
		{"ignored_receipts", []string{"run_id", "receipt_id", "reason"}, func(yield func([]any) bool) {
			for _, g := range res.Ignored {
				if !yield([]any{run.ID, id(g.ReceiptID), g.Reason}) {
					return
				}
			}
		}},
		{"receipt_reversals", []string{"run_id", "reversal_id", "receipt_id"}, func(yield func([]any) bool) {
			for _, v := range res.Reversals {
				if !yield([]any{run.ID, id(v.ReversalID), id(v.ReceiptID)}) {
					return
				}
			}
		}},
		{"reconciliation_outcomes", []string{"run_id", "platform_id", "scheme_id", "period", "currency", "status", "due_minor",
			"due_date", "paid_minor", "shortfall_minor", "overpaid_minor", "late", "interest_minor", "accrued_minor",
			"advised_minor", "mismatches", "statements", "carried_in_minor", "carried_out_minor"}, func(yield func([]any) bool) {
			for _, o := range res.Outcomes {
				sts := make([]OutcomeStatement, len(o.Statements))
				for i, s := range o.Statements {
					sts[i] = OutcomeStatement{ID: s.ID, Seq: s.Seq, Total: s.Total.Amount, DueDate: s.DueDate.String(), Paid: s.Paid.Amount, Open: s.Open.Amount}
				}
				js, _ := json.Marshal(sts)
				if !yield([]any{run.ID, o.Key.Platform, schemeID(o.Key.Scheme), o.Key.Period, string(o.Currency), string(o.Status),
					o.Due.Amount, dateOf(o.DueDate), o.Paid.Amount, o.Shortfall.Amount, o.Overpaid.Amount, o.Late, o.Interest.Amount,
					o.Accrued.Amount, o.Advised.Amount, len(o.Mismatches), string(js), o.CarriedIn.Amount, o.CarriedOut.Amount}) {
					return
				}
			}
		}},
		{"advice_mismatches", []string{"run_id", "platform_id", "scheme_id", "period", "position", "kind", "statement_id",
			"worker_key", "currency", "stated_minor", "advised_minor", "advice_ids"}, func(yield func([]any) bool) {
			for _, o := range res.Outcomes {
				for i, m := range o.Mismatches {
					ids := make([]int64, len(m.Advices))
					for j, a := range m.Advices {
						ids[j] = id(a)
					}
					if !yield([]any{run.ID, o.Key.Platform, schemeID(o.Key.Scheme), o.Key.Period, i, string(m.Kind), m.StatementID,
						m.WorkerKey, string(o.Currency), m.Stated.Amount, m.Advised.Amount, ids}) {
						return
					}
				}
			}
		}},
		{"decision_results", []string{"run_id", "decision_id", "applied", "note"}, func(yield func([]any) bool) {
			for _, d := range res.Decisions {
				if !yield([]any{run.ID, id(d.ID), d.Applied, d.Note}) {
					return
				}
			}
		}},
	}
	for _, c := range copies {
		next, stop := iter.Pull(iter.Seq[[]any](c.rows))
		_, err := r.tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromFunc(func() ([]any, error) {
			row, ok := next()
			if !ok {
				return nil, nil
			}
			return row, nil
		}))
		stop()
		if err != nil {
			return 0, fmt.Errorf("store %s: %w", c.table, err)
		}
	}
	return run.ID, nil
}

// NewDecision is a manual match or unmatch by finance.
type NewDecision struct {
	Kind        matching.DecisionKind
	ReceiptID   string
	StatementID string        // required for a match; "" unmatches from every statement
	Amount      gateway.Money // zero: all that is left of the receipt
	Reason      string
	By          string
	At          time.Time
}

// AddDecision records a manual decision in the audit trail and returns its
// id. Errors: ENOTFOUND for an unknown receipt or statement; EINVALID for
// a missing reason or a bad amount.
func (db *DB) AddDecision(ctx context.Context, d NewDecision) (string, error) {
	receipt, err := strconv.ParseInt(d.ReceiptID, 10, 64)
	if err != nil {
		return "", gateway.Errorf(gateway.ENOTFOUND, "no receipt %s", d.ReceiptID)
	}
	var statementID, currency *string
	var amount *int64
	if d.StatementID != "" {
		statementID = &d.StatementID
	}
	if d.Amount.Amount != 0 {
		c := string(d.Amount.Currency)
		amount, currency = &d.Amount.Amount, &c
	}
	var id int64
	err = db.Pool.QueryRow(ctx, `
		INSERT INTO match_decisions (kind, receipt_id, statement_id, amount_minor, currency, reason, decided_by, decided_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		string(d.Kind), receipt, statementID, amount, currency, d.Reason, d.By, d.At).Scan(&id)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.ConstraintName {
		case "match_decisions_receipt_fkey":
			return "", gateway.Errorf(gateway.ENOTFOUND, "no receipt %s", d.ReceiptID)
		case "match_decisions_statement_fkey":
			return "", gateway.Errorf(gateway.ENOTFOUND, "no statement %s", d.StatementID)
		case "match_decisions_reason_check":
			return "", gateway.Invalid("reason", "required", "a reason of 1 to 1,000 characters is required")
		case "match_decisions_amount_check":
			return "", gateway.Invalid("amount", "not_positive", "an amount must be positive, and only a match takes one")
		case "match_decisions_statement_check":
			return "", gateway.Invalid("statement_id", "required", "a match names a statement")
		case "match_decisions_decided_by_check":
			return "", gateway.Invalid("decided_by", "required", "who decided is required")
		}
	}
	if err != nil {
		return "", fmt.Errorf("record decision: %w", err)
	}
	return strconv.FormatInt(id, 10), nil
}

// DecisionResult is a decision with how it took effect in the latest run.
type DecisionResult struct {
	matching.Decision
	Applied bool
	Note    string
	// Ran is false when no run has considered the decision yet.
	Ran bool
}

// Decisions returns the audit trail of a receipt's decisions, or every
// decision for "", oldest first, with how each took effect in the latest
// run.
func (db *DB) Decisions(ctx context.Context, receiptID string) ([]DecisionResult, error) {
	var receipt int64
	if receiptID != "" {
		n, err := strconv.ParseInt(receiptID, 10, 64)
		if err != nil {
			return nil, nil
		}
		receipt = n
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+decisionColumns+`, r.applied, coalesce(r.note, '')
		FROM match_decisions d LEFT JOIN decision_results r ON r.decision_id = d.id
		WHERE $1 = 0 OR d.receipt_id = $1 ORDER BY d.decided_at, d.id`, receipt)
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DecisionResult, error) {
		var out DecisionResult
		d := &out.Decision
		var id, rid int64
		var kind, cur string
		var applied *bool
		err := row.Scan(&id, &kind, &rid, &d.StatementID, &d.Amount.Amount, &cur, &d.Reason, &d.User, &d.At, &applied, &out.Note)
		d.ID, d.ReceiptID, d.Kind = strconv.FormatInt(id, 10), strconv.FormatInt(rid, 10), matching.DecisionKind(kind)
		d.Amount.Currency, d.At = gateway.Currency(strings.TrimSpace(cur)), d.At.UTC()
		if applied != nil {
			out.Applied, out.Ran = *applied, true
		}
		return out, err
	})
}
