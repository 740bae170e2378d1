package matching

import (
	"cmp"
	"iter"
	"slices"
	"strings"

	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// index answers the rules' questions from maps built once, so each receipt
// costs a few lookups however many statements there are.
type index struct {
	refs      map[string]*stmt
	adviceRef map[string][]*adviceRef
	accounts  map[string]string // account → platform; "" when two platforms share it
	platforms map[string][]*stmt
	keys      map[statement.Key][]*stmt
}

func newIndex(e *engine) lookup {
	x := &index{
		refs:      make(map[string]*stmt, len(e.stmts)),
		adviceRef: make(map[string][]*adviceRef, len(e.advs)),
		accounts:  map[string]string{},
		platforms: map[string][]*stmt{},
		keys:      map[statement.Key][]*stmt{},
	}
	for _, s := range e.stmts {
		if s.Reference != "" {
			x.refs[s.Reference] = s
		}
		x.platforms[s.Key.Platform] = append(x.platforms[s.Key.Platform], s)
		x.keys[s.Key] = append(x.keys[s.Key], s)
	}
	for _, l := range x.platforms {
		slices.SortFunc(l, oldestDue)
	}
	for _, l := range x.keys {
		slices.SortFunc(l, oldestDue)
	}
	for _, a := range e.advs {
		ref := strings.TrimSpace(a.PaymentReference)
		x.adviceRef[ref] = append(x.adviceRef[ref], a)
	}
	for _, p := range e.in.Platforms {
		for _, a := range p.Accounts {
			k := accountKey(a)
			if k == "" {
				continue
			}
			if prev, ok := x.accounts[k]; ok && prev != p.ID {
				x.accounts[k] = ""
				continue
			}
			x.accounts[k] = p.ID
		}
	}
	return x
}

func (x *index) byReference(ref string) *stmt               { return x.refs[ref] }
func (x *index) advicesByReference(ref string) []*adviceRef { return x.adviceRef[ref] }
func (x *index) ofPlatform(p string) []*stmt                { return x.platforms[p] }
func (x *index) ofKey(k statement.Key) []*stmt              { return x.keys[k] }
func (x *index) platformOf(a bankstatement.Account) (string, bool) {
	p := x.accounts[accountKey(a)]
	return p, p != ""
}

// oldestDue orders statements by due date, then key and number.
func oldestDue(a, b *stmt) int {
	return cmp.Or(a.DueDate.Compare(b.DueDate), a.Key.Compare(b.Key), cmp.Compare(a.Seq, b.Seq))
}

// accountKey is the form accounts are compared in: the IBAN or other
// identifier, upper case, without spaces.
func accountKey(a bankstatement.Account) string {
	s := a.String()
	if strings.ContainsRune(s, ' ') {
		s = strings.ReplaceAll(s, " ", "")
	}
	return strings.ToUpper(s)
}

// inMemory is the LineSource of an Input without one: the Lines fields.
type inMemory struct{}

func (inMemory) StatementLines(st *statement.Statement) iter.Seq2[statement.Line, error] {
	return func(yield func(statement.Line, error) bool) {
		for _, l := range st.Lines {
			if !yield(l, nil) {
				return
			}
		}
	}
}

func (inMemory) AdviceLines(a *statement.Advice) iter.Seq2[statement.AdviceLine, error] {
	return func(yield func(statement.AdviceLine, error) bool) {
		for _, l := range a.Lines {
			if !yield(l, nil) {
				return
			}
		}
	}
}
