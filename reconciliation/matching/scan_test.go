package matching

import (
	"slices"
	"strings"

	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// scan is the naive lookup: every question scans every statement, advice
// or platform. The property test holds the index to it; the benchmark
// measures what the index saves.
type scan struct{ e *engine }

func newScan(e *engine) lookup { return scan{e} }

func (x scan) byReference(ref string) *stmt {
	if ref == "" {
		return nil
	}
	for _, s := range x.e.stmts {
		if s.Reference == ref {
			return s
		}
	}
	return nil
}

func (x scan) advicesByReference(ref string) []*adviceRef {
	var out []*adviceRef
	for _, a := range x.e.advs {
		if strings.TrimSpace(a.PaymentReference) == ref {
			out = append(out, a)
		}
	}
	return out
}

func (x scan) platformOf(a bankstatement.Account) (string, bool) {
	k := accountKey(a)
	if k == "" {
		return "", false
	}
	found := ""
	for _, p := range x.e.in.Platforms {
		for _, pa := range p.Accounts {
			if accountKey(pa) == k {
				if found != "" && found != p.ID {
					return "", false
				}
				found = p.ID
			}
		}
	}
	return found, found != ""
}

func (x scan) ofPlatform(p string) []*stmt {
	var out []*stmt
	for _, s := range x.e.stmts {
		if s.Key.Platform == p {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, oldestDue)
	return out
}

func (x scan) ofKey(k statement.Key) []*stmt {
	var out []*stmt
	for _, s := range x.e.stmts {
		if s.Key == k {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, oldestDue)
	return out
}

// compareNaive compares advice and statement lines by searching a list of
// the workers seen so far for each line.
func compareNaive(e *engine, t *target) ([]Mismatch, error) {
	type row struct {
		worker string
		c      cell
	}
	var rows []row
	find := func(w string) *row {
		for i := range rows {
			if rows[i].worker == w {
				return &rows[i]
			}
		}
		rows = append(rows, row{worker: w})
		return &rows[len(rows)-1]
	}
	for _, s := range targetStatements(e, t) {
		for l, err := range e.lines.StatementLines(s.Statement) {
			if err != nil {
				return nil, err
			}
			r := find(l.WorkerKey)
			r.c.stated += l.Worker.Amount + l.Platform.Amount
			r.c.inStmt = true
		}
	}
	for _, a := range t.advices {
		for l, err := range e.lines.AdviceLines(a.Advice) {
			if err != nil {
				return nil, err
			}
			r := find(l.WorkerKey)
			r.c.advised += l.Amount.Amount
			r.c.inAdv = true
		}
	}
	var out []Mismatch
	for _, r := range rows {
		if m, ok := mismatch(r.worker, r.c); ok {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Mismatch) int { return strings.Compare(a.WorkerKey, b.WorkerKey) })
	finish(e, t, out)
	return out, nil
}
