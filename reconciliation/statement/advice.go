package statement

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
)

// Advice is a platform's remittance advice: its declaration that it paid
// Amount against PaymentReference, valued on ValueDate, made up of the
// per-worker Lines.
type Advice struct {
	// ID identifies the advice; the store that keeps it assigns it.
	ID       string
	Platform string
	// PaymentReference is the reference the platform paid with: normally a
	// statement's RF reference (kept in electronic format), or the
	// platform's own reference, which the bank shows as the end-to-end id.
	PaymentReference string
	Amount           gateway.Money
	ValueDate        calendar.Date
	// Scheme and Period name the statements the advice is for when the
	// payment reference is not a statement's RF reference; optional.
	Scheme string
	Period string
	Lines  []AdviceLine
	// Line is where the advice's first row is in the file it came from;
	// 0 when it did not come from a file.
	Line int
}

// AdviceLine is what the platform says it paid for one worker.
type AdviceLine struct {
	WorkerKey string
	Amount    gateway.Money
	Line      int // line in the file; 0 when not from a file
}

// CSVConfig bounds what ParseAdviceCSV accepts; the zero value uses the
// defaults.
type CSVConfig struct {
	// Comma is the field separator. Default ','.
	Comma rune
	// MaxBytes is the largest file accepted. Default 64 MiB.
	MaxBytes int64
}

// Advice CSV columns. The header row names them, case-insensitively, in any
// order; other columns are ignored.
const (
	ColPaymentReference = "payment_reference" // required: RF reference or the platform's own
	ColValueDate        = "value_date"        // required: YYYY-MM-DD
	ColCurrency         = "currency"          // required: ISO 4217 code
	ColWorkerKey        = "worker_key"        // required
	ColAmount           = "amount"            // required: the worker's amount, exact decimal, not negative
	ColTotal            = "total"             // optional: the advice's total, checked against the lines
	ColScheme           = "scheme"            // optional: scheme code, with period, when the reference is not an RF reference
	ColPeriod           = "period"            // optional: period key
)

// ParseAdviceCSV reads a remittance advice file from platform: a header row,
// then one row per worker and payment. Rows with the same payment reference
// make one advice, in order of first appearance; the advice-level columns
// (value date, currency, total, scheme, period) must be the same on each of
// its rows, a worker may appear once per advice, and when the total column
// is filled it must equal the sum of the advice's amounts. Without it the
// advice's Amount is that sum.
//
// The whole file is accepted or rejected. Errors are EINVALID (ETOOLARGE
// for an oversized file) *gateway.Error values whose detail names the
// column and the 1-based line.
func ParseAdviceCSV(r io.Reader, platform string, cfg CSVConfig) ([]Advice, error) {
	limit := cmp.Or(cfg.MaxBytes, 64<<20)
	lr := &io.LimitedReader{R: r, N: limit + 1}
	out, err := parseAdviceCSV(lr, platform, cfg)
	if err != nil && lr.N <= 0 {
		// Whatever went wrong, the file is over the limit: say so.
		e := adviceError("", 0, "too_large", "the file is larger than the limit of %d bytes", limit)
		e.Code = gateway.ETOOLARGE
		return nil, e
	}
	return out, err
}

