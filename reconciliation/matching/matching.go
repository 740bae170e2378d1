// Package matching reconciles what platforms owed with what the insurer's
// bank received: it matches receipts (from bankstatement) to statements,
// records what is left in suspense, and gives each platform, scheme and
// period an outcome: paid, underpaid, overpaid, missing or still open, late
// with interest, and advice mismatches per worker.
//
// [Reconcile] is a pure function of its [Input] and [Config]: the same
// statements, advices, receipts, platforms, decisions and clock give the
// same [Result] in whatever order the inputs come, so a rerun changes
// nothing and a store can replace the previous result with the new one.
//
// # Rules
//
// Receipts are considered oldest first (value date, booking date, ID).
// Only booked credits are matched; debits never are. A reversal (a booked
// debit with the reversal indicator) undoes the credit it reverses, named
// by [Receipt.Reverses] or found by currency, amount, end-to-end id and
// debtor account; neither of the two is matched.
//
// Finance's manual [Decision]s apply first, in the order they were made:
// a match allocates a receipt (or part of it) to a statement, an unmatch
// takes it back and keeps the rules from making that match again. A
// receipt with manual matches is left to finance: what the matches do not
// use goes to suspense. Then the rules, each over all remaining receipts
// before the next:
//
//  1. Reference: the receipt's structured creditor reference, or an RF
//     reference in its remittance text, normalised, is a statement's RF
//     reference.
//  2. End-to-end id: the receipt's end-to-end id is a statement's RF
//     reference or the payment reference of a remittance advice.
//  3. Account: the debtor account is a remittance account of exactly one
//     platform, and the amount is within Config.Tolerance of what the
//     platform's oldest open statements whose due date is within the
//     window of the value date still need (the first one, the first two,
//     …), or of one of them.
//
// A receipt identified by rule 1 or 2 pays the named statement, then the
// other statements of its period, oldest due first; several receipts may
// pay one statement in parts. Money beyond what they owe is a credit
// carried forward: it pays the platform's other open statements of the
// same scheme, oldest due first, and what they do not need is an
// overpayment kept as a credit on the period. (Money finance matched by
// hand is never carried: beyond the statement it named, it is an
// overpayment.) A receipt no rule identifies goes to suspense whole.
//
// # Outcomes
//
// Per platform, scheme and period: paid; overpaid (the credit left); open while
// the due date plus the scheme's grace has not passed; then underpaid with
// the shortfall, or missing when nothing arrived at all. Each part paid
// after its statement's due date is late and carries interest by the
// scheme's interest.Rule from the due date to its value date; what is still
// unpaid after the due date accrues interest to the day of Input.Now.
// Advice lines are compared per worker with the lines of the statement the
// advice names, or of all the period's statements when it names the
// period: a worker stated but not advised, advised with another amount, or
// advised but not stated is a [Mismatch].
//
// Lines are streamed through a [LineSource] one statement or advice at a
// time, so a period of a million lines is compared in the memory of the
// largest statement.
package matching

