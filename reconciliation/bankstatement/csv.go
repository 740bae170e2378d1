package bankstatement

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// CSVMapping says which header column holds which receipt field. Each
// field's comment gives the header name used when it is left empty; a
// column the file's header does not have is treated as empty in every row,
// except the required ones (statement id, account, currency, amount, and
// direction unless SignedAmounts). Header names match case-insensitively
// after trimming spaces.
//
// One CSV file may hold several statements; rows are grouped by statement
// id in order of first appearance, and the statement-level columns
// (account, currency, balances) must agree on every row of a statement.
type CSVMapping struct {
	Comma rune // field separator; default ','

	StatementID    string // "statement_id"
	Account        string // "account": an IBAN, or another account number
	Currency       string // "currency"
	OpeningBalance string // "opening_balance": signed decimal, optional
	OpeningDate    string // "opening_date"
	ClosingBalance string // "closing_balance": signed decimal, optional
	ClosingDate    string // "closing_date"

	EntryRef      string // "entry_ref"
	BankRef       string // "bank_ref"
	EndToEndID    string // "end_to_end_id"
	Direction     string // "direction"
	Amount        string // "amount"
	Status        string // "status": BOOK, PDNG, INFO or FUTR; BOOK when empty
	Reversal      string // "reversal": true/false, 1/0, yes/no; false when empty
	BookingDate   string // "booking_date"
	ValueDate     string // "value_date"
	CreditorRef   string // "creditor_ref"
	Remittance    string // "remittance"
	DebtorName    string // "debtor_name"
	DebtorAccount string // "debtor_account": an IBAN, or another account number

	// CreditValue and DebitValue are what the direction column says;
	// default "CRDT" and "DBIT" (compared case-insensitively).
	CreditValue, DebitValue string
	// SignedAmounts reads the direction from the amount's sign (a minus
	// for a debit) when there is no direction column or it is empty.
	SignedAmounts bool
	// DateLayout is the time.Parse layout of the date columns; default
	// "2006-01-02".
	DateLayout string
}

func (m CSVMapping) withDefaults() CSVMapping {
	m.Comma = cmp.Or(m.Comma, ',')
	m.StatementID = cmp.Or(m.StatementID, "statement_id")
	m.Account = cmp.Or(m.Account, "account")
	m.Currency = cmp.Or(m.Currency, "currency")
	m.OpeningBalance = cmp.Or(m.OpeningBalance, "opening_balance")
	m.OpeningDate = cmp.Or(m.OpeningDate, "opening_date")
	m.ClosingBalance = cmp.Or(m.ClosingBalance, "closing_balance")
	m.ClosingDate = cmp.Or(m.ClosingDate, "closing_date")
	m.EntryRef = cmp.Or(m.EntryRef, "entry_ref")
	m.BankRef = cmp.Or(m.BankRef, "bank_ref")
	m.EndToEndID = cmp.Or(m.EndToEndID, "end_to_end_id")
	m.Direction = cmp.Or(m.Direction, "direction")
	m.Amount = cmp.Or(m.Amount, "amount")
	m.Status = cmp.Or(m.Status, "status")
	m.Reversal = cmp.Or(m.Reversal, "reversal")
	m.BookingDate = cmp.Or(m.BookingDate, "booking_date")
	m.ValueDate = cmp.Or(m.ValueDate, "value_date")
	m.CreditorRef = cmp.Or(m.CreditorRef, "creditor_ref")
	m.Remittance = cmp.Or(m.Remittance, "remittance")
	m.DebtorName = cmp.Or(m.DebtorName, "debtor_name")
	m.DebtorAccount = cmp.Or(m.DebtorAccount, "debtor_account")
	m.CreditValue = cmp.Or(m.CreditValue, string(Credit))
	m.DebitValue = cmp.Or(m.DebitValue, string(Debit))
	m.DateLayout = cmp.Or(m.DateLayout, time.DateOnly)
	return m
}

