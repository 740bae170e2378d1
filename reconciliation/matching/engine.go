package matching

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// stmt is a statement being paid.
type stmt struct {
	*statement.Statement
	scheme   *Scheme
	capacity int64 // what receipts may pay: the total, less credit from negative statements
	open     int64 // capacity not yet paid
}

// rcpt is a receipt being matched.
type rcpt struct {
	*Receipt
	paidOn   calendar.Date
	left     int64
	reversed bool // undone by a reversal, or itself a paired reversal
	ignored  bool
	manual   []*manualMatch
	blocked  map[*stmt]bool
	blockAll bool
}

type manualMatch struct {
	rec    *DecisionRecord
	target *stmt
	amount int64 // 0: all that is left
}

// adviceRef is an advice and what it was linked to.
type adviceRef struct {
	*statement.Advice
	target *target
}

// target is what an advice is compared with: one statement, or all the
// statements of a period (st nil).
type target struct {
	key     statement.Key
	st      *stmt
	advices []*adviceRef
}

// lookup finds statements, advices and platforms for the rules. The
// indexed implementation answers from maps built once.
type lookup interface {
	byReference(ref string) *stmt
	advicesByReference(ref string) []*adviceRef
	platformOf(a bankstatement.Account) (string, bool)
	ofPlatform(platform string) []*stmt // sorted oldest due first
	ofKey(k statement.Key) []*stmt      // sorted oldest due first
}

type engine struct {
	cfg    Config
	in     *Input
	lines  LineSource
	idx    lookup
	stmts  []*stmt // by key, then seq
	recs   []*rcpt // oldest first
	advs   []*adviceRef
	byID   map[string]*stmt
	res    Result
	allocs map[*stmt][]int // indexes into res.Allocations
	// carriedOut is, per period, what receipts identified for it paid to
	// other periods of the platform and scheme.
	carriedOut map[statement.Key]int64
	cells      map[string]cell // the advice comparison's workers, reused
}

// Reconcile matches the input's receipts to its statements and returns the
// outcome of every period its statements belong to. It fails only on an
// input it cannot read: duplicate IDs, a statement of a scheme the Config
// does not know, a zero Now, or an error from the LineSource; those are
// *gateway.Error values (EINVALID), or the LineSource's error wrapped.
func Reconcile(cfg Config, in Input) (*Result, error) {
	return reconcile(cfg, &in, newIndex, compareAdvices)
}

// reconcile is Reconcile with the lookup and the advice comparison chosen
// by the caller, so a test can hold the indexed implementation to a plain
// linear one.
func reconcile(cfg Config, in *Input, mkIndex func(*engine) lookup, compare func(*engine, *target) ([]Mismatch, error)) (*Result, error) {
	cfg.WindowBefore = cmp.Or(cfg.WindowBefore, 31)
	cfg.WindowAfter = cmp.Or(cfg.WindowAfter, 31)
	if in.Now.IsZero() {
		return nil, inputError("now", "the time to reconcile as of is required")
	}
	if cfg.Tolerance.Minor < 0 {
		return nil, inputError("tolerance", "the tolerance must not be negative")
	}
	e := &engine{cfg: cfg, in: in, lines: in.Lines, byID: map[string]*stmt{}, allocs: map[*stmt][]int{},
		carriedOut: map[statement.Key]int64{}}
	if e.lines == nil {
		e.lines = inMemory{}
	}
	if err := e.loadStatements(); err != nil {
		return nil, err
	}
	if err := e.loadReceipts(); err != nil {
		return nil, err
	}
	if err := e.loadAdvices(); err != nil {
		return nil, err
	}
	e.idx = mkIndex(e)
	e.linkAdvices()
	e.pairReversals()
	if err := e.applyDecisions(); err != nil {
		return nil, err
	}
	e.matchManual()
	e.runRules()
	if err := e.outcomes(compare); err != nil {
		return nil, err
	}
	return &e.res, nil
}

