package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Line is the reconciliation of one platform, scheme and period: the
// latest matching run's outcome. Amounts are minor units of Currency.
type Line struct {
	PlatformID   string
	PlatformName string
	SchemeID     string
	Period       string
	Currency     gateway.Currency
	// Expected is the total of the period's statements.
	Expected int64
	// Advised is the total of the remittance advice for the period.
	Advised int64
	// Paid is what was paid towards Expected, credit carried in from
	// other periods included; Overpaid the credit no open statement
	// needed. CarriedIn is the part of Paid that came from receipts
	// identified for other periods, CarriedOut what receipts identified
	// for this period paid to other periods.
	Paid       int64
	Overpaid   int64
	CarriedIn  int64
	CarriedOut int64
	// InterestCharged is the interest on parts paid late; InterestAccrued
	// the interest, as of the run, on what is still open past its due
	// date.
	InterestCharged int64
	InterestAccrued int64
	// Status is paid, overpaid, open (not due yet), underpaid or missing.
	Status  string
	Late    bool
	DueDate calendar.Date // the earliest statement's
	// References are the statements' RF creditor references, original
	// first.
	References []string
	Mismatches int // workers on which advice and statements disagree
}

// Received is the money credited to the period: paid (credit carried in
// included) plus overpaid. Money a receipt identified for this period paid
// to another period is that period's; summed over periods, nothing is
// counted twice.
func (l *Line) Received() (gateway.Money, error) {
	return l.money(l.Paid).Add(l.money(l.Overpaid))
}

// Variance is received less expected: negative when short, positive when
// overpaid.
func (l *Line) Variance() (gateway.Money, error) {
	r, err := l.Received()
	if err != nil {
		return gateway.Money{}, err
	}
	return r.Sub(l.money(l.Expected))
}

// Interest is the interest charged plus the interest accrued.
func (l *Line) Interest() (gateway.Money, error) {
	return l.money(l.InterestCharged).Add(l.money(l.InterestAccrued))
}

func (l *Line) money(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: l.Currency} }

// LineColumns are the columns of the reconciliation lines table.
var LineColumns = []Column{
	{Key: "platform_id", Title: "Platform", Kind: KindText, Width: 16},
	{Key: "platform_name", Title: "Platform name", Kind: KindText, Width: 24},
	{Key: "scheme_id", Title: "Scheme", Kind: KindText, Width: 12},
	{Key: "period", Title: "Period", Kind: KindText, Width: 10},
	{Key: "currency", Title: "Currency", Kind: KindText},
	{Key: "expected", Title: "Expected", Kind: KindMoney, Width: 16},
	{Key: "advised", Title: "Advised", Kind: KindMoney, Width: 16},
	{Key: "received", Title: "Received", Kind: KindMoney, Width: 16},
	{Key: "variance", Title: "Variance", Kind: KindMoney, Width: 16},
	{Key: "interest_charged", Title: "Interest charged", Kind: KindMoney, Width: 16},
	{Key: "interest_accrued", Title: "Interest accrued", Kind: KindMoney, Width: 16},
	{Key: "interest", Title: "Interest", Kind: KindMoney, Width: 16},
	{Key: "carried_in", Title: "Credit carried in", Kind: KindMoney, Width: 16},
	{Key: "carried_out", Title: "Credit carried out", Kind: KindMoney, Width: 16},
	{Key: "status", Title: "Status", Kind: KindText},
	{Key: "late", Title: "Late", Kind: KindBool, Width: 6},
	{Key: "due_date", Title: "Due date", Kind: KindDate, Width: 12},
	{Key: "references", Title: "RF references", Kind: KindText, Width: 28},
	{Key: "mismatches", Title: "Advice mismatches", Kind: KindInt},
}

// TotalColumns are the columns of the reconciliation totals table, one
// row per currency.
var TotalColumns = []Column{
	{Key: "currency", Title: "Currency", Kind: KindText},
	{Key: "lines", Title: "Lines", Kind: KindInt},
	{Key: "expected", Title: "Expected", Kind: KindMoney, Width: 18},
	{Key: "advised", Title: "Advised", Kind: KindMoney, Width: 18},
	{Key: "received", Title: "Received", Kind: KindMoney, Width: 18},
	{Key: "variance", Title: "Variance", Kind: KindMoney, Width: 18},
	{Key: "interest_charged", Title: "Interest charged", Kind: KindMoney, Width: 18},
	{Key: "interest_accrued", Title: "Interest accrued", Kind: KindMoney, Width: 18},
	{Key: "interest", Title: "Interest", Kind: KindMoney, Width: 18},
}

