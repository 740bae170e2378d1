package report

import (
	"cmp"
	"slices"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// SuspenseLine is money received that pays no statement: a receipt no
// rule identified, one finance unmatched, what manual matches left of one,
// or one without a date.
type SuspenseLine struct {
	ReceiptID     string
	Reason        string        // unidentified, unmatched, manual_remainder or undated
	Amount        gateway.Money // in suspense
	Received      gateway.Money // the whole receipt
	ValueDate     calendar.Date
	BookingDate   calendar.Date
	DebtorName    string
	DebtorAccount string
	CreditorRef   string
	Remittance    string
	EndToEndID    string
	Account       string // the insurer's account that received it
	BankStatement string
	ImportID      int64
}

// SuspenseColumns are the columns of the suspense table.
var SuspenseColumns = []Column{
	{Key: "receipt_id", Title: "Receipt", Kind: KindText},
	{Key: "reason", Title: "Reason", Kind: KindText, Width: 16},
	{Key: "currency", Title: "Currency", Kind: KindText},
	{Key: "amount", Title: "In suspense", Kind: KindMoney, Width: 16},
	{Key: "received", Title: "Received", Kind: KindMoney, Width: 16},
	{Key: "value_date", Title: "Value date", Kind: KindDate, Width: 12},
	{Key: "booking_date", Title: "Booking date", Kind: KindDate, Width: 12},
	{Key: "debtor_name", Title: "Debtor", Kind: KindText, Width: 24},
	{Key: "debtor_account", Title: "Debtor account", Kind: KindText, Width: 24},
	{Key: "creditor_ref", Title: "Creditor reference", Kind: KindText, Width: 28},
	{Key: "remittance", Title: "Remittance information", Kind: KindText, Width: 32},
	{Key: "end_to_end_id", Title: "End-to-end id", Kind: KindText, Width: 20},
	{Key: "account", Title: "Account", Kind: KindText, Width: 24},
	{Key: "bank_statement", Title: "Bank statement", Kind: KindText, Width: 16},
	{Key: "import_id", Title: "Import", Kind: KindInt},
}

// SuspenseTotalColumns are the columns of the suspense totals, a row per
// currency.
var SuspenseTotalColumns = []Column{
	{Key: "currency", Title: "Currency", Kind: KindText},
	{Key: "items", Title: "Items", Kind: KindInt},
	{Key: "amount", Title: "In suspense", Kind: KindMoney, Width: 18},
}

// Suspense writes the suspense list: a table "items", a row per receipt,
// then "totals", a row per currency.
type Suspense struct {
	w      Writer
	totals map[gateway.Currency]*suspenseTotal
	row    []Value
	err    error
}

type suspenseTotal struct {
	items  int64
	amount gateway.Money
}

// NewSuspense starts a suspense list on w.
func NewSuspense(w Writer) *Suspense {
	s := &Suspense{w: w, totals: map[gateway.Currency]*suspenseTotal{}, row: make([]Value, len(SuspenseColumns))}
	s.err = w.Begin(&Table{Name: "items", Columns: SuspenseColumns})
	return s
}

// Add writes an item.
func (s *Suspense) Add(it SuspenseLine) error {
	if s.err != nil {
		return s.err
	}
	t, ok := s.totals[it.Amount.Currency]
	if !ok {
		t = &suspenseTotal{amount: gateway.Money{Currency: it.Amount.Currency}}
		s.totals[it.Amount.Currency] = t
	}
	if t.amount, s.err = t.amount.Add(it.Amount); s.err != nil {
		return s.err
	}
	t.items++
	v := s.row
	v[0], v[1], v[2], v[3], v[4] = Text(it.ReceiptID), Text(it.Reason), Text(string(it.Amount.Currency)), Amount(it.Amount), Amount(it.Received)
	v[5], v[6], v[7], v[8] = Day(it.ValueDate), Day(it.BookingDate), Text(it.DebtorName), Text(it.DebtorAccount)
	v[9], v[10], v[11], v[12], v[13], v[14] = Text(it.CreditorRef), Text(it.Remittance), Text(it.EndToEndID), Text(it.Account),
		Text(it.BankStatement), Int(it.ImportID)
	s.err = s.w.Row(v)
	return s.err
}

// Close writes the totals and ends the file.
func (s *Suspense) Close() error {
	if s.err != nil {
		return s.err
	}
	if err := s.w.Begin(&Table{Name: "totals", Columns: SuspenseTotalColumns}); err != nil {
		return err
	}
	cs := make([]gateway.Currency, 0, len(s.totals))
	for c := range s.totals {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, cmp.Compare)
	for _, c := range cs {
		t := s.totals[c]
		if err := s.w.Row([]Value{Text(string(c)), Int(t.items), Amount(t.amount)}); err != nil {
			return err
		}
	}
	return s.w.Close()
}