import (
	"iter"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/interest"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// Receipt is a bank receipt with the ID its store gave it. (The embedded
// StatementID names the bank's statement the receipt came from, not a
// contribution statement.)
type Receipt struct {
	// ID identifies the receipt; unique within an Input.
	ID string
	bankstatement.Receipt
	// Reverses is, for a reversal, the ID of the receipt it reverses when
	// the store knows it; empty lets Reconcile find it.
	Reverses string
}

// Platform is a platform whose payments the account rule recognises.
type Platform struct {
	ID string
	// Accounts are the bank accounts the platform pays from. An account
	// listed for two platforms identifies neither.
	Accounts []bankstatement.Account
}

// Scheme is the reconciliation configuration of one scheme.
type Scheme struct {
	// Interest is the late-interest rule; nil for none.
	Interest *interest.Rule
	// Grace is how many days after the due date a period with nothing
	// paid counts as missing rather than open. Default 0.
	Grace int
	// Location is the scheme's time zone, where Input.Now falls on a
	// date. Default UTC.
	Location *time.Location
}

// Tolerance is how far a receipt's amount may be from what it is matched
// against by the account rule: the larger of Minor and Rate × the expected
// amount (rounded down).
type Tolerance struct {
	Minor int64
	Rate  gateway.Rate
}

// Config configures Reconcile.
type Config struct {
	// Tolerance for the account rule. Default exact.
	Tolerance Tolerance
	// WindowBefore and WindowAfter bound, in days around a statement's due
	// date, the value dates the account rule accepts. Default 31 each.
	WindowBefore int
	WindowAfter  int
	// Schemes holds each scheme's configuration, by scheme code. Every
	// scheme of the input's statements must have one.
	Schemes map[string]Scheme
}

// DecisionKind is what finance decided.
type DecisionKind string

// Kinds of decision.
const (
	// Match allocates a receipt, or Amount of it, to a statement.
	Match DecisionKind = "match"
	// Unmatch removes a receipt's manual matches to a statement (every
	// statement when StatementID is empty) and keeps the rules from
	// matching it there.
	Unmatch DecisionKind = "unmatch"
)

// Decision is a manual match or unmatch by finance.
type Decision struct {
	ID        string
	Kind      DecisionKind
	ReceiptID string
	// StatementID is the statement matched to; for an unmatch, empty
	// means every statement.
	StatementID string
	// Amount is how much of the receipt a match allocates; zero means all
	// that is left of it.
	Amount gateway.Money
	Reason string
	User   string
	At     time.Time
}

// LineSource streams the lines of statements and advices. Each sequence
// may yield the lines in any order and stops at the first error. A store
// backs it with one query per statement or advice, so Reconcile holds the
// lines of one comparison at a time.
type LineSource interface {
	StatementLines(st *statement.Statement) iter.Seq2[statement.Line, error]
	AdviceLines(a *statement.Advice) iter.Seq2[statement.AdviceLine, error]
}

// Input is everything Reconcile looks at.
type Input struct {
	// Statements are every statement of the periods being reconciled,
	// originals and supplementaries. Their Lines are read only when Lines
	// is nil.
	Statements []statement.Statement
	// Advices are the platforms' remittance advices. Their Lines are read
	// only when Lines is nil.
	Advices   []statement.Advice
	Receipts  []Receipt
	Platforms []Platform
	Decisions []Decision
	// Now is the time the outcomes are as of: it decides what is missing
	// and how much interest has accrued.
	Now time.Time
	// Lines streams the lines; nil means the Lines fields of the
	// statements and advices.
	Lines LineSource
}

// Rule names how an allocation was made.
type Rule string

// Rules, in the order they apply.
const (
	RuleManual    Rule = "manual"
	RuleReference Rule = "reference"
	RuleEndToEnd  Rule = "end_to_end"
	RuleAccount   Rule = "account"
)

// Allocation is money from one receipt credited to one statement.
type Allocation struct {
	ReceiptID   string
	StatementID string
	Key         statement.Key
	Amount      gateway.Money
	Rule        Rule
	// Overpayment marks money beyond what the statement's period and
	// the platform's other open statements of the scheme owed: a credit
	// kept on the period, not a payment of the statement.
	Overpayment bool
	// Carried marks money beyond what the period of the statement
	// CreditOf owed, carried forward to pay this statement of another
	// period of the same platform and scheme.
	Carried  bool
	CreditOf string
	// ValueDate is the receipt's value date (its booking date if the bank
	// gave none).
	ValueDate calendar.Date
	// Late is how late the money is in the interest rule's units (days,
	// or months or part); 0 when on time. Interest is due on it.
	Late     int
	Interest gateway.Money
}

// Suspense reasons.
const (
	// SuspenseUnidentified: no rule identified the receipt.
	SuspenseUnidentified = "unidentified"
	// SuspenseUnmatched: finance unmatched the receipt from every statement.
	SuspenseUnmatched = "unmatched"
	// SuspenseManualRemainder: what finance's manual matches left of the
	// receipt.
	SuspenseManualRemainder = "manual_remainder"
	// SuspenseUndated: the receipt has neither value nor booking date.
	SuspenseUndated = "undated"
)

// Suspense is money received that pays no statement.
type Suspense struct {
	ReceiptID string
	Amount    gateway.Money
	Reason    string
}

// Reasons a receipt is not matched at all.
const (
	IgnoredDebit      = "debit"          // a debit that reverses nothing matchable
	IgnoredNotBooked  = "not_booked"     // pending, information or future entry
	IgnoredZero       = "zero_amount"    // nothing to match
	IgnoredOrphan     = "no_original"    // a reversal whose original is not among the receipts
	IgnoredDebitUndo  = "reverses_debit" // a credit reversing a debit, such as a refunded fee
	IgnoredDuplicated = "reversed_twice" // names a receipt another reversal already undid
)

// Ignored is a receipt that takes no part in matching.
type Ignored struct {
	ReceiptID string
	Reason    string
}

// Reversal pairs a reversal with the receipt it undoes.
type Reversal struct {
	ReversalID string
	ReceiptID  string
}

// DecisionRecord is a decision as applied, for the audit trail.
type DecisionRecord struct {
	Decision
	// Applied is false when the decision could not take effect; Note
	// says why, or what later undid it.
	Applied bool
	Note    string
}

// Status is a period's payment status.
type Status string

// Statuses.
const (
	StatusPaid      Status = "paid"
	StatusOverpaid  Status = "overpaid"
	StatusOpen      Status = "open" // not fully paid, due date plus grace not passed
	StatusUnderpaid Status = "underpaid"
	StatusMissing   Status = "missing"
)

// MismatchKind says how an advice line differs from the statement lines.
type MismatchKind string

// Kinds of mismatch.
const (
	MissingWorker   MismatchKind = "missing_worker"   // stated, not advised
	DifferentAmount MismatchKind = "different_amount" // both, amounts differ
	UnknownWorker   MismatchKind = "unknown_worker"   // advised, not stated
)

// Mismatch is one worker on which an advice and the statements disagree.
type Mismatch struct {
	Kind MismatchKind
	// StatementID is the statement the advice named; empty when it named
	// the period and was compared with all its statements.
	StatementID string
	WorkerKey   string
	Stated      gateway.Money
	Advised     gateway.Money
	// Advices are the IDs of the advices compared, sorted.
	Advices []string
}

// StatementOutcome is how much of one statement is paid.
type StatementOutcome struct {
	ID      string
	Seq     uint32
	Total   gateway.Money
	DueDate calendar.Date
	Paid    gateway.Money
	// Open is what is still to pay: the total (after any credit from a
	// negative supplementary statement of the period) less Paid.
	Open gateway.Money
}

// Outcome is the reconciliation of one platform, scheme and period.
type Outcome struct {
	Key      statement.Key
	Currency gateway.Currency
	Status   Status
	// Due is the sum of the statements' totals; DueDate the earliest
	// statement's due date.
	Due     gateway.Money
	DueDate calendar.Date
	// Paid is what receipts paid towards Due, credit carried in from
	// other periods included; Shortfall what is still open; Overpaid the
	// credit no open statement needed.
	Paid      gateway.Money
	Shortfall gateway.Money
	Overpaid  gateway.Money
	// CarriedIn is the part of Paid that is credit carried forward from
	// receipts identified for other periods; CarriedOut what receipts
	// identified for this period paid to other periods.
	CarriedIn  gateway.Money
	CarriedOut gateway.Money
	// Late is true when some part was paid after its due date; Interest
	// is the interest on those parts.
	Late     bool
	Interest gateway.Money
	// Accrued is the interest, as of Input.Now, on what is still open
	// after its due date.
	Accrued gateway.Money
	// Advised is the total of the advices linked to the period.
	Advised    gateway.Money
	Mismatches []Mismatch
	Statements []StatementOutcome
}

// Result is the whole reconciliation. Every slice is in a deterministic
// order: outcomes by key; allocations in the order they were made (manual
// decisions, then rule by rule, receipts oldest first); suspense, ignored
// receipts and reversals in receipt order; decisions in the order they were
// made.
type Result struct {
	Outcomes    []Outcome
	Allocations []Allocation
	Suspense    []Suspense
	Ignored     []Ignored
	Reversals   []Reversal
	Decisions   []DecisionRecord
	// UnlinkedAdvices are the IDs of advices whose payment reference names
	// no statement and whose scheme and period name no period of the
	// input (or whose currency is not the period's), sorted.
	UnlinkedAdvices []string
}
