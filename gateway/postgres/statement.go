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

// insertStatements stores statements and their lines: the headers in one
// statement, the lines in one COPY.
func insertStatements(ctx context.Context, tx pgx.Tx, schemeID, bookedPeriod string, sts []*statement.Statement) error {
	if len(sts) == 0 {
		return nil
	}
	n := len(sts)
	ids, platforms, codes, periods, kinds, refs, currencies := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	supplements := make([]*string, n)
	seqs, lateEntries, lines := make([]int32, n), make([]int32, n), make([]int32, n)
	workers, platformShares, totals := make([]int64, n), make([]int64, n), make([]int64, n)
	dues, issued := make([]time.Time, n), make([]time.Time, n)
	for i, st := range sts {
		ids[i], platforms[i], codes[i], periods[i], kinds[i] = st.ID, st.Key.Platform, st.Key.Scheme, st.Key.Period, string(st.Kind)
		refs[i], currencies[i] = st.Reference, string(st.Currency)
		if st.Supplements != "" {
			supplements[i] = &st.Supplements
		}
		seqs[i], lateEntries[i], lines[i] = int32(st.Seq), int32(st.LateEntries), int32(len(st.Lines))
		workers[i], platformShares[i], totals[i] = st.Worker.Amount, st.Platform.Amount, st.Total.Amount
		dues[i] = time.Date(st.DueDate.Year, st.DueDate.Month, st.DueDate.Day, 0, 0, 0, 0, time.UTC)
		issued[i] = st.IssuedAt
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO statements (id, platform_id, scheme_id, scheme_code, period, seq, kind, supplements, reference, currency,
		       worker_minor, platform_minor, total_minor, due_date, late_entries, lines, booked_period, issued_at)
		SELECT id, p, $18, code, per, seq, kind, sup, ref, cur, w, pl, t, due, late, n, $19, at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[],
		            $10::bigint[], $11::bigint[], $12::bigint[], $13::date[], $14::int[], $15::int[], $16::timestamptz[],
		            $17::int[]) AS u(id, p, code, per, seq, kind, sup, ref, cur, w, pl, t, due, late, n, at, ord)
		ORDER BY ord`,
		ids, platforms, codes, periods, seqs, kinds, supplements, refs, currencies, workers, platformShares, totals, dues,
		lateEntries, lines, issued, ordinals(n), schemeID, bookedPeriod)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.ConstraintName == "statements_pkey" || pe.ConstraintName == "statements_reference_key" ||
			pe.ConstraintName == "statements_seq_key") {
			return gateway.Errorf(gateway.ECONFLICT, "a statement of %s %s is already issued", schemeID, sts[0].Key.Period)
		}
		return fmt.Errorf("issue %d statements: %w", n, err)
	}
	i, j := 0, 0
	err = keyedChecks(ctx, tx, func() error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"statement_lines"},
			[]string{"statement_id", "worker_key", "worker_minor", "platform_minor", "late"},
			pgx.CopyFromFunc(func() ([]any, error) {
				for i < n && j == len(sts[i].Lines) {
					i, j = i+1, 0
				}
				if i == n {
					return nil, nil
				}
				l := &sts[i].Lines[j]
				j++
				return []any{sts[i].ID, l.WorkerKey, l.Worker.Amount, l.Platform.Amount, l.Late}, nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("store the lines of %d statements: %w", n, err)
	}
	return nil
}

// keyedChecks runs fn, a bulk insert, with sequential scans off. The
// foreign-key check of each inserted row is a query planned like any
// other: on a referenced table last analyzed when nearly empty (a new
// database, an early period) the planner picks a scan of the whole table
// for it, and a COPY of a million lines then costs time that grows with
// the table. The check is a primary-key lookup; this makes it one.
func keyedChecks(ctx context.Context, tx pgx.Tx, fn func() error) error {
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		return err
	}
	err := fn()
	if _, rerr := tx.Exec(ctx, `RESET enable_seqscan`); err == nil {
		err = rerr
	}
	return err
}

func ordinals(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
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
