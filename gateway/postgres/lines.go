package postgres

import (
	"encoding/binary"
	"fmt"
	"iter"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// LineRef names the lines of one statement or one advice, in the order a
// matching run will read them.
type LineRef struct {
	Advice bool   // an advice's lines; false: a statement's
	ID     string // the statement's or the advice's id
}

// Read-ahead bounds: a batch holds at most this many lines and refs.
const (
	readAheadLines = 50_000
	readAheadRefs  = 500
)

// lineReader serves a matching run's line reads. Told the order the run
// will read in (ReadAhead), it fetches the lines of many statements or
// advices in one query, up to readAheadLines, and hands them out from
// memory; a read it did not expect is a query of its own. Memory is
// bounded by one batch, or by the largest statement or advice, which is
// streamed.
type lineReader struct {
	order  []LineRef
	next   int // first ref of order not fetched yet
	counts map[LineRef]int
	stmt   map[string][]statement.Line
	adv    map[string][]statement.AdviceLine
	uses   map[LineRef]int // reads left of a buffered ref
}

// ReadAhead tells the transaction the order in which the matching run will
// read lines. It only makes reads faster; a read out of order is served
// all the same.
func (r *ReconcileTx) ReadAhead(order []LineRef) {
	r.lines.order, r.lines.next = order, 0
}

func (l *lineReader) init() {
	if l.counts == nil {
		l.counts = map[LineRef]int{}
	}
	if l.stmt == nil {
		l.stmt, l.adv, l.uses = map[string][]statement.Line{}, map[string][]statement.AdviceLine{}, map[LineRef]int{}
	}
}

// take returns a buffered ref's statement or advice lines, fetching the
// batch that starts with it when it is the next expected. ok is false when
// the ref is neither buffered nor expected: the caller queries it alone.
func (r *ReconcileTx) take(ref LineRef) (ok bool, err error) {
	l := &r.lines
	l.init()
	if l.uses[ref] > 0 {
		return true, nil
	}
	j := -1
	for i := l.next; i < len(l.order) && i < l.next+readAheadRefs; i++ {
		if l.order[i] == ref {
			j = i
			break
		}
	}
	if j < 0 || l.counts[ref] > readAheadLines {
		return false, nil
	}
	// Drop what was fetched and never read: the run went another way.
	clear(l.stmt)
	clear(l.adv)
	clear(l.uses)
	var stmts []string
	var advs []int64
	lines := 0
	k := j
	for ; k < len(l.order) && k-j < readAheadRefs; k++ {
		x := l.order[k]
		if k > j && lines+l.counts[x] > readAheadLines {
			break
		}
		if l.uses[x] == 0 {
			lines += l.counts[x]
			if x.Advice {
				id, _ := strconv.ParseInt(x.ID, 10, 64)
				advs = append(advs, id)
			} else {
				stmts = append(stmts, x.ID)
			}
		}
		l.uses[x]++
	}
	l.next = k
	if len(stmts) > 0 {
		if err := r.fetchStatementLines(stmts); err != nil {
			return false, err
		}
	}
	if len(advs) > 0 {
		if err := r.fetchAdviceLines(advs); err != nil {
			return false, err
		}
	}
	return true, nil
}

func (r *ReconcileTx) fetchStatementLines(ids []string) error {
	rows, err := r.tx.Query(r.ctx, `SELECT statement_id, worker_key, worker_minor, platform_minor, late FROM statement_lines
		WHERE statement_id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("read statement lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v := raw(rows)
		id := v.str(0)
		r.lines.stmt[id] = append(r.lines.stmt[id], statement.Line{WorkerKey: v.str(1),
			Worker: gateway.Money{Amount: v.int(2)}, Platform: gateway.Money{Amount: v.int(3)}, Late: v.bool(4)})
	}
	return rows.Err()
}

func (r *ReconcileTx) fetchAdviceLines(ids []int64) error {
	rows, err := r.tx.Query(r.ctx, `SELECT advice_id, worker_key, amount_minor, line FROM remittance_advice_lines
		WHERE advice_id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("read advice lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v := raw(rows)
		id := strconv.FormatInt(v.int(0), 10)
		r.lines.adv[id] = append(r.lines.adv[id], statement.AdviceLine{WorkerKey: v.str(1),
			Amount: gateway.Money{Amount: v.int(2)}, Line: int(v.int(3))})
	}
	return rows.Err()
}

// rawRow decodes the raw values of a row in either wire format: binary,
// which pgx asks for when it knows the column types, or text.
type rawRow struct {
	v      [][]byte
	fields []pgconn.FieldDescription
}

func raw(rows pgx.Rows) rawRow { return rawRow{v: rows.RawValues(), fields: rows.FieldDescriptions()} }

func (r rawRow) str(i int) string { return string(r.v[i]) }

func (r rawRow) int(i int) int64 {
	b := r.v[i]
	if r.fields[i].Format == pgx.BinaryFormatCode {
		switch len(b) {
		case 8:
			return int64(binary.BigEndian.Uint64(b))
		case 4:
			return int64(int32(binary.BigEndian.Uint32(b)))
		}
	}
	n, _ := strconv.ParseInt(string(b), 10, 64)
	return n
}

func (r rawRow) bool(i int) bool {
	b := r.v[i]
	if r.fields[i].Format == pgx.BinaryFormatCode {
		return len(b) == 1 && b[0] == 1
	}
	return len(b) == 1 && b[0] == 't'
}

// StatementLines streams a statement's lines: a matching.LineSource.
func (r *ReconcileTx) StatementLines(st *statement.Statement) iter.Seq2[statement.Line, error] {
	return func(yield func(statement.Line, error) bool) {
		ref := LineRef{ID: st.ID}
		ok, err := r.take(ref)
		if err != nil {
			yield(statement.Line{}, err)
			return
		}
		if ok {
			lines := r.lines.stmt[st.ID]
			if r.lines.uses[ref]--; r.lines.uses[ref] == 0 {
				delete(r.lines.stmt, st.ID)
				delete(r.lines.uses, ref)
			}
			for _, l := range lines {
				l.Worker.Currency, l.Platform.Currency = st.Currency, st.Currency
				if !yield(l, nil) {
					return
				}
			}
			return
		}
		rows, err := r.tx.Query(r.ctx, `SELECT worker_key, worker_minor, platform_minor, late FROM statement_lines WHERE statement_id = $1`, st.ID)
		if err != nil {
			yield(statement.Line{}, fmt.Errorf("read lines of statement %s: %w", st.ID, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			v := raw(rows)
			l := statement.Line{WorkerKey: v.str(0), Worker: gateway.Money{Amount: v.int(1), Currency: st.Currency},
				Platform: gateway.Money{Amount: v.int(2), Currency: st.Currency}, Late: v.bool(3)}
			if !yield(l, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(statement.Line{}, err)
		}
	}
}

// AdviceLines streams an advice's lines: a matching.LineSource.
func (r *ReconcileTx) AdviceLines(a *statement.Advice) iter.Seq2[statement.AdviceLine, error] {
	return func(yield func(statement.AdviceLine, error) bool) {
		ref := LineRef{Advice: true, ID: a.ID}
		ok, err := r.take(ref)
		if err != nil {
			yield(statement.AdviceLine{}, err)
			return
		}
		if ok {
			lines := r.lines.adv[a.ID]
			if r.lines.uses[ref]--; r.lines.uses[ref] == 0 {
				delete(r.lines.adv, a.ID)
				delete(r.lines.uses, ref)
			}
			for _, l := range lines {
				l.Amount.Currency = a.Amount.Currency
				if !yield(l, nil) {
					return
				}
			}
			return
		}
		id, err := strconv.ParseInt(a.ID, 10, 64)
		if err != nil {
			yield(statement.AdviceLine{}, fmt.Errorf("advice id %q: %w", a.ID, err))
			return
		}
		rows, err := r.tx.Query(r.ctx, `SELECT worker_key, amount_minor, line FROM remittance_advice_lines WHERE advice_id = $1`, id)
		if err != nil {
			yield(statement.AdviceLine{}, fmt.Errorf("read lines of advice %s: %w", a.ID, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			v := raw(rows)
			l := statement.AdviceLine{WorkerKey: v.str(0), Amount: gateway.Money{Amount: v.int(1), Currency: a.Amount.Currency},
				Line: int(v.int(2))}
			if !yield(l, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(statement.AdviceLine{}, err)
		}
	}
}
