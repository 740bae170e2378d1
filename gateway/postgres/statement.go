package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// IssuedStatement is a stored statement. Its Key names the scheme by its
// short code, as in the RF reference; SchemeID is the scheme's id.
type IssuedStatement struct {
	statement.Statement
	SchemeID string
	// BookedPeriod is the period whose close issued the statement.
	BookedPeriod string
	// LineCount is the number of lines; Lines is filled only where a
	// method says so.
	LineCount int
}

// querier is a connection, pool or transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const statementColumns = `s.id, s.platform_id, s.scheme_id, s.scheme_code, s.period, s.seq, s.kind, coalesce(s.supplements, ''),
	s.reference, s.currency, s.worker_minor, s.platform_minor, s.total_minor, s.due_date, s.late_entries, s.lines,
	s.booked_period, s.issued_at`

func scanStatement(row pgx.CollectableRow) (IssuedStatement, error) {
	var st IssuedStatement
	var cur, kind string
	var seq int32
	var due time.Time
	err := row.Scan(&st.ID, &st.Key.Platform, &st.SchemeID, &st.Key.Scheme, &st.Key.Period, &seq, &kind, &st.Supplements,
		&st.Reference, &cur, &st.Worker.Amount, &st.Platform.Amount, &st.Total.Amount, &due, &st.LateEntries, &st.LineCount,
		&st.BookedPeriod, &st.IssuedAt)
	if err != nil {
		return st, err
	}
	c := gateway.Currency(strings.TrimSpace(cur))
	st.Seq, st.Kind, st.Currency = uint32(seq), statement.Kind(kind), c
	st.Worker.Currency, st.Platform.Currency, st.Total.Currency = c, c, c
	st.DueDate = calendar.D(due.Year(), due.Month(), due.Day())
	st.IssuedAt = st.IssuedAt.UTC()
	return st, nil
}

func readStatements(ctx context.Context, q querier, where string, args ...any) ([]statement.Statement, error) {
	issued, err := readIssued(ctx, q, where, args...)
	if err != nil {
		return nil, err
	}
	out := make([]statement.Statement, len(issued))
	for i := range issued {
		out[i] = issued[i].Statement
	}
	return out, nil
}

func readIssued(ctx context.Context, q querier, where string, args ...any) ([]IssuedStatement, error) {
	rows, err := q.Query(ctx, `SELECT `+statementColumns+` FROM statements s `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read statements: %w", err)
	}
	return pgx.CollectRows(rows, scanStatement)
}

// readLines returns a statement's lines by worker key.
func readLines(ctx context.Context, q querier, st *statement.Statement) ([]statement.Line, error) {
	var lines []statement.Line
	err := eachLine(ctx, q, st.ID, st.Currency, func(l statement.Line) error {
		lines = append(lines, l)
		return nil
	})
	return lines, err
}

// eachLine calls fn with each line of a statement, by worker key.
func eachLine(ctx context.Context, q querier, id string, c gateway.Currency, fn func(statement.Line) error) error {
	rows, err := q.Query(ctx, `SELECT worker_key, worker_minor, platform_minor, late FROM statement_lines
		WHERE statement_id = $1 ORDER BY worker_key`, id)
	if err != nil {
		return fmt.Errorf("read lines of statement %s: %w", id, err)
	}
	defer rows.Close()
	l := statement.Line{Worker: gateway.Money{Currency: c}, Platform: gateway.Money{Currency: c}}
	for rows.Next() {
		if err := rows.Scan(&l.WorkerKey, &l.Worker.Amount, &l.Platform.Amount, &l.Late); err != nil {
			return fmt.Errorf("read lines of statement %s: %w", id, err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read lines of statement %s: %w", id, err)
	}
	return nil
}

// insertStatement stores a statement and its lines.
func insertStatement(ctx context.Context, tx pgx.Tx, schemeID, bookedPeriod string, st *statement.Statement) error {
	var supplements *string
	if st.Supplements != "" {
		supplements = &st.Supplements
	}
	d := st.DueDate
	_, err := tx.Exec(ctx, `
		INSERT INTO statements (id, platform_id, scheme_id, scheme_code, period, seq, kind, supplements, reference, currency,
		       worker_minor, platform_minor, total_minor, due_date, late_entries, lines, booked_period, issued_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		st.ID, st.Key.Platform, schemeID, st.Key.Scheme, st.Key.Period, int32(st.Seq), string(st.Kind), supplements,
		st.Reference, string(st.Currency), st.Worker.Amount, st.Platform.Amount, st.Total.Amount,
		time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC), st.LateEntries, len(st.Lines), bookedPeriod, st.IssuedAt)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.ConstraintName == "statements_pkey" || pe.ConstraintName == "statements_reference_key" ||
			pe.ConstraintName == "statements_seq_key") {
			return gateway.Errorf(gateway.ECONFLICT, "statement %d of %s is already issued", st.Seq, st.Key)
		}
		return fmt.Errorf("issue statement %s: %w", st.ID, err)
	}
	i := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"statement_lines"},
		[]string{"statement_id", "worker_key", "worker_minor", "platform_minor", "late"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(st.Lines) {
				return nil, nil
			}
			l := &st.Lines[i]
			i++
			return []any{st.ID, l.WorkerKey, l.Worker.Amount, l.Platform.Amount, l.Late}, nil
		}))
	if err != nil {
		return fmt.Errorf("store %d lines of statement %s: %w", len(st.Lines), st.ID, err)
	}
	return nil
}

// StatementFilter selects statements; empty fields select all.
type StatementFilter struct {
	PlatformID string
	SchemeID   string
	Period     string
	// After is the id of the last statement of the previous page.
	After string
	// Limit is the most statements returned; default 100, at most 1,000.
	Limit int
}

// Statements lists statements in the order they were issued, without
// their lines.
func (db *DB) Statements(ctx context.Context, f StatementFilter) ([]IssuedStatement, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	return readIssued(ctx, db.Pool, `
		WHERE ($1 = '' OR s.platform_id = $1) AND ($2 = '' OR s.scheme_id = $2) AND ($3 = '' OR s.period = $3)
		  AND ($4 = '' OR (s.issued_at, s.id) > (SELECT issued_at, id FROM statements WHERE id = $4))
		ORDER BY s.issued_at, s.id LIMIT $5`, f.PlatformID, f.SchemeID, f.Period, f.After, f.Limit)
}

// Statement returns one statement without its lines, or ENOTFOUND.
func (db *DB) Statement(ctx context.Context, id string) (IssuedStatement, error) {
	sts, err := readIssued(ctx, db.Pool, `WHERE s.id = $1`, id)
	if err != nil {
		return IssuedStatement{}, err
	}
	if len(sts) == 0 {
		return IssuedStatement{}, gateway.Errorf(gateway.ENOTFOUND, "no statement %s", id)
	}
	return sts[0], nil
}

// EachStatementLine calls fn with each line of a statement, by worker key,
// streaming them from the database.
func (db *DB) EachStatementLine(ctx context.Context, st *IssuedStatement, fn func(statement.Line) error) error {
	return eachLine(ctx, db.Pool, st.ID, st.Currency, fn)
}