func parseAdviceCSV(r io.Reader, platform string, cfg CSVConfig) ([]Advice, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = cmp.Or(cfg.Comma, ',')
	cr.FieldsPerRecord = 0
	cr.ReuseRecord = true
	readErr := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return adviceError("", pe.Line, "syntax", "the file is not valid CSV: %v", pe.Err)
		}
		return adviceError("", 0, "syntax", "the file cannot be read as CSV: %v", err)
	}

	header, err := cr.Read()
	if err == io.EOF {
		return nil, adviceError("", 1, "missing", "the file is empty; want a header row")
	}
	if err != nil {
		return nil, readErr(err)
	}
	cols := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[name]; dup && name != "" {
			return nil, adviceError(name, 1, "duplicate", "the header names column %q twice", name)
		}
		cols[name] = i
	}
	col := func(name string) int {
		if i, ok := cols[name]; ok {
			return i
		}
		return -1
	}
	for _, name := range []string{ColPaymentReference, ColValueDate, ColCurrency, ColWorkerKey, ColAmount} {
		if col(name) < 0 {
			return nil, adviceError(name, 1, "missing", "the header has no %q column", name)
		}
	}
	cRef, cDate, cCcy, cWorker, cAmt := col(ColPaymentReference), col(ColValueDate), col(ColCurrency), col(ColWorkerKey), col(ColAmount)
	cTotal, cScheme, cPeriod := col(ColTotal), col(ColScheme), col(ColPeriod)

	type head struct{ date, ccy, total, scheme, period string }
	type building struct {
		head    head
		sum     int64
		workers map[string]int // worker key → line
	}
	var out []Advice
	byRef := map[string]int{}
	var state []building
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
		if len(rec) == 1 && get(0) == "" {
			continue // blank line
		}
		ref := get(cRef)
		if ref == "" {
			return nil, adviceError(ColPaymentReference, line, "missing", "the row has no payment reference")
		}
		if strings.HasPrefix(strings.ToUpper(ref), "RF") {
			if n, err := rfref.Normalize(ref); err == nil {
				ref = n
			}
		}
		h := head{get(cDate), get(cCcy), get(cTotal), get(cScheme), get(cPeriod)}
		ai, seen := byRef[ref]
		if !seen {
			ccy, err := gateway.LookupCurrency(h.ccy)
			if err != nil {
				return nil, adviceError(ColCurrency, line, "currency", "unknown currency %q", h.ccy)
			}
			if h.date == "" {
				return nil, adviceError(ColValueDate, line, "missing", "the row has no value date")
			}
			d, err := calendar.ParseDate(h.date)
			if err != nil {
				return nil, adviceError(ColValueDate, line, "value", "value date %q is not YYYY-MM-DD", h.date)
			}
			if (h.scheme == "") != (h.period == "") {
				return nil, adviceError(ColScheme, line, "missing", "scheme and period go together; the row has only one of them")
			}
			ai = len(out)
			byRef[ref] = ai
			out = append(out, Advice{
				Platform: platform, PaymentReference: ref, ValueDate: d,
				Amount: gateway.Money{Currency: ccy}, Scheme: h.scheme, Period: h.period, Line: line,
			})
			state = append(state, building{head: h, workers: map[string]int{}})
		} else if f := state[ai].head; f != h {
			for _, d := range []struct{ a, b, name string }{
				{f.date, h.date, ColValueDate}, {f.ccy, h.ccy, ColCurrency}, {f.total, h.total, ColTotal},
				{f.scheme, h.scheme, ColScheme}, {f.period, h.period, ColPeriod},
			} {
				if d.a != d.b {
					return nil, adviceError(d.name, line, "mismatch", "advice %s has %s %q on line %d but %q here", ref, d.name, d.a, out[ai].Line, d.b)
				}
			}
		}
		a, b := &out[ai], &state[ai]
		worker := get(cWorker)
		if worker == "" {
			return nil, adviceError(ColWorkerKey, line, "missing", "the row has no worker key")
		}
		if prev, dup := b.workers[worker]; dup {
			return nil, adviceError(ColWorkerKey, line, "duplicate", "worker %s is already in advice %s on line %d", worker, ref, prev)
		}
		b.workers[worker] = line
		amt, err := gateway.ParseMoney(string(a.Amount.Currency), get(cAmt))
		if err != nil {
			return nil, adviceError(ColAmount, line, "amount", "amount %q is not an exact %s amount: %s", get(cAmt), a.Amount.Currency, detail(err))
		}
		if amt.Amount < 0 {
			return nil, adviceError(ColAmount, line, "amount", "amount %s is negative", amt)
		}
		var ok bool
		if b.sum, ok = add(b.sum, amt.Amount); !ok {
			return nil, adviceError(ColAmount, line, "amount", "the advice's amounts overflow")
		}
		a.Lines = append(a.Lines, AdviceLine{WorkerKey: worker, Amount: amt, Line: line})
	}
	if len(out) == 0 {
		return nil, adviceError("", 2, "missing", "the file has a header but no rows")
	}
	for i := range out {
		a, b := &out[i], &state[i]
		a.Amount.Amount = b.sum
		if b.head.total == "" {
			continue
		}
		total, err := gateway.ParseMoney(string(a.Amount.Currency), b.head.total)
		if err != nil {
			return nil, adviceError(ColTotal, a.Line, "amount", "total %q is not an exact %s amount: %s", b.head.total, a.Amount.Currency, detail(err))
		}
		if total != a.Amount {
			return nil, adviceError(ColTotal, a.Line, "total_mismatch", "advice %s states a total of %s %s but its %d lines add up to %s", a.PaymentReference, total, total.Currency, len(a.Lines), a.Amount)
		}
	}
	return out, nil
}

func detail(err error) string {
	var e *gateway.Error
	if errors.As(err, &e) && len(e.Details) > 0 {
		return e.Details[0].Message
	}
	return gateway.ErrorMessage(err)
}

func adviceError(field string, line int, code, format string, args ...any) *gateway.Error {
	msg := fmt.Sprintf(format, args...)
	return &gateway.Error{
		Code:    gateway.EINVALID,
		Message: "remittance advice rejected: " + msg,
		Details: []gateway.Detail{{Field: field, Line: line, Code: code, Message: msg}},
	}
}
