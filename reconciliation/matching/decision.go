package matching

import (
	"cmp"
	"slices"
	"strings"
)

// applyDecisions folds finance's decisions, in the order they were made,
// into each receipt's manual matches and blocks, and starts the audit
// trail. Amounts are checked when the matches are allocated.
func (e *engine) applyDecisions() error {
	ds := make([]*Decision, len(e.in.Decisions))
	seen := make(map[string]bool, len(ds))
	for i := range e.in.Decisions {
		d := &e.in.Decisions[i]
		if d.ID == "" {
			return inputError("decisions", "decision at position %d has no ID", i)
		}
		if seen[d.ID] {
			return inputError("decisions", "decision ID %s appears twice", d.ID)
		}
		seen[d.ID] = true
		ds[i] = d
	}
	slices.SortFunc(ds, func(a, b *Decision) int { return cmp.Or(a.At.Compare(b.At), strings.Compare(a.ID, b.ID)) })
	recs := make(map[string]*rcpt, len(e.recs))
	for _, r := range e.recs {
		recs[r.ID] = r
	}
	e.res.Decisions = make([]DecisionRecord, len(ds)) // fixed size: records are pointed to
	for i, d := range ds {
		rec := &e.res.Decisions[i]
		*rec = DecisionRecord{Decision: *d, Applied: true}
		refuse := func(note string) { rec.Applied, rec.Note = false, note }
		r := recs[d.ReceiptID]
		switch {
		case r == nil:
			refuse("no receipt " + d.ReceiptID)
			continue
		case r.reversed:
			refuse("the receipt is reversed")
			continue
		case r.ignored:
			refuse("the receipt is not a booked credit")
			continue
		}
		switch d.Kind {
		case Match:
			s := e.byID[d.StatementID]
			switch {
			case s == nil:
				refuse("no statement " + d.StatementID)
				continue
			case s.Currency != r.Amount.Currency:
				refuse("the receipt is in " + string(r.Amount.Currency) + ", the statement in " + string(s.Currency))
				continue
			case d.Amount.Amount < 0 || (d.Amount.Amount > 0 && d.Amount.Currency != r.Amount.Currency):
				refuse("the amount must be positive and in the receipt's currency")
				continue
			}
			delete(r.blocked, s)
			r.manual = append(r.manual, &manualMatch{rec: rec, target: s, amount: d.Amount.Amount})
		case Unmatch:
			var s *stmt
			if d.StatementID != "" {
				if s = e.byID[d.StatementID]; s == nil {
					refuse("no statement " + d.StatementID)
					continue
				}
			}
			kept := r.manual[:0]
			for _, m := range r.manual {
				if s == nil || m.target == s {
					m.rec.Note = "undone by decision " + d.ID
					continue
				}
				kept = append(kept, m)
			}
			r.manual = kept
			if s == nil {
				r.blockAll = true
				continue
			}
			if r.blocked == nil {
				r.blocked = map[*stmt]bool{}
			}
			r.blocked[s] = true
		default:
			refuse("unknown decision kind " + string(d.Kind))
		}
	}
	return nil
}