func (e *engine) loadStatements() error {
	e.stmts = make([]*stmt, len(e.in.Statements))
	refs := make(map[string]string, len(e.stmts))
	for i := range e.in.Statements {
		s := &e.in.Statements[i]
		if s.ID == "" {
			return inputError("statements", "statement %s number %d has no ID", s.Key, s.Seq)
		}
		if _, dup := e.byID[s.ID]; dup {
			return inputError("statements", "statement ID %s appears twice", s.ID)
		}
		if s.Reference != "" {
			if prev, dup := refs[s.Reference]; dup {
				return inputError("statements", "statements %s and %s have the same reference %s", prev, s.ID, s.Reference)
			}
			refs[s.Reference] = s.ID
		}
		sc, ok := e.cfg.Schemes[s.Key.Scheme]
		if !ok {
			return inputError("schemes", "no configuration for scheme %s of statement %s", s.Key.Scheme, s.ID)
		}
		if !s.Currency.Valid() || s.Total.Currency != s.Currency {
			return inputError("statements", "statement %s has currency %q and a total in %q", s.ID, s.Currency, s.Total.Currency)
		}
		if sc.Location == nil {
			sc.Location = time.UTC
		}
		st := &stmt{Statement: s, scheme: &sc}
		e.stmts[i] = st
		e.byID[s.ID] = st
	}
	slices.SortFunc(e.stmts, func(a, b *stmt) int {
		return cmp.Or(a.Key.Compare(b.Key), cmp.Compare(a.Seq, b.Seq), strings.Compare(a.ID, b.ID))
	})
	// Capacity: a negative statement's credit reduces the period's earlier
	// positive statements first.
	for i := 0; i < len(e.stmts); {
		j := i
		var credit int64
		for j < len(e.stmts) && e.stmts[j].Key == e.stmts[i].Key {
			if t := e.stmts[j].Total.Amount; t < 0 {
				credit -= t
			}
			j++
		}
		for _, s := range e.stmts[i:j] {
			c := max(s.Total.Amount, 0)
			use := min(c, credit)
			credit -= use
			s.capacity, s.open = c-use, c-use
		}
		i = j
	}
	return nil
}

func (e *engine) loadReceipts() error {
	seen := make(map[string]bool, len(e.in.Receipts))
	e.recs = make([]*rcpt, len(e.in.Receipts))
	for i := range e.in.Receipts {
		r := &e.in.Receipts[i]
		if r.ID == "" {
			return inputError("receipts", "receipt at position %d has no ID", i)
		}
		if seen[r.ID] {
			return inputError("receipts", "receipt ID %s appears twice", r.ID)
		}
		seen[r.ID] = true
		e.recs[i] = &rcpt{Receipt: r, paidOn: cmpDate(r.ValueDate, r.BookingDate), left: r.Amount.Amount}
	}
	slices.SortFunc(e.recs, func(a, b *rcpt) int {
		return cmp.Or(a.paidOn.Compare(b.paidOn), a.BookingDate.Compare(b.BookingDate), strings.Compare(a.ID, b.ID))
	})
	return nil
}

func (e *engine) loadAdvices() error {
	seen := make(map[string]bool, len(e.in.Advices))
	e.advs = make([]*adviceRef, len(e.in.Advices))
	for i := range e.in.Advices {
		a := &e.in.Advices[i]
		if a.ID == "" {
			return inputError("advices", "advice at position %d (reference %s) has no ID", i, a.PaymentReference)
		}
		if seen[a.ID] {
			return inputError("advices", "advice ID %s appears twice", a.ID)
		}
		seen[a.ID] = true
		e.advs[i] = &adviceRef{Advice: a}
	}
	slices.SortFunc(e.advs, func(a, b *adviceRef) int { return strings.Compare(a.ID, b.ID) })
	return nil
}

// linkAdvices links each advice to the statement its reference names, or
// to the period its scheme and period name.
func (e *engine) linkAdvices() {
	targets := map[any]*target{}
	for _, a := range e.advs {
		var t *target
		if s := e.idx.byReference(normalizeRef(a.PaymentReference)); s != nil && s.Key.Platform == a.Platform {
			if t = targets[s]; t == nil {
				t = &target{key: s.Key, st: s}
				targets[s] = t
			}
		} else if a.Scheme != "" {
			k := statement.Key{Platform: a.Platform, Scheme: a.Scheme, Period: a.Period}
			if len(e.idx.ofKey(k)) > 0 {
				if t = targets[k]; t == nil {
					t = &target{key: k}
					targets[k] = t
				}
			}
		}
		if t != nil && a.Amount.Currency != e.currencyOf(t) {
			t = nil
		}
		if t == nil {
			e.res.UnlinkedAdvices = append(e.res.UnlinkedAdvices, a.ID)
			continue
		}
		a.target = t
		t.advices = append(t.advices, a)
	}
}

func (e *engine) currencyOf(t *target) gateway.Currency {
	if t.st != nil {
		return t.st.Currency
	}
	return e.idx.ofKey(t.key)[0].Currency
}