// Total is the sum of a report's lines of one currency.
type Total struct {
	Currency                                   gateway.Currency
	Lines                                      int64
	Expected, Advised, Received, Variance      gateway.Money
	InterestCharged, InterestAccrued, Interest gateway.Money
}

// add adds a line of the total's currency.
func (t *Total) add(l *Line) error {
	rec, err := l.Received()
	if err != nil {
		return err
	}
	vr, err := l.Variance()
	if err != nil {
		return err
	}
	in, err := l.Interest()
	if err != nil {
		return err
	}
	for _, p := range []struct {
		sum *gateway.Money
		add gateway.Money
	}{
		{&t.Expected, l.money(l.Expected)}, {&t.Advised, l.money(l.Advised)}, {&t.Received, rec}, {&t.Variance, vr},
		{&t.InterestCharged, l.money(l.InterestCharged)}, {&t.InterestAccrued, l.money(l.InterestAccrued)}, {&t.Interest, in},
	} {
		if *p.sum, err = p.sum.Add(p.add); err != nil {
			return err
		}
	}
	t.Lines++
	return nil
}

// Totals keeps sums per currency; there are as many as currencies, never
// one of mixed currencies.
type Totals struct {
	by map[gateway.Currency]*Total
}

// Add adds a line to its currency's total.
func (ts *Totals) Add(l *Line) error {
	if ts.by == nil {
		ts.by = map[gateway.Currency]*Total{}
	}
	t, ok := ts.by[l.Currency]
	if !ok {
		z := gateway.Money{Currency: l.Currency}
		t = &Total{Currency: l.Currency, Expected: z, Advised: z, Received: z, Variance: z, InterestCharged: z, InterestAccrued: z, Interest: z}
		ts.by[l.Currency] = t
	}
	return t.add(l)
}

// List returns the totals by currency code.
func (ts *Totals) List() []Total {
	out := make([]Total, 0, len(ts.by))
	for _, t := range ts.by {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Total) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

// Reconciliation writes the reconciliation report of a period: a table
// "lines", a row per platform and scheme, then "totals", a row per
// currency.
type Reconciliation struct {
	w      Writer
	totals Totals
	row    []Value
	err    error
}

// NewReconciliation starts a reconciliation report on w.
func NewReconciliation(w Writer) *Reconciliation {
	r := &Reconciliation{w: w, row: make([]Value, len(LineColumns))}
	r.err = w.Begin(&Table{Name: "lines", Columns: LineColumns})
	return r
}

// Add writes a line.
func (r *Reconciliation) Add(l Line) error {
	if r.err != nil {
		return r.err
	}
	r.err = r.add(&l)
	return r.err
}

func (r *Reconciliation) add(l *Line) error {
	rec, err := l.Received()
	if err != nil {
		return err
	}
	vr, err := l.Variance()
	if err != nil {
		return err
	}
	in, err := l.Interest()
	if err != nil {
		return err
	}
	if err := r.totals.Add(l); err != nil {
		return err
	}
	v := r.row
	v[0], v[1], v[2], v[3], v[4] = Text(l.PlatformID), Text(l.PlatformName), Text(l.SchemeID), Text(l.Period), Text(string(l.Currency))
	v[5], v[6], v[7], v[8] = Amount(l.money(l.Expected)), Amount(l.money(l.Advised)), Amount(rec), Amount(vr)
	v[9], v[10], v[11] = Amount(l.money(l.InterestCharged)), Amount(l.money(l.InterestAccrued)), Amount(in)
	v[12], v[13] = Amount(l.money(l.CarriedIn)), Amount(l.money(l.CarriedOut))
	v[14], v[15], v[16] = Text(l.Status), Bool(l.Late), Day(l.DueDate)
	v[17], v[18] = Text(strings.Join(l.References, " ")), Int(int64(l.Mismatches))
	return r.w.Row(v)
}

// Close writes the totals and ends the file.
func (r *Reconciliation) Close() error {
	if r.err != nil {
		return r.err
	}
	if err := r.w.Begin(&Table{Name: "totals", Columns: TotalColumns}); err != nil {
		return err
	}
	for _, t := range r.totals.List() {
		err := r.w.Row([]Value{Text(string(t.Currency)), Int(t.Lines), Amount(t.Expected), Amount(t.Advised), Amount(t.Received),
			Amount(t.Variance), Amount(t.InterestCharged), Amount(t.InterestAccrued), Amount(t.Interest)})
		if err != nil {
			return err
		}
	}
	return r.w.Close()
}
