package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/matching"
)

// BankImport is a parsed bank file to store: its statements, each with its
// receipts.
type BankImport struct {
	Digest     [32]byte // SHA-256 of the file
	FileName   string
	Format     bankstatement.Format
	MessageID  string
	Statements []bankstatement.Statement
	By         string // who imported it
	At         time.Time
}

// BankImportResult says what storing a bank file did.
type BankImportResult struct {
	ID int64
	// Duplicate is true when the same file was imported before: nothing
	// was stored, ID is the earlier import.
	Duplicate  bool
	Statements int // statements stored
	// Skipped are the statements already imported from another file.
	Skipped  []string
	Receipts int
}

// AccountKey is the form accounts are stored and compared in: the IBAN or
// other identifier, upper case, without spaces.
func AccountKey(a bankstatement.Account) string {
	return strings.ToUpper(strings.ReplaceAll(a.String(), " ", ""))
}

// bankImportLock serialises imports, so two files with the same statement
// never both store it.
var bankImportLock = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("bank-import"))
	return int64(h.Sum64())
}()

func statementKind(f bankstatement.Format) string {
	if f == bankstatement.Camt054V2 || f == bankstatement.Camt054V8 {
		return "notification"
	}
	return "statement"
}

// ImportBank stores a bank file in one transaction: the file, then each
// statement not imported before with all its receipts. The same file again
// stores nothing and is reported as a duplicate; a statement already
// imported from another file is skipped whole.
func (db *DB) ImportBank(ctx context.Context, imp BankImport) (BankImportResult, error) {
	var res BankImportResult
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		res = BankImportResult{}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, bankImportLock); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT id FROM bank_imports WHERE digest = $1`, imp.Digest[:]).Scan(&res.ID)
		switch {
		case err == nil:
			res.Duplicate = true
			return nil
		case err != pgx.ErrNoRows:
			return fmt.Errorf("look up file: %w", err)
		}
		kind := statementKind(imp.Format)
		var fresh []*bankstatement.Statement
		for i := range imp.Statements {
			s := &imp.Statements[i]
			var known bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bank_statements WHERE account = $1 AND kind = $2 AND statement_ref = $3)`,
				AccountKey(s.Account), kind, s.ID).Scan(&known); err != nil {
				return fmt.Errorf("look up statement %s: %w", s.ID, err)
			}
			if known {
				res.Skipped = append(res.Skipped, s.ID)
				continue
			}
			fresh = append(fresh, s)
			res.Receipts += len(s.Receipts)
		}
		res.Statements = len(fresh)
		if err := tx.QueryRow(ctx, `
			INSERT INTO bank_imports (digest, file_name, format, message_id, statements, skipped, receipts, imported_by, imported_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			imp.Digest[:], imp.FileName, string(imp.Format), imp.MessageID, res.Statements, len(res.Skipped), res.Receipts,
			imp.By, imp.At).Scan(&res.ID); err != nil {
			return fmt.Errorf("record file: %w", err)
		}
		for _, s := range fresh {
			if err := insertBankStatement(ctx, tx, res.ID, kind, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return BankImportResult{}, fmt.Errorf("import bank file %s: %w", imp.FileName, err)
	}
	return res, nil
}

func insertBankStatement(ctx context.Context, tx pgx.Tx, importID int64, kind string, s *bankstatement.Statement) error {
	bal := func(b *bankstatement.Balance) (*int64, *time.Time) {
		if b == nil {
			return nil, nil
		}
		d := dateOf(b.Date)
		return &b.Amount.Amount, d
	}
	om, od := bal(s.Opening)
	cm, cd := bal(s.Closing)
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO bank_statements (import_id, kind, statement_ref, account, account_iban, account_other, currency,
		       opening_minor, opening_date, closing_minor, closing_date, credits_minor, debits_minor, line)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		importID, kind, s.ID, AccountKey(s.Account), s.Account.IBAN, s.Account.Other, string(s.Currency),
		om, od, cm, cd, s.Credits.Amount, s.Debits.Amount, s.Line).Scan(&id)
	if err != nil {
		return fmt.Errorf("store statement %s: %w", s.ID, err)
	}
	i := 0
	err = keyedChecks(ctx, tx, func() error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"receipts"},
			[]string{"bank_statement_id", "position", "entry_ref", "bank_ref", "end_to_end_id", "direction", "currency",
				"amount_minor", "status", "reversal", "booking_date", "value_date", "creditor_ref", "remittance",
				"debtor_name", "debtor_iban", "debtor_other", "line"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == len(s.Receipts) {
					return nil, nil
				}
				r := &s.Receipts[i]
				i++
				return []any{id, i - 1, r.EntryRef, r.BankRef, r.EndToEndID, string(r.Direction), string(r.Amount.Currency),
					r.Amount.Amount, string(r.Status), r.Reversal, dateOf(r.BookingDate), dateOf(r.ValueDate), r.CreditorRef,
					r.Remittance, r.DebtorName, r.DebtorAccount.IBAN, r.DebtorAccount.Other, r.Line}, nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("store %d receipts of statement %s: %w", len(s.Receipts), s.ID, err)
	}
	return nil
}

// dateOf is a calendar date as a date column: nil for the zero date.
func dateOf(d calendar.Date) *time.Time {
	if d.IsZero() {
		return nil
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return &t
}

// calendarDate is a date column as a calendar date.
func calendarDate(t *time.Time) calendar.Date {
	if t == nil {
		return calendar.Date{}
	}
	return calendar.D(t.Year(), t.Month(), t.Day())
}

// StoredReceipt is a stored receipt with where it came from.
type StoredReceipt struct {
	matching.Receipt
	StatementRef string // the bank statement's id
	Account      string // the account it was received on
	ImportID     int64
}

const receiptColumns = `r.id, r.entry_ref, r.bank_ref, r.end_to_end_id, r.direction, r.currency, r.amount_minor, r.status,
	r.reversal, r.booking_date, r.value_date, r.creditor_ref, r.remittance, r.debtor_name, r.debtor_iban, r.debtor_other,
	r.line, b.statement_ref, b.account, b.import_id`

func scanReceipt(row pgx.CollectableRow) (StoredReceipt, error) {
	var s StoredReceipt
	r := &s.Receipt.Receipt
	var id int64
	var dir, cur, status string
	var booked, valued *time.Time
	err := row.Scan(&id, &r.EntryRef, &r.BankRef, &r.EndToEndID, &dir, &cur, &r.Amount.Amount, &status, &r.Reversal,
		&booked, &valued, &r.CreditorRef, &r.Remittance, &r.DebtorName, &r.DebtorAccount.IBAN, &r.DebtorAccount.Other,
		&r.Line, &s.StatementRef, &s.Account, &s.ImportID)
	s.ID = strconv.FormatInt(id, 10)
	r.StatementID = s.StatementRef
	r.Direction, r.Status = bankstatement.Direction(dir), bankstatement.Status(status)
	r.Amount.Currency = gateway.Currency(strings.TrimSpace(cur))
	r.BookingDate, r.ValueDate = calendarDate(booked), calendarDate(valued)
	return s, err
}

func readReceipts(ctx context.Context, q querier, where string, args ...any) ([]StoredReceipt, error) {
	rows, err := q.Query(ctx, `SELECT `+receiptColumns+` FROM receipts r JOIN bank_statements b ON b.id = r.bank_statement_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	return pgx.CollectRows(rows, scanReceipt)
}

// Receipt returns one receipt, or ENOTFOUND.
func (db *DB) Receipt(ctx context.Context, id string) (StoredReceipt, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return StoredReceipt{}, gateway.Errorf(gateway.ENOTFOUND, "no receipt %s", id)
	}
	rs, err := readReceipts(ctx, db.Pool, `WHERE r.id = $1`, n)
	if err != nil {
		return StoredReceipt{}, err
	}
	if len(rs) == 0 {
		return StoredReceipt{}, gateway.Errorf(gateway.ENOTFOUND, "no receipt %s", id)
	}
	return rs[0], nil
}

// ImportReceipts returns the receipts of one import, in file order.
func (db *DB) ImportReceipts(ctx context.Context, importID int64) ([]StoredReceipt, error) {
	return readReceipts(ctx, db.Pool, `WHERE b.import_id = $1 ORDER BY b.id, r.position`, importID)
}
