// Package gaps finds compliance gaps and runs their case workflow, as pure
// rules with no I/O: the store hands it facts read from the reconciliation
// results and the ledger, and applies what it decides.
//
// # Kinds
//
// Each rule turns facts into findings, one per natural key (kind,
// platform, scheme, period, subject):
//
//	kind                   subject          amount at stake                         since
//	missing                -                what is still open (+ accrued interest) the due date
//	underpaid              -                what is still open (+ accrued interest) the due date
//	late                   -                interest on the parts paid late         the due date
//	advice_mismatch        -                sum of |stated - advised| per worker    the due date
//	unmatched_receipt      receipt id       the amount in suspense                  value (or booking) date
//	unregistered_worker    worker ref/key   contributions of the entries            first entry recorded
//	silent_platform        -                trailing average × days less recent     start of the quiet window
//	withheld_not_remitted  worker key       the worker's withheld share not paid    the due date
//
// missing, underpaid, late and advice_mismatch come from the latest
// matching run's outcomes; unmatched_receipt from its suspense.
// withheld_not_remitted is per worker: for a period whose statements are
// underpaid or missing past their due date, each statement line's worker
// share times the statement's open part over its total, rounded down; the
// worker's cover is at risk. silent_platform compares a platform's ledger
// entries of the last SilentDays days (by the time they were recorded)
// with the TrailingDays before: none after having had earnings, or a daily
// rate below (100 - DropPercent)% of the trailing one.
//
// # Severity
//
// Severity adds points and maps them to a level: 0 low, 1-2 medium, 3-4
// high, 5 or more critical.
//
//   - kind: withheld_not_remitted and missing 2; underpaid,
//     unregistered_worker and silent_platform 1; the others 0;
//   - amount (amount + interest): 1 from Config.Large of its currency,
//     2 from ten times that;
//   - age (now - since): 1 from 30 days, 2 from 90 days.
//
// # Workflow
//
// A gap is open, acknowledged, notice_sent, resolved or waived; [Transition]
// checks a person's change (waived needs a reason). [Config.Plan] compares
// the findings with the stored gaps: a new key opens a gap; a gap no longer
// found is cured and, while open, acknowledged or notice_sent, resolves
// itself; a cured gap found again is reopened (a waived one stays waived).
// Detecting twice over the same data changes nothing.
package gaps

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// Kind is what a gap is about.
type Kind string

// Gap kinds.
const (
	Underpaid           Kind = "underpaid"
	Late                Kind = "late"
	Missing             Kind = "missing"
	AdviceMismatch      Kind = "advice_mismatch"
	UnmatchedReceipt    Kind = "unmatched_receipt"
	UnregisteredWorker  Kind = "unregistered_worker"
	SilentPlatform      Kind = "silent_platform"
	WithheldNotRemitted Kind = "withheld_not_remitted"
)

// Kinds returns every kind.
func Kinds() []Kind {
	return []Kind{Underpaid, Late, Missing, AdviceMismatch, UnmatchedReceipt, UnregisteredWorker, SilentPlatform, WithheldNotRemitted}
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Status is where a gap is in its workflow.
type Status string

// Statuses.
const (
	Open         Status = "open"
	Acknowledged Status = "acknowledged"
	NoticeSent   Status = "notice_sent"
	Resolved     Status = "resolved"
	Waived       Status = "waived"
)

// Statuses returns every status.
func Statuses() []Status { return []Status{Open, Acknowledged, NoticeSent, Resolved, Waived} }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// Active reports whether a gap in s is still being worked: open,
// acknowledged or notice_sent.
func (s Status) Active() bool { return s == Open || s == Acknowledged || s == NoticeSent }

// next lists the statuses a person may move a gap to from each status.
var next = map[Status][]Status{
	Open:         {Acknowledged, NoticeSent, Resolved, Waived},
	Acknowledged: {NoticeSent, Resolved, Waived},
	NoticeSent:   {Acknowledged, Resolved, Waived},
	Resolved:     {Open},
	Waived:       {Open},
}

// Transition checks a person's change of a gap from one status to
// another: nil when allowed, else an EINVALID error naming the field
// ("status", or "reason" when waiving without one). A change to the same
// status is allowed and changes nothing.
func Transition(from, to Status, reason string) error {
	if !to.Valid() {
		return gateway.Invalid("status", "unknown_status", fmt.Sprintf("status %q is not one of %s", to, joinStatuses(Statuses())))
	}
	if to == from {
		return nil
	}
	if !slices.Contains(next[from], to) {
		return gateway.Invalid("status", "bad_transition", fmt.Sprintf("a gap that is %s cannot become %s; it can become %s",
			from, to, joinStatuses(next[from])))
	}
	if to == Waived && strings.TrimSpace(reason) == "" {
		return gateway.Invalid("reason", "required", "waiving a gap needs a reason")
	}
	return nil
}

func joinStatuses(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// Severity is how urgent a gap is.
type Severity string

// Severities, lowest first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities returns every severity, lowest first.
func Severities() []Severity { return []Severity{Low, Medium, High, Critical} }

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities(), s) }

// Key is a gap's natural key: detection finds the same gap under the same
// key every time. Fields that do not apply to a kind are "".
type Key struct {
	Kind       Kind
	PlatformID string // "" for an unidentified receipt
	SchemeID   string
	Period     string
	Subject    string // a worker key or reference, a receipt id; "" when the gap is the whole period's
}

func (k Key) String() string {
	return strings.Join([]string{string(k.Kind), k.PlatformID, k.SchemeID, k.Period, k.Subject}, "/")
}

// Evidence is what a gap rests on, as ids to look up.
type Evidence struct {
	RunID      int64    `json:"run_id,omitempty"`     // the matching run the gap was detected or last changed in
	Statements []string `json:"statements,omitempty"` // statement ids: their RF payment references
	DueDate    string   `json:"due_date,omitempty"`
	Receipts   []string `json:"receipts,omitempty"`
	Advices    []string `json:"advices,omitempty"`
	Events     []string `json:"events,omitempty"`  // a sample of event ids
	Entries    int64    `json:"entries,omitempty"` // ledger entries behind the gap
	Workers    []string `json:"workers,omitempty"` // a sample of worker keys
	Detail     string   `json:"detail,omitempty"`  // what was found, in words
}

// Finding is one gap as detection sees it now.
type Finding struct {
	Key
	Currency gateway.Currency
	Amount   int64 // at stake, minor units, >= 0
	Interest int64 // interest owed on it, >= 0
	Since    time.Time
	Evidence Evidence
}