// pairReversals finds the receipt each reversal undoes and takes both out
// of matching; it also sets aside what is not a booked credit.
func (e *engine) pairReversals() {
	byID := make(map[string]*rcpt, len(e.recs))
	type amountKey struct {
		ccy gateway.Currency
		amt int64
	}
	credits := map[amountKey][]*rcpt{}
	for _, r := range e.recs {
		byID[r.ID] = r
		if r.Status == bankstatement.Booked && r.Direction == bankstatement.Credit && !r.Reversal && r.Amount.Amount > 0 {
			k := amountKey{r.Amount.Currency, r.Amount.Amount}
			credits[k] = append(credits[k], r)
		}
	}
	eligible := func(orig, rev *rcpt) bool {
		return orig.Status == bankstatement.Booked && orig.Direction == bankstatement.Credit && !orig.Reversal &&
			!orig.reversed && orig.Amount == rev.Amount
	}
	for _, r := range e.recs {
		switch {
		case r.Status != bankstatement.Booked:
			e.ignore(r, IgnoredNotBooked)
			continue
		case r.Direction == bankstatement.Credit && r.Reversal:
			e.ignore(r, IgnoredDebitUndo)
			continue
		case r.Direction == bankstatement.Debit && !r.Reversal:
			e.ignore(r, IgnoredDebit)
			continue
		case r.Direction == bankstatement.Credit:
			if r.Amount.Amount <= 0 {
				e.ignore(r, IgnoredZero)
			}
			continue
		}
		// A booked debit reversal.
		var orig *rcpt
		if r.Reverses != "" {
			if o := byID[r.Reverses]; o != nil && eligible(o, r) {
				orig = o
			} else if o != nil && o.reversed {
				e.ignore(r, IgnoredDuplicated)
				continue
			}
		} else if r.EndToEndID != "" || !r.DebtorAccount.IsZero() {
			for _, o := range credits[amountKey{r.Amount.Currency, r.Amount.Amount}] {
				if !eligible(o, r) || (!r.paidOn.IsZero() && r.paidOn.Before(o.paidOn)) {
					continue
				}
				if r.EndToEndID != "" && o.EndToEndID != r.EndToEndID {
					continue
				}
				if !r.DebtorAccount.IsZero() && o.DebtorAccount != r.DebtorAccount {
					continue
				}
				orig = o
				break
			}
		}
		if orig == nil {
			e.ignore(r, IgnoredOrphan)
			continue
		}
		orig.reversed, r.reversed = true, true
		orig.left, r.left = 0, 0
		e.res.Reversals = append(e.res.Reversals, Reversal{ReversalID: r.ID, ReceiptID: orig.ID})
	}
}

func (e *engine) ignore(r *rcpt, reason string) {
	r.ignored, r.left = true, 0
	e.res.Ignored = append(e.res.Ignored, Ignored{ReceiptID: r.ID, Reason: reason})
}

// matchable reports whether r is a booked credit still in play.
func (r *rcpt) matchable() bool { return !r.ignored && !r.reversed }

// matchManual allocates the receipts finance matched by hand; what their
// matches leave goes to suspense.
func (e *engine) matchManual() {
	for _, r := range e.recs {
		if len(r.manual) == 0 {
			continue
		}
		for _, m := range r.manual {
			want := r.left
			if m.amount > 0 {
				want = m.amount
			}
			if want > r.left {
				m.rec.Applied = false
				m.rec.Note = fmt.Sprintf("the receipt has only %s left", money(r.left, r.Amount.Currency))
				continue
			}
			e.pay(r, want, e.spill(m.target), RuleManual, m.target)
		}
		if r.left > 0 {
			e.suspend(r, SuspenseManualRemainder)
		}
	}
}

// spill returns s and then the other statements of its period, oldest due
// first: the order in which money identified for s pays.
func (e *engine) spill(s *stmt) []*stmt {
	key := e.idx.ofKey(s.Key)
	out := make([]*stmt, 0, len(key))
	out = append(out, s)
	for _, o := range key {
		if o != s {
			out = append(out, o)
		}
	}
	return out
}

// pay allocates up to amount of r to targets in order, skipping statements
// the receipt is blocked from, and records the rest of amount as an
// overpayment on over (when not nil).
func (e *engine) pay(r *rcpt, amount int64, targets []*stmt, rule Rule, over *stmt) {
	left := amount
	for _, s := range targets {
		if left == 0 {
			break
		}
		if s.open <= 0 || r.blocked[s] || s.Currency != r.Amount.Currency {
			continue
		}
		a := min(left, s.open)
		s.open -= a
		left -= a
		e.allocate(r, s, a, rule, payment)
	}
	if left > 0 && over != nil {
		if rule != RuleManual {
			left = e.carry(r, left, over, rule)
		}
		if left > 0 {
			e.allocate(r, over, left, rule, overpayment)
		}
		left = 0
	}
	r.left -= amount - left
}