// ParseCSV reads a CSV bank export with a header row into a File, applying
// the same checks as ParseCamt: exact amounts, known statuses and dates,
// and, when the balance columns are present, opening + credits - debits =
// closing per statement. Errors are *gateway.Error values naming the column
// and line. Config.MaxBytes bounds the input; the XML limits do not apply.
func ParseCSV(r io.Reader, m CSVMapping, cfg Config) (*File, error) {
	cfg = cfg.withDefaults()
	m = m.withDefaults()
	size := newSizeReader(r, cfg.MaxBytes)
	br := bufio.NewReader(size)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = m.Comma
	cr.FieldsPerRecord = 0
	cr.ReuseRecord = true

	tooLarge := func() error {
		return fileError(CodeTooLarge, "", 0, "the file is larger than the limit of %d bytes", cfg.MaxBytes)
	}
	readErr := func(err error) error {
		if size.over() || errors.Is(err, errTooLarge) {
			return tooLarge()
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fileError(CodeSyntax, "", pe.Line, "the file is not valid CSV: %v", pe.Err)
		}
		return fileError(CodeSyntax, "", 0, "the file cannot be read as CSV: %v", err)
	}

	header, err := cr.Read()
	if err == io.EOF {
		return nil, fileError(CodeMissing, "", 1, "the file is empty; want a header row")
	}
	if err != nil {
		return nil, readErr(err)
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.ToLower(strings.TrimSpace(h))] = i
	}
	col := func(name string) int {
		if i, ok := cols[strings.ToLower(strings.TrimSpace(name))]; ok {
			return i
		}
		return -1
	}
	c := csvCols{
		stmt: col(m.StatementID), acct: col(m.Account), ccy: col(m.Currency),
		open: col(m.OpeningBalance), openDt: col(m.OpeningDate), close: col(m.ClosingBalance), closeDt: col(m.ClosingDate),
		entry: col(m.EntryRef), bank: col(m.BankRef), e2e: col(m.EndToEndID), dir: col(m.Direction), amt: col(m.Amount),
		sts: col(m.Status), rvsl: col(m.Reversal), book: col(m.BookingDate), val: col(m.ValueDate),
		cref: col(m.CreditorRef), rmt: col(m.Remittance), dnm: col(m.DebtorName), dacct: col(m.DebtorAccount),
	}
	required := []struct {
		idx  int
		name string
	}{{c.stmt, m.StatementID}, {c.acct, m.Account}, {c.ccy, m.Currency}, {c.amt, m.Amount}}
	if !m.SignedAmounts {
		required = append(required, struct {
			idx  int
			name string
		}{c.dir, m.Direction})
	}
	for _, rq := range required {
		if rq.idx < 0 {
			return nil, fileError(CodeMissing, rq.name, 1, "the header has no %s column", quote(rq.name))
		}
	}
	if (c.open < 0) != (c.close < 0) {
		return nil, fileError(CodeMissing, m.OpeningBalance+"/"+m.ClosingBalance, 1, "the header has only one of the balance columns %s and %s", quote(m.OpeningBalance), quote(m.ClosingBalance))
	}

	file := &File{Format: CSV}
	index := map[string]int{} // statement id → index in file.Statements
	type stmtCols struct{ acct, ccy, open, openDt, close, closeDt string }
	first := map[string]stmtCols{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readErr(err)
		}
		line, _ := cr.FieldPos(0)
		get := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		fail := func(code, field, format string, args ...any) error {
			return fileError(code, field, line, format, args...)
		}
		if len(rec) == 1 && get(0) == "" {
			continue // blank line
		}
		id := get(c.stmt)
		if id == "" {
			return nil, fail(CodeMissing, m.StatementID, "the row has no statement id")
		}
		sc := stmtCols{get(c.acct), get(c.ccy), get(c.open), get(c.openDt), get(c.close), get(c.closeDt)}
		si, ok := index[id]
		if !ok {
			ccy, err := gateway.LookupCurrency(sc.ccy)
			if err != nil {
				return nil, fail(CodeCurrency, m.Currency, "unknown currency %s", quote(sc.ccy))
			}
			if sc.acct == "" {
				return nil, fail(CodeMissing, m.Account, "the row has no account")
			}
			st := Statement{ID: id, Account: account(sc.acct), Currency: ccy, Line: line,
				Credits: gateway.Money{Currency: ccy}, Debits: gateway.Money{Currency: ccy}}
			if c.open >= 0 {
				if st.Opening, err = csvBalance(sc.ccy, sc.open, sc.openDt, m.DateLayout); err != nil {
					return nil, fail(CodeAmount, m.OpeningBalance, "opening balance: %v", err)
				}
				if st.Closing, err = csvBalance(sc.ccy, sc.close, sc.closeDt, m.DateLayout); err != nil {
					return nil, fail(CodeAmount, m.ClosingBalance, "closing balance: %v", err)
				}
			}
			si = len(file.Statements)
			index[id] = si
			first[id] = sc
			file.Statements = append(file.Statements, st)
		} else if f := first[id]; f != sc {
			for _, d := range []struct{ a, b, name string }{
				{f.acct, sc.acct, m.Account}, {f.ccy, sc.ccy, m.Currency},
				{f.open, sc.open, m.OpeningBalance}, {f.openDt, sc.openDt, m.OpeningDate},
				{f.close, sc.close, m.ClosingBalance}, {f.closeDt, sc.closeDt, m.ClosingDate},
			} {
				if d.a != d.b {
					return nil, fail(CodeMismatch, d.name, "statement %s has %s %s on line %d but %s here", id, d.name, quote(d.a), file.Statements[si].Line, quote(d.b))
				}
			}
		}
		st := &file.Statements[si]

		raw := get(c.amt)
		dirText := get(c.dir)
		var dir Direction
		switch {
		case strings.EqualFold(dirText, m.CreditValue):
			dir = Credit
		case strings.EqualFold(dirText, m.DebitValue):
			dir = Debit
		case dirText == "" && m.SignedAmounts:
			dir = Credit
			if strings.HasPrefix(raw, "-") {
				dir, raw = Debit, raw[1:]
			}
		default:
			return nil, fail(CodeValue, m.Direction, "direction %s is neither %s nor %s", quote(dirText), quote(m.CreditValue), quote(m.DebitValue))
		}
		if raw == "" {
			return nil, fail(CodeMissing, m.Amount, "the row has no amount")
		}
		amt, msg, ok := parseAmount(string(st.Currency), raw)
		if !ok {
			return nil, fail(CodeAmount, m.Amount, "%s", msg)
		}
		status := Status(strings.ToUpper(cmp.Or(get(c.sts), string(Booked))))
		switch status {
		case Booked, Pending, Info, Future:
		default:
			return nil, fail(CodeValue, m.Status, "status %s is not BOOK, PDNG, INFO or FUTR", quote(string(status)))
		}
		var reversal bool
		switch strings.ToLower(get(c.rvsl)) {
		case "", "false", "0", "no", "n":
		case "true", "1", "yes", "y":
			reversal = true
		default:
			return nil, fail(CodeValue, m.Reversal, "reversal %s is not true or false", quote(get(c.rvsl)))
		}
		booking, err := csvDate(get(c.book), m.DateLayout)
		if err != nil {
			return nil, fail(CodeValue, m.BookingDate, "booking date %s does not match the layout %s", quote(get(c.book)), quote(m.DateLayout))
		}
		value, err := csvDate(get(c.val), m.DateLayout)
		if err != nil {
			return nil, fail(CodeValue, m.ValueDate, "value date %s does not match the layout %s", quote(get(c.val)), quote(m.DateLayout))
		}
		r := Receipt{
			StatementID: id,
			EntryRef:    get(c.entry),
			BankRef:     get(c.bank),
			EndToEndID:  endToEnd(get(c.e2e)),
			Direction:   dir,
			Amount:      amt,
			Status:      status,
			Reversal:    reversal,
			BookingDate: booking,
			ValueDate:   value,
			CreditorRef: get(c.cref),
			Remittance:  get(c.rmt),
			DebtorName:  get(c.dnm),
			Line:        line,
		}
		if da := get(c.dacct); da != "" {
			r.DebtorAccount = account(da)
		}
		if status == Booked {
			if err := addBooked(st, amt, dir); err != nil {
				return nil, fail(CodeAmount, m.Amount, "statement totals overflow: %s", gateway.ErrorMessage(err))
			}
		}
		st.Receipts = append(st.Receipts, r)
	}
	if len(file.Statements) == 0 {
		return nil, fileError(CodeMissing, "", 2, "the file has a header but no rows")
	}
	for i := range file.Statements {
		st := &file.Statements[i]
		if msg, ok := checkBalance(st); !ok {
			return nil, fileError(CodeBalanceMismatch, m.ClosingBalance, st.Line, "statement %s: %s", st.ID, msg)
		}
	}
	return file, nil
}

