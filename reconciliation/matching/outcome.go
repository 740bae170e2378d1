package matching

import (
	"fmt"
	"slices"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// outcomes computes the outcome of every period, comparing advice lines
// with statement lines through compare.
func (e *engine) outcomes(compare func(*engine, *target) ([]Mismatch, error)) error {
	targets := map[statement.Key][]*target{}
	seen := map[*target]bool{}
	for _, a := range e.advs {
		if t := a.target; t != nil && !seen[t] {
			seen[t] = true
			targets[t.key] = append(targets[t.key], t)
		}
	}
	for i := 0; i < len(e.stmts); {
		j := i + 1
		for j < len(e.stmts) && e.stmts[j].Key == e.stmts[i].Key {
			j++
		}
		o, err := e.outcome(e.stmts[i:j], targets[e.stmts[i].Key], compare)
		if err != nil {
			return err
		}
		e.res.Outcomes = append(e.res.Outcomes, o)
		i = j
	}
	return nil
}

func (e *engine) outcome(stmts []*stmt, targets []*target, compare func(*engine, *target) ([]Mismatch, error)) (Outcome, error) {
	first := stmts[0]
	ccy := first.Currency
	sc := first.scheme
	today := calendar.DateOf(e.in.Now.In(sc.Location))
	o := Outcome{
		Key: first.Key, Currency: ccy, DueDate: first.DueDate,
		Due: money(0, ccy), Paid: money(0, ccy), Shortfall: money(0, ccy), Overpaid: money(0, ccy),
		Interest: money(0, ccy), Accrued: money(0, ccy), Advised: money(0, ccy),
		CarriedIn: money(0, ccy), CarriedOut: money(e.carriedOut[first.Key], ccy),
	}
	var pastDue int64
	for _, s := range stmts {
		if s.DueDate.Before(o.DueDate) {
			o.DueDate = s.DueDate
		}
		o.Due.Amount += s.Total.Amount
		so := StatementOutcome{ID: s.ID, Seq: s.Seq, Total: s.Total, DueDate: s.DueDate, Paid: money(0, ccy), Open: money(s.open, ccy)}
		for _, ai := range e.allocs[s] {
			a := &e.res.Allocations[ai]
			if a.Overpayment {
				o.Overpaid.Amount += a.Amount.Amount
				continue
			}
			so.Paid.Amount += a.Amount.Amount
			if a.Carried {
				o.CarriedIn.Amount += a.Amount.Amount
			}
			o.Interest.Amount += a.Interest.Amount
			if a.ValueDate.Compare(s.DueDate) > 0 {
				o.Late = true
			}
		}
		o.Paid.Amount += so.Paid.Amount
		o.Shortfall.Amount += s.open
		if s.open > 0 && s.DueDate.AddDays(sc.Grace).Before(today) {
			pastDue += s.open
		}
		if s.open > 0 && s.DueDate.Before(today) && sc.Interest != nil {
			if res, err := sc.Interest.Interest(money(s.open, ccy), s.DueDate, today); err == nil {
				o.Accrued.Amount += res.Interest.Amount
			}
		}
		o.Statements = append(o.Statements, so)
	}
	switch {
	case o.Overpaid.Amount > 0:
		o.Status = StatusOverpaid
	case o.Shortfall.Amount == 0:
		o.Status = StatusPaid
	case pastDue == 0:
		o.Status = StatusOpen
	case o.Paid.Amount == 0:
		o.Status = StatusMissing
	default:
		o.Status = StatusUnderpaid
	}

	// Statement targets in statement order, then the period's own.
	slices.SortFunc(targets, func(a, b *target) int {
		switch {
		case a.st == nil:
			return 1
		case b.st == nil:
			return -1
		}
		return oldestDue(a.st, b.st)
	})
	for _, t := range targets {
		for _, a := range t.advices {
			o.Advised.Amount += a.Amount.Amount
		}
		ms, err := compare(e, t)
		if err != nil {
			return Outcome{}, err
		}
		o.Mismatches = append(o.Mismatches, ms...)
	}
	return o, nil
}

// cell is one worker's stated and advised sums in a comparison.
type cell struct {
	stated, advised int64
	inStmt, inAdv   bool
}

// compareAdvices compares the advices of t with its statements' lines per
// worker, streaming both through the engine's LineSource into one map of
// the target's workers.
func compareAdvices(e *engine, t *target) ([]Mismatch, error) {
	if e.cells == nil {
		e.cells = map[string]cell{}
	}
	cells := e.cells
	clear(cells) // keeps the table grown by earlier targets
	for _, s := range targetStatements(e, t) {
		for l, err := range e.lines.StatementLines(s.Statement) {
			if err != nil {
				return nil, fmt.Errorf("lines of statement %s: %w", s.ID, err)
			}
			c := cells[l.WorkerKey]
			c.stated += l.Worker.Amount + l.Platform.Amount
			c.inStmt = true
			cells[l.WorkerKey] = c
		}
	}
	for _, a := range t.advices {
		for l, err := range e.lines.AdviceLines(a.Advice) {
			if err != nil {
				return nil, fmt.Errorf("lines of advice %s: %w", a.ID, err)
			}
			c := cells[l.WorkerKey]
			c.advised += l.Amount.Amount
			c.inAdv = true
			cells[l.WorkerKey] = c
		}
	}
	var out []Mismatch
	for k, c := range cells {
		if m, ok := mismatch(k, c); ok {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Mismatch) int { return strings.Compare(a.WorkerKey, b.WorkerKey) })
	finish(e, t, out)
	return out, nil
}

func targetStatements(e *engine, t *target) []*stmt {
	if t.st != nil {
		return []*stmt{t.st}
	}
	return e.idx.ofKey(t.key)
}

// mismatch classifies one worker's cell.
func mismatch(worker string, c cell) (Mismatch, bool) {
	m := Mismatch{WorkerKey: worker, Stated: gateway.Money{Amount: c.stated}, Advised: gateway.Money{Amount: c.advised}}
	switch {
	case c.inAdv && !c.inStmt:
		m.Kind = UnknownWorker
	case c.inStmt && !c.inAdv:
		if c.stated == 0 {
			return Mismatch{}, false
		}
		m.Kind = MissingWorker
	case c.stated != c.advised:
		m.Kind = DifferentAmount
	default:
		return Mismatch{}, false
	}
	return m, true
}

// finish fills what every mismatch of t shares.
func finish(e *engine, t *target, ms []Mismatch) {
	if len(ms) == 0 {
		return
	}
	ccy := e.currencyOf(t)
	ids := make([]string, len(t.advices))
	for i, a := range t.advices {
		ids[i] = a.ID
	}
	var sid string
	if t.st != nil {
		sid = t.st.ID
	}
	for i := range ms {
		ms[i].StatementID = sid
		ms[i].Stated.Currency, ms[i].Advised.Currency = ccy, ccy
		ms[i].Advices = ids
	}
}
