package gateway

import (
	"time"
)

// EventKind says what an earnings event does to a worker's earnings.
type EventKind string

// Event kinds.
const (
	// KindEarning is an order, trip, job or payout that earned money.
	KindEarning EventKind = "earning"
	// KindReversal cancels an earlier event (Reverses) entirely; its
	// deduction is the exact negative of the original's.
	KindReversal EventKind = "reversal"
	// KindAdjustment corrects earnings up or down without naming an event.
	KindAdjustment EventKind = "adjustment"
)

// Valid reports whether k is one of the known kinds.
func (k EventKind) Valid() bool {
	switch k {
	case KindEarning, KindReversal, KindAdjustment:
		return true
	default:
		return false
	}
}

// Exclusions are the parts of an event's gross amount that schemes may leave
// out of the contribution base. Each is zero or in the gross currency.
type Exclusions struct {
	Tips       Money
	Incentives Money
	Expenses   Money
	Commission Money
}

// Category classifies the work: the sector ("ride_hailing", "food_delivery",
// "logistics", …) and the vehicle ("2w", "3w", "4w", "hcv", …) where it
// matters.
type Category struct {
	Sector  string
	Vehicle string
}

// Earning is one earnings event reported by a platform. Events are never
// edited: a correction is a new event of kind reversal or adjustment.
//
// Adapters default Orders to 1 when the platform leaves it out, and Kind to
// KindEarning.
type Earning struct {
	EventID    string    // unique per platform
	PlatformID string    // the reporting platform
	WorkerRef  string    // the platform's own worker reference
	WorkerKey  string    // keyed hash of the worker's national ID, "" when unknown
	OccurredAt time.Time // when the work was done or paid
	Gross      Money     // the whole amount, exclusions included
	Exclusions Exclusions
	Orders     int64 // default 1
	Category   Category
	Region     string // province or state code
	Kind       EventKind
	Reverses   string // original event id for a reversal
}

// Validate checks the event on its own, without plans or history. It returns
// nil or one *Error with code EINVALID and one Detail per bad field, named by
// its JSON path (event_id, gross.currency, exclusions.tips, …).
func (e Earning) Validate() error {
	var d []Detail
	bad := func(field, code, msg string) {
		d = append(d, Detail{Field: field, Code: code, Message: msg})
	}
	required := func(field, v string) {
		if v == "" {
			bad(field, "required", field+" is required")
		}
	}
	required("event_id", e.EventID)
	required("platform_id", e.PlatformID)
	required("worker_ref", e.WorkerRef)
	if e.OccurredAt.IsZero() {
		bad("occurred_at", "required", "occurred_at is required")
	}

	grossOK := true
	switch {
	case e.Gross.Currency == "":
		bad("gross.currency", "required", "gross.currency is required")
		grossOK = false
	case !e.Gross.Currency.Valid():
		bad("gross.currency", "unknown_currency", "unknown ISO 4217 currency code "+quote(string(e.Gross.Currency)))
		grossOK = false
	}

	switch {
	case e.Kind == "":
		bad("kind", "required", "kind is required (earning, reversal or adjustment)")
	case !e.Kind.Valid():
		bad("kind", "unknown_kind", "kind "+quote(string(e.Kind))+" is not earning, reversal or adjustment")
	case e.Kind == KindEarning && e.Gross.Amount < 0:
		bad("gross", "negative", "gross may be negative only for a reversal or an adjustment")
	case e.Kind == KindReversal && e.Gross.Amount > 0:
		bad("gross", "positive", "a reversal's gross is the original's negated, so it cannot be positive")
	}
	switch {
	case e.Kind == KindReversal && e.Reverses == "":
		bad("reverses", "required", "a reversal names the event it reverses")
	case e.Kind != KindReversal && e.Reverses != "":
		bad("reverses", "not_allowed", "only a reversal names an event it reverses")
	case e.Reverses != "" && e.Reverses == e.EventID:
		bad("reverses", "self", "an event cannot reverse itself")
	}
	if e.Orders < 0 {
		bad("orders", "negative", "orders cannot be negative")
	}

	if grossOK {
		var sum int64
		sumOK := true
		for _, x := range [...]struct {
			field string
			m     Money
		}{
			{"exclusions.tips", e.Exclusions.Tips},
			{"exclusions.incentives", e.Exclusions.Incentives},
			{"exclusions.expenses", e.Exclusions.Expenses},
			{"exclusions.commission", e.Exclusions.Commission},
		} {
			switch {
			case x.m.Amount == 0 && x.m.Currency == "":
				continue
			case x.m.Currency != e.Gross.Currency:
				bad(x.field, "currency_mismatch", x.field+" must be in the gross currency "+string(e.Gross.Currency))
				sumOK = false
				continue
			case x.m.Amount != 0 && (x.m.Amount < 0) != (e.Gross.Amount < 0):
				bad(x.field, "sign", x.field+" must have the same sign as gross")
				sumOK = false
				continue
			}
			var ok bool
			if sum, ok = addInt64(sum, x.m.Amount); !ok {
				sumOK = false
			}
		}
		if sumOK && absExceeds(sum, e.Gross.Amount) {
			bad("exclusions", "exceeds_gross", "exclusions add up to more than gross")
		}
	}

	if len(d) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "invalid earnings event", Details: d}
}

// absExceeds reports whether |a| > |b| without overflowing.
func absExceeds(a, b int64) bool {
	// Compare as non-positive numbers: -|x| is always representable.
	na, nb := a, b
	if na > 0 {
		na = -na
	}
	if nb > 0 {
		nb = -nb
	}
	return na < nb
}

// Base returns the gross minus the exclusions the scheme names.
func (e Earning) Base(ex ExclusionSet) (Money, error) {
	b := e.Gross
	for _, x := range [...]struct {
		on bool
		m  Money
	}{
		{ex&ExcludeTips != 0, e.Exclusions.Tips},
		{ex&ExcludeIncentives != 0, e.Exclusions.Incentives},
		{ex&ExcludeExpenses != 0, e.Exclusions.Expenses},
		{ex&ExcludeCommission != 0, e.Exclusions.Commission},
	} {
		if !x.on {
			continue
		}
		var err error
		if b, err = b.Sub(x.m); err != nil {
			return Money{}, err
		}
	}
	return b, nil
}

// ExclusionSet names which Exclusions a scheme leaves out of the base.
type ExclusionSet uint8

// Exclusion flags.
const (
	ExcludeTips ExclusionSet = 1 << iota
	ExcludeIncentives
	ExcludeExpenses
	ExcludeCommission
)
