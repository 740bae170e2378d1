package books

import (
	"cmp"
	"slices"
	"strings"

	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/matching"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// readOrder predicts the order in which matching reads statement and
// advice lines: period by period in key order, each advice's statement (or
// its period's statements, oldest due first) followed by the advices
// compared with it, as matching links them. The store reads ahead along it,
// many statements or advices to a query; a wrong guess costs only speed.
func readOrder(in *matching.Input) []postgres.LineRef {
	stmts := make([]*statement.Statement, len(in.Statements))
	for i := range in.Statements {
		stmts[i] = &in.Statements[i]
	}
	slices.SortFunc(stmts, func(a, b *statement.Statement) int {
		return cmp.Or(a.Key.Compare(b.Key), cmp.Compare(a.Seq, b.Seq), strings.Compare(a.ID, b.ID))
	})
	oldestDue := func(a, b *statement.Statement) int {
		return cmp.Or(a.DueDate.Compare(b.DueDate), a.Key.Compare(b.Key), cmp.Compare(a.Seq, b.Seq))
	}
	byRef := map[string]*statement.Statement{}
	byKey := map[statement.Key][]*statement.Statement{}
	for _, s := range stmts {
		if s.Reference != "" {
			byRef[s.Reference] = s
		}
		byKey[s.Key] = append(byKey[s.Key], s)
	}
	for _, l := range byKey {
		slices.SortFunc(l, oldestDue)
	}

	// target is one comparison: a statement, or a whole period (st nil).
	type target struct {
		st      *statement.Statement
		advices []string
	}
	targets := map[statement.Key][]*target{}
	byStmt := map[*statement.Statement]*target{}
	byPeriod := map[statement.Key]*target{}
	advs := make([]*statement.Advice, len(in.Advices))
	for i := range in.Advices {
		advs[i] = &in.Advices[i]
	}
	slices.SortFunc(advs, func(a, b *statement.Advice) int { return strings.Compare(a.ID, b.ID) })
	for _, a := range advs {
		var t *target
		var key statement.Key
		if s := byRef[rfRef(a.PaymentReference)]; s != nil && s.Key.Platform == a.Platform {
			key = s.Key
			if t = byStmt[s]; t == nil {
				t = &target{st: s}
				byStmt[s] = t
				targets[key] = append(targets[key], t)
			}
		} else if a.Scheme != "" {
			key = statement.Key{Platform: a.Platform, Scheme: a.Scheme, Period: a.Period}
			if len(byKey[key]) > 0 {
				if t = byPeriod[key]; t == nil {
					t = &target{}
					byPeriod[key] = t
				}
			}
		}
		if t == nil {
			continue
		}
		t.advices = append(t.advices, a.ID)
	}
	for k, t := range byPeriod {
		targets[k] = append(targets[k], t)
	}

	var order []postgres.LineRef
	for i, s := range stmts {
		if i > 0 && stmts[i-1].Key == s.Key {
			continue
		}
		ts := targets[s.Key]
		slices.SortStableFunc(ts, func(a, b *target) int {
			switch {
			case a.st == nil && b.st == nil:
				return 0
			case a.st == nil:
				return 1
			case b.st == nil:
				return -1
			}
			return oldestDue(a.st, b.st)
		})
		for _, t := range ts {
			if t.st != nil {
				order = append(order, postgres.LineRef{ID: t.st.ID})
			} else {
				for _, ps := range byKey[s.Key] {
					order = append(order, postgres.LineRef{ID: ps.ID})
				}
			}
			for _, id := range t.advices {
				order = append(order, postgres.LineRef{Advice: true, ID: id})
			}
		}
	}
	return order
}

// rfRef is a reference in electronic format when it is an RF reference,
// else "".
func rfRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if len(ref) < 2 || !strings.EqualFold(ref[:2], "RF") {
		return ""
	}
	n, err := rfref.Normalize(ref)
	if err != nil {
		return ""
	}
	return n
}
