// Package statement is what a platform owes and what it says it paid.
//
// A [Statement] states, for one platform, scheme and contribution period
// (a [Key]), the per-worker lines of worker and platform shares, their
// totals, the due date from the scheme's rule and holiday calendar, and the
// ISO 11649 RF creditor reference the platform pays against. [Build] makes
// one from ledger entries ([Entry]), deterministically: the same entries in
// any order give the same statement, lines sorted by worker key, totals
// exact.
//
// Statements are immutable once issued. When late adjustments change a
// period after its statement went out, Build makes a supplementary
// statement for the difference between the ledger's current per-worker
// totals and what the earlier statements of the period stated; it never
// edits them. The original has sequence 0 and each supplementary the next
// number, which also makes its RF reference ([rfref.Key.Seq]).
//
// A remittance advice ([Advice]) is the platform's own declaration of a
// payment: its reference, amount, value date and per-worker lines.
// [ParseAdviceCSV] reads advice files; reconciliation compares advice lines
// with statement lines per worker.
//
// The package is pure: no I/O beyond the reader handed to ParseAdviceCSV,
// and plain structs with IDs that a store can keep as rows.
package statement

import (
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Key names the statements of one platform, scheme and period.
type Key struct {
	// Platform is the platform's id.
	Platform string
	// Scheme is the scheme's short code, as in its RF references ("SOCS").
	Scheme string
	// Period is the period key: "2026-10", "2026-Q4", "2026", "FY2026".
	Period string
}

// String returns "platform/scheme/period".
func (k Key) String() string { return k.Platform + "/" + k.Scheme + "/" + k.Period }

// Compare orders keys by platform, scheme and period.
func (k Key) Compare(o Key) int {
	switch {
	case k.Platform != o.Platform:
		return cmpString(k.Platform, o.Platform)
	case k.Scheme != o.Scheme:
		return cmpString(k.Scheme, o.Scheme)
	default:
		return cmpString(k.Period, o.Period)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Kind says whether a statement is a period's first or a later one.
type Kind string

// Kinds of statement.
const (
	// Original is the statement issued when the period closed.
	Original Kind = "original"
	// Supplementary states what late adjustments changed after an earlier
	// statement of the same period was issued.
	Supplementary Kind = "supplementary"
)

// Line is what one worker's contributions come to on a statement. On a
// supplementary statement the amounts are differences and may be negative.
type Line struct {
	WorkerKey string
	// Worker is the worker share withheld; Platform the platform's share.
	Worker   gateway.Money
	Platform gateway.Money
	// Late is true when the amounts include late adjustments: entries
	// booked in a later period than the one they belong to.
	Late bool
}

// Total returns the worker and platform shares together. Build checks that
// the sum fits, so Total does not fail on a built line.
func (l Line) Total() gateway.Money {
	return gateway.Money{Amount: l.Worker.Amount + l.Platform.Amount, Currency: l.Worker.Currency}
}

// Statement is what a platform owes for one period under one scheme: an
// original statement or a supplementary one. Build fills every field.
type Statement struct {
	// ID identifies the statement; Build sets it to the Reference unless
	// the Spec names another.
	ID  string
	Key Key
	// Seq is 0 for the original and n for the n-th supplementary.
	Seq  uint32
	Kind Kind
	// Supplements is the ID of the original statement of the period, for a
	// supplementary statement; empty for an original.
	Supplements string
	// Reference is the ISO 11649 RF creditor reference in electronic
	// format, made by rfref.Generate from the key and Seq.
	Reference string
	Currency  gateway.Currency
	// Worker, Platform and Total are the sums of the lines' shares; Total is
	// Worker + Platform. Negative on a supplementary statement that reduces
	// what the period owes.
	Worker   gateway.Money
	Platform gateway.Money
	Total    gateway.Money
	// DueDate is when the money must have arrived, from the scheme's rule.
	DueDate  calendar.Date
	IssuedAt time.Time
	// LateEntries counts the ledger entries behind the statement that are
	// late adjustments.
	LateEntries int
	// Lines, one per worker, sorted by worker key. A supplementary
	// statement has lines only for the workers whose amounts changed.
	Lines []Line
}