// carry pays what is left of r beyond the period of over to the other open
// statements of the same platform and scheme, oldest due first: the credit
// carried forward. It returns what no statement needs.
func (e *engine) carry(r *rcpt, left int64, over *stmt, rule Rule) int64 {
	for _, s := range e.idx.ofPlatform(over.Key.Platform) {
		if left == 0 {
			break
		}
		if s.Key.Scheme != over.Key.Scheme || s.Key == over.Key || s.open <= 0 || !usable(r, s) {
			continue
		}
		a := min(left, s.open)
		s.open -= a
		left -= a
		e.allocate(r, s, a, rule, carried)
		e.res.Allocations[len(e.res.Allocations)-1].CreditOf = over.ID
		e.carriedOut[over.Key] += a
	}
	return left
}

// share is what an allocation's money does for its statement.
type share int

const (
	payment     share = iota // pays the statement the receipt was identified for, or its period
	overpayment              // beyond what the period and the platform's open statements owe
	carried                  // beyond the identified period, paying another period of the platform and scheme
)

func (e *engine) allocate(r *rcpt, s *stmt, amount int64, rule Rule, sh share) {
	a := Allocation{
		ReceiptID: r.ID, StatementID: s.ID, Key: s.Key, Amount: money(amount, s.Currency),
		Rule: rule, Overpayment: sh == overpayment, Carried: sh == carried, ValueDate: r.paidOn, Interest: money(0, s.Currency),
	}
	if sh != overpayment && s.DueDate.Before(r.paidOn) {
		a.Late, a.Interest = e.interest(s, a.Amount, r.paidOn)
	}
	e.allocs[s] = append(e.allocs[s], len(e.res.Allocations))
	e.res.Allocations = append(e.res.Allocations, a)
}

// interest returns how late amount paid on paid is for s, and the interest
// on it.
func (e *engine) interest(s *stmt, amount gateway.Money, paid calendar.Date) (int, gateway.Money) {
	rule := s.scheme.Interest
	if rule == nil {
		days := int(paid.Start(time.UTC).Sub(s.DueDate.Start(time.UTC)).Hours() / 24)
		return max(days, 0), money(0, amount.Currency)
	}
	res, err := rule.Interest(amount, s.DueDate, paid)
	if err != nil {
		// Only an invalid rule or an overflow fails; count the lateness
		// and leave the amount to the rule's own validation.
		return rule.Late(s.DueDate, paid), money(0, amount.Currency)
	}
	return res.Late, res.Interest
}

func (e *engine) suspend(r *rcpt, reason string) {
	e.res.Suspense = append(e.res.Suspense, Suspense{ReceiptID: r.ID, Amount: money(r.left, r.Amount.Currency), Reason: reason})
	r.left = 0
}

// runRules applies the rules in order, each over all receipts still
// unmatched, and sends what no rule matched to suspense.
func (e *engine) runRules() {
	var todo []*rcpt
	for _, r := range e.recs {
		switch {
		case !r.matchable() || len(r.manual) > 0 || r.left == 0:
		case r.blockAll:
			e.suspend(r, SuspenseUnmatched)
		case r.paidOn.IsZero():
			e.suspend(r, SuspenseUndated)
		default:
			todo = append(todo, r)
		}
	}
	for _, rule := range []func(*rcpt) bool{e.ruleReference, e.ruleEndToEnd, e.ruleAccount} {
		n := 0
		for _, r := range todo {
			if !rule(r) {
				todo[n] = r
				n++
			}
		}
		todo = todo[:n]
	}
	for _, r := range todo {
		e.suspend(r, SuspenseUnidentified)
	}
}

// usable reports whether the rules may match r to s.
func usable(r *rcpt, s *stmt) bool {
	return s != nil && !r.blocked[s] && s.Currency == r.Amount.Currency
}

func (e *engine) ruleReference(r *rcpt) bool {
	s := e.idx.byReference(normalizeRef(r.CreditorRef))
	if !usable(r, s) {
		s = e.referenceInText(r.Remittance)
	}
	if !usable(r, s) {
		return false
	}
	e.pay(r, r.left, e.spill(s), RuleReference, s)
	return true
}

