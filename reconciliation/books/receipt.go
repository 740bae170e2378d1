package books

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
)

// ImportOptions says how to read a bank file.
type ImportOptions struct {
	// Name is the file's name, kept for the record.
	Name string
	// CSV is the column mapping of a CSV file; nil reads the default
	// column names. A file starting with '<' is read as camt XML whatever
	// this says.
	CSV *bankstatement.CSVMapping
	// Parse bounds what the parsers accept; the zero value uses their
	// defaults.
	Parse bankstatement.Config
	// By is who imports the file.
	By string
	// Progress, when set, is called with the number of receipts read so
	// far as the file is read, and once more when they are stored.
	Progress func(stage string, receipts int)
}

// ImportReport says what importing a bank file did.
type ImportReport struct {
	ImportID  int64
	Format    bankstatement.Format
	MessageID string
	// Duplicate is true when the same file was imported before: nothing
	// was stored.
	Duplicate bool
	// Statements were stored; Skipped were imported before from another
	// file and are left out whole.
	Statements int
	Skipped    []string
	Receipts   int
	// Run is the matching run that followed the import; nil when nothing
	// new was stored.
	Run *RunReport
}

// progressEvery is how many receipts pass between progress calls.
const progressEvery = 10_000

// ImportBankFile reads a camt.053, camt.054 or CSV bank file, stores its
// statements and receipts in one transaction and runs matching. A file that
// fails to parse is rejected whole and nothing from it is stored; the
// error is an EINVALID (or ETOOLARGE) *gateway.Error whose details name the
// element or column and the line. The same file imported again stores
// nothing; a statement already imported from another file is skipped.
// When the import stored anything, matching runs and its report is part of
// the answer; a failed run leaves the import stored and returns the error.
func (k *Keeper) ImportBankFile(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	progress := opt.Progress
	if progress == nil {
		progress = func(string, int) {}
	}
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, h), 64<<10)
	xml, err := sniffXML(br)
	if err != nil {
		return ImportReport{}, gateway.Errorf(gateway.EINVALID, "read bank file: %v", err)
	}
	var file *bankstatement.File
	if xml {
		byStatement := map[string][]bankstatement.Receipt{}
		n := 0
		file, err = bankstatement.Decode(br, opt.Parse, func(rc bankstatement.Receipt) error {
			byStatement[rc.StatementID] = append(byStatement[rc.StatementID], rc)
			if n++; n%progressEvery == 0 {
				progress("read", n)
			}
			return nil
		})
		if err == nil {
			for i := range file.Statements {
				s := &file.Statements[i]
				s.Receipts, byStatement[s.ID] = byStatement[s.ID], nil
			}
		}
	} else {
		var m bankstatement.CSVMapping
		if opt.CSV != nil {
			m = *opt.CSV
		}
		file, err = bankstatement.ParseCSV(br, m, opt.Parse)
	}
	if err != nil {
		return ImportReport{}, err
	}
	// The digest covers the whole file, trailing bytes too.
	limit := cmp.Or(opt.Parse.MaxBytes, 200<<20)
	if _, err := io.Copy(io.Discard, io.LimitReader(br, limit)); err != nil {
		return ImportReport{}, gateway.Errorf(gateway.EINVALID, "read bank file: %v", err)
	}
	receipts := 0
	for _, s := range file.Statements {
		receipts += len(s.Receipts)
	}
	progress("read", receipts)
	imp := postgres.BankImport{Digest: [32]byte(h.Sum(nil)), FileName: opt.Name, Format: file.Format, MessageID: file.MessageID,
		Statements: file.Statements, By: cmp.Or(opt.By, "unknown"), At: k.now()}
	res, err := k.store.ImportBank(ctx, imp)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{ImportID: res.ID, Format: file.Format, MessageID: file.MessageID, Duplicate: res.Duplicate,
		Statements: res.Statements, Skipped: res.Skipped, Receipts: res.Receipts}
	progress("stored", rep.Receipts)
	if rep.Duplicate || rep.Statements == 0 {
		return rep, nil
	}
	run, err := k.Reconcile(ctx, TriggerImport)
	if err != nil {
		return rep, err
	}
	rep.Run = &run
	return rep, nil
}

// sniffXML reports whether the file starts, after a byte order mark and
// white space, with '<'.
func sniffXML(br *bufio.Reader) (bool, error) {
	for i := 0; ; i++ {
		b, err := br.Peek(i + 1)
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		c := b[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case i < 3 && bytes.HasPrefix([]byte{0xEF, 0xBB, 0xBF}, b[:i+1]):
		default:
			return c == '<', nil
		}
		if i > 4096 {
			return false, nil
		}
	}
}

// ParseCSVMapping reads a CSV column mapping written as field=column pairs
// separated by commas or new lines, the fields named as in
// bankstatement.CSVMapping's comments (statement_id, amount, value_date,
// …), and the options comma (one character, or "tab"), credit_value,
// debit_value, signed_amounts (true or false) and date_layout. Lines
// starting with # are comments. Errors are EINVALID, naming the pair.
func ParseCSVMapping(s string) (bankstatement.CSVMapping, error) {
	var m bankstatement.CSVMapping
	cols := map[string]*string{
		"statement_id": &m.StatementID, "account": &m.Account, "currency": &m.Currency,
		"opening_balance": &m.OpeningBalance, "opening_date": &m.OpeningDate,
		"closing_balance": &m.ClosingBalance, "closing_date": &m.ClosingDate,
		"entry_ref": &m.EntryRef, "bank_ref": &m.BankRef, "end_to_end_id": &m.EndToEndID,
		"direction": &m.Direction, "amount": &m.Amount, "status": &m.Status, "reversal": &m.Reversal,
		"booking_date": &m.BookingDate, "value_date": &m.ValueDate, "creditor_ref": &m.CreditorRef,
		"remittance": &m.Remittance, "debtor_name": &m.DebtorName, "debtor_account": &m.DebtorAccount,
		"credit_value": &m.CreditValue, "debit_value": &m.DebitValue, "date_layout": &m.DateLayout,
	}
	for _, pair := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		pair = strings.TrimSpace(pair)
		if pair == "" || strings.HasPrefix(pair, "#") {
			continue
		}
		field, value, ok := strings.Cut(pair, "=")
		if !ok {
			return m, gateway.Invalid("csv_mapping", "malformed", fmt.Sprintf("%q is not field=column", pair))
		}
		field = strings.ToLower(strings.TrimSpace(field))
		switch field {
		case "comma":
			if value == "tab" {
				value = "\t"
			}
			r := []rune(value)
			if len(r) != 1 {
				return m, gateway.Invalid("csv_mapping", "bad_comma", fmt.Sprintf("comma must be one character, got %q", value))
			}
			m.Comma = r[0]
		case "signed_amounts":
			m.SignedAmounts = value == "true" || value == "1" || value == "yes"
		default:
			dst, ok := cols[field]
			if !ok {
				return m, gateway.Invalid("csv_mapping", "unknown_field", fmt.Sprintf("unknown field %q", field))
			}
			*dst = strings.TrimSpace(value)
		}
	}
	return m, nil
}