type csvCols struct {
	stmt, acct, ccy, open, openDt, close, closeDt                           int
	entry, bank, e2e, dir, amt, sts, rvsl, book, val, cref, rmt, dnm, dacct int
}

func csvBalance(ccy, amount, date, layout string) (*Balance, error) {
	neg := strings.HasPrefix(amount, "-")
	m, msg, ok := parseAmount(ccy, strings.TrimPrefix(amount, "-"))
	if !ok {
		return nil, errors.New(msg)
	}
	if neg {
		m.Amount = -m.Amount
	}
	d, err := csvDate(date, layout)
	if err != nil {
		return nil, errors.New("date " + quote(date) + " does not match the layout " + quote(layout))
	}
	return &Balance{Amount: m, Date: d}, nil
}

func csvDate(s, layout string) (calendar.Date, error) {
	if s == "" {
		return calendar.Date{}, nil
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return calendar.Date{}, err
	}
	return calendar.DateOf(t), nil
}

// account classifies an account identifier: a valid IBAN (checked with its
// MOD 97 check digits) or another account number, kept as written.
func account(s string) Account {
	if isIBAN(s) {
		return Account{IBAN: s}
	}
	return Account{Other: s}
}

func isIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i < 2 && (c < 'A' || c > 'Z'):
			return false
		case i >= 2 && i < 4 && (c < '0' || c > '9'):
			return false
		case !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'):
			return false
		}
	}
	r := 0
	for _, c := range []byte(s[4:] + s[:4]) {
		if c >= 'A' {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r == 1
}
