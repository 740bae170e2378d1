package report

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Bucket is an age band of open receivables, by days past the due date.
type Bucket int

// Buckets, youngest first.
const (
	NotDue     Bucket = iota // due today or later
	Days1To30                // 1 to 30 days past due
	Days31To60               // 31 to 60
	Days61To90               // 61 to 90
	Over90                   // more than 90
	buckets
)

// DaysPastDue is how many days asOf is after due: 0 on the due date,
// negative before it.
func DaysPastDue(due, asOf calendar.Date) int {
	return int(asOf.Start(time.UTC).Sub(due.Start(time.UTC)) / (24 * time.Hour))
}

// BucketOf returns the band of an amount due on due, as of asOf.
func BucketOf(due, asOf calendar.Date) Bucket {
	switch d := DaysPastDue(due, asOf); {
	case d <= 0:
		return NotDue
	case d <= 30:
		return Days1To30
	case d <= 60:
		return Days31To60
	case d <= 90:
		return Days61To90
	default:
		return Over90
	}
}

// OpenItem is what is still to pay of one statement.
type OpenItem struct {
	PlatformID   string
	PlatformName string
	SchemeID     string
	Period       string
	StatementID  string
	Currency     gateway.Currency
	DueDate      calendar.Date
	Open         int64 // minor units; items of 0 or less are skipped
}

// AgingRow is the open receivables of a platform (or, with no platform,
// of all) in one currency, by band.
type AgingRow struct {
	PlatformID   string
	PlatformName string
	Currency     gateway.Currency
	Items        int64 // statements with something open
	Buckets      [buckets]gateway.Money
	Total        gateway.Money
}

func (r *AgingRow) add(b Bucket, m gateway.Money) error {
	var err error
	if r.Buckets[b], err = r.Buckets[b].Add(m); err != nil {
		return err
	}
	if r.Total, err = r.Total.Add(m); err != nil {
		return err
	}
	r.Items++
	return nil
}

func newAgingRow(platform, name string, c gateway.Currency) *AgingRow {
	r := &AgingRow{PlatformID: platform, PlatformName: name, Currency: c, Total: gateway.Money{Currency: c}}
	for i := range r.Buckets {
		r.Buckets[i].Currency = c
	}
	return r
}

// AgingColumns are the columns of the aging tables: a row per platform
// and currency ("platforms"), and per currency ("totals", without the
// platform).
var AgingColumns = []Column{
	{Key: "platform_id", Title: "Platform", Kind: KindText, Width: 16},
	{Key: "platform_name", Title: "Platform name", Kind: KindText, Width: 24},
	{Key: "currency", Title: "Currency", Kind: KindText},
	{Key: "statements", Title: "Open statements", Kind: KindInt},
	{Key: "not_due", Title: "Not yet due", Kind: KindMoney, Width: 16},
	{Key: "days_1_30", Title: "1-30 days", Kind: KindMoney, Width: 16},
	{Key: "days_31_60", Title: "31-60 days", Kind: KindMoney, Width: 16},
	{Key: "days_61_90", Title: "61-90 days", Kind: KindMoney, Width: 16},
	{Key: "over_90", Title: "Over 90 days", Kind: KindMoney, Width: 16},
	{Key: "total", Title: "Total open", Kind: KindMoney, Width: 16},
}

// Aging writes the receivables aging as of a date: a table "platforms",
// a row per platform and currency, then "totals", a row per currency.
// Items must come ordered by platform and currency, so that each row is
// written once its items are in.
type Aging struct {
	w      Writer
	asOf   calendar.Date
	cur    *AgingRow
	last   string // platform and currency of the row written last
	totals map[gateway.Currency]*AgingRow
	row    []Value
	err    error
}

// NewAging starts an aging report as of asOf on w.
func NewAging(w Writer, asOf calendar.Date) *Aging {
	a := &Aging{w: w, asOf: asOf, totals: map[gateway.Currency]*AgingRow{}, row: make([]Value, len(AgingColumns))}
	a.err = w.Begin(&Table{Name: "platforms", Columns: AgingColumns})
	return a
}

// Add counts an open item in its platform's row and the totals.
func (a *Aging) Add(it OpenItem) error {
	if a.err != nil {
		return a.err
	}
	if it.Open <= 0 {
		return nil
	}
	a.err = a.add(it)
	return a.err
}

func (a *Aging) add(it OpenItem) error {
	if a.cur != nil && (a.cur.PlatformID != it.PlatformID || a.cur.Currency != it.Currency) {
		if err := a.flush(); err != nil {
			return err
		}
	}
	if a.cur == nil {
		key := it.PlatformID + "\x00" + string(it.Currency)
		if key <= a.last {
			return fmt.Errorf("aging: open items out of order at platform %s, currency %s", it.PlatformID, it.Currency)
		}
		a.last = key
		a.cur = newAgingRow(it.PlatformID, it.PlatformName, it.Currency)
	}
	b := BucketOf(it.DueDate, a.asOf)
	m := gateway.Money{Amount: it.Open, Currency: it.Currency}
	if err := a.cur.add(b, m); err != nil {
		return err
	}
	t, ok := a.totals[it.Currency]
	if !ok {
		t = newAgingRow("", "", it.Currency)
		a.totals[it.Currency] = t
	}
	return t.add(b, m)
}

func (a *Aging) flush() error {
	r := a.cur
	a.cur = nil
	return a.w.Row(a.values(r))
}

func (a *Aging) values(r *AgingRow) []Value {
	v := a.row
	v[0], v[1], v[2], v[3] = Text(r.PlatformID), Text(r.PlatformName), Text(string(r.Currency)), Int(r.Items)
	for i, m := range r.Buckets {
		v[4+i] = Amount(m)
	}
	v[9] = Amount(r.Total)
	return v
}

// Totals returns the totals per currency so far, by currency code.
func (a *Aging) Totals() []AgingRow {
	out := make([]AgingRow, 0, len(a.totals))
	for _, t := range a.totals {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b AgingRow) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

// Close writes the last platform's row and the totals, and ends the file.
func (a *Aging) Close() error {
	if a.err != nil {
		return a.err
	}
	if a.cur != nil {
		if err := a.flush(); err != nil {
			return err
		}
	}
	if err := a.w.Begin(&Table{Name: "totals", Columns: AgingColumns}); err != nil {
		return err
	}
	for _, t := range a.Totals() {
		if err := a.w.Row(a.values(&t)); err != nil {
			return err
		}
	}
	return a.w.Close()
}