// referenceInText finds a statement's RF reference in free text, in
// electronic or print format.
func (e *engine) referenceInText(text string) *stmt {
	for i := 0; i+1 < len(text); i++ {
		if text[i]&^0x20 != 'R' || text[i+1]&^0x20 != 'F' || (i > 0 && isAlnum(text[i-1])) {
			continue
		}
		var buf [rfref.MaxLen]byte
		n := 0
		var found *stmt
		for j := i; j < len(text) && n < len(buf); j++ {
			c := text[j]
			if c == ' ' && j+1 < len(text) && isAlnum(text[j+1]) && n%4 == 0 {
				continue // a print-format group separator
			}
			if !isAlnum(c) {
				break
			}
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			buf[n] = c
			n++
			if n >= rfref.MinLen && (j+1 == len(text) || !isAlnum(text[j+1])) {
				if s := e.idx.byReference(string(buf[:n])); s != nil {
					found = s
				}
			}
		}
		if found != nil {
			return found
		}
	}
	return nil
}

func (e *engine) ruleEndToEnd(r *rcpt) bool {
	id := strings.TrimSpace(r.EndToEndID)
	if id == "" {
		return false
	}
	if s := e.idx.byReference(normalizeRef(id)); usable(r, s) {
		e.pay(r, r.left, e.spill(s), RuleEndToEnd, s)
		return true
	}
	// The debtor account, when it is a platform's, must be the advice's
	// platform: two platforms may use the same reference of their own.
	payer, known := e.idx.platformOf(r.DebtorAccount)
	var t *target
	for _, a := range e.idx.advicesByReference(id) {
		switch {
		case a.target == nil, known && a.Platform != payer:
		case t == nil:
			t = a.target
		case t != a.target:
			return false // advices of two periods share the reference
		}
	}
	if t == nil {
		return false
	}
	var targets []*stmt
	if t.st != nil {
		targets = e.spill(t.st)
	} else {
		targets = e.idx.ofKey(t.key)
	}
	over := targets[0]
	if !usable(r, over) {
		return false
	}
	e.pay(r, r.left, targets, RuleEndToEnd, over)
	return true
}

func (e *engine) ruleAccount(r *rcpt) bool {
	if r.DebtorAccount.IsZero() {
		return false
	}
	p, ok := e.idx.platformOf(r.DebtorAccount)
	if !ok {
		return false
	}
	var cands []*stmt
	for _, s := range e.idx.ofPlatform(p) {
		if s.open > 0 && usable(r, s) &&
			!r.paidOn.Before(s.DueDate.AddDays(-e.cfg.WindowBefore)) && !s.DueDate.AddDays(e.cfg.WindowAfter).Before(r.paidOn) {
			cands = append(cands, s)
		}
	}
	// The oldest one, the oldest two, …; then any one of them.
	var sum int64
	for k, s := range cands {
		sum += s.open
		if e.within(r.left, sum) {
			e.pay(r, r.left, cands[:k+1], RuleAccount, s)
			return true
		}
	}
	for _, s := range cands {
		if e.within(r.left, s.open) {
			e.pay(r, r.left, []*stmt{s}, RuleAccount, s)
			return true
		}
	}
	return false
}

// within reports whether amount is within the tolerance of expected.
func (e *engine) within(amount, expected int64) bool {
	diff := amount - expected
	if diff < 0 {
		diff = -diff
	}
	tol := e.cfg.Tolerance.Minor
	if !e.cfg.Tolerance.Rate.IsZero() {
		if t, err := gateway.ApplyRate(gateway.Money{Amount: expected}, e.cfg.Tolerance.Rate, gateway.RoundDown); err == nil {
			tol = max(tol, t.Amount)
		}
	}
	return diff <= tol
}

// normalizeRef returns ref in electronic format when it is a valid RF
// reference, and "" otherwise.
func normalizeRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if len(ref) < 2 || ref[0]&^0x20 != 'R' || ref[1]&^0x20 != 'F' {
		return ""
	}
	n, err := rfref.Normalize(ref)
	if err != nil {
		return ""
	}
	return n
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func cmpDate(a, b calendar.Date) calendar.Date {
	if a.IsZero() {
		return b
	}
	return a
}

func money(amount int64, c gateway.Currency) gateway.Money {
	return gateway.Money{Amount: amount, Currency: c}
}

func inputError(field, format string, args ...any) *gateway.Error {
	return &gateway.Error{
		Code:    gateway.EINVALID,
		Message: "cannot reconcile",
		Details: []gateway.Detail{{Field: field, Message: fmt.Sprintf(format, args...)}},
	}
}
