// Package bankstatement reads what the insurer's bank says it received: ISO
// 20022 camt.053 statements and camt.054 debit/credit notifications
// (versions 001.02 and 001.08), and CSV exports with a configurable column
// mapping, into one receipt model.
//
// Every format yields the same [Statement] and [Receipt] values, so matching
// never needs to know where a receipt came from; a conformance test holds
// each parser to one table of expected receipts. A batch entry with several
// transaction details becomes one receipt per transaction, and their amounts
// must add up to the entry's. Amounts are exact minor units
// ([gateway.Money]); nothing passes through a float.
//
// A file is accepted or rejected whole. The parsers reject a wrong
// namespace, a missing or malformed amount, a batch that does not add up, a
// statement whose opening balance plus credits minus debits is not its
// closing balance, any DOCTYPE (so no entity can be declared, let alone
// expanded), input over the size limit, and elements nested too deeply or
// too many; each error is a *gateway.Error whose detail names the element
// path and line.
//
// The XML parser streams: a strict tokenizer written for the part of XML
// that camt files use (elements, attributes, character data, the
// predefined entities, CDATA, comments; as strict as encoding/xml in
// Strict mode and held to it by a differential fuzz test) reads the
// document token by token without allocating, and the parser decodes one
// entry at a time, so memory stays bounded by the largest entry, not the
// file. [Decode] hands each receipt to a callback as it is read;
// [ParseCamt] collects them.
package bankstatement

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Format names the kind of file a statement came from.
type Format string

// Formats read by this package.
const (
	Camt053V2 Format = "camt.053.001.02"
	Camt053V8 Format = "camt.053.001.08"
	Camt054V2 Format = "camt.054.001.02"
	Camt054V8 Format = "camt.054.001.08"
	CSV       Format = "csv"
)

// Direction says whether an entry added money to the account or took it
// away (ISO 20022 CdtDbtInd).
type Direction string

// Directions.
const (
	Credit Direction = "CRDT"
	Debit  Direction = "DBIT"
)

// Status is the entry status (ISO 20022 Sts): only booked entries count in
// the balances.
type Status string

// Statuses.
const (
	Booked  Status = "BOOK"
	Pending Status = "PDNG"
	Info    Status = "INFO"
	Future  Status = "FUTR"
)

// Account identifies a bank account by IBAN or by another identifier
// (a domestic account number).
type Account struct {
	IBAN  string
	Other string
}

// String returns the IBAN, or the other identifier.
func (a Account) String() string { return cmp.Or(a.IBAN, a.Other) }

// IsZero reports whether no account is given.
func (a Account) IsZero() bool { return a.IBAN == "" && a.Other == "" }

// Balance is a signed booked balance on a date: negative when the bank
// reports it as a debit balance (overdrawn).
type Balance struct {
	Amount gateway.Money
	Date   calendar.Date
}

// File is a parsed bank file: one or more statements (camt.053, CSV) or
// notifications (camt.054).
type File struct {
	Format     Format
	MessageID  string // GrpHdr/MsgId; empty for CSV
	Statements []Statement
}

// Receipts returns the receipts of all statements in file order.
func (f *File) Receipts() []Receipt {
	var out []Receipt
	for _, s := range f.Statements {
		out = append(out, s.Receipts...)
	}
	return out
}

// Statement is one account's statement or notification.
type Statement struct {
	ID       string // Stmt/Id or Ntfctn/Id
	Account  Account
	Currency gateway.Currency
	// Opening and Closing are the booked balances (OPBD or PRCD, and
	// CLBD); nil for camt.054, which carries no balances, and for CSV files
	// without balance columns. When both are present the parser has
	// checked Opening + Credits - Debits = Closing.
	Opening, Closing *Balance
	// Credits and Debits are the totals of the booked entries, reversals
	// included by their direction.
	Credits, Debits gateway.Money
	// Receipts are filled by ParseCamt and ParseCSV; Decode hands them to
	// its callback instead.
	Receipts []Receipt
	Line     int // line where the statement starts
}

// Receipt is one transaction on the bank account: a whole entry, or one
// transaction of a batch entry.
type Receipt struct {
	StatementID string
	EntryRef    string // Ntry/NtryRef
	// BankRef is the bank's reference (AcctSvcrRef) of the transaction, or
	// of the entry when the transaction has none.
	BankRef    string
	EndToEndID string
	Direction  Direction
	// Amount is positive, in the statement's currency.
	Amount gateway.Money
	Status Status
	// Reversal marks an entry that reverses an earlier one (RvslInd): a
	// debit that reverses a credit is a returned or recalled payment.
	Reversal    bool
	BookingDate calendar.Date // zero if the bank gave none (pending entries)
	ValueDate   calendar.Date // zero if the bank gave none
	// CreditorRef is the structured creditor reference
	// (RmtInf/Strd/CdtrRefInf/Ref), e.g. an RF reference, as the bank sent it.
	CreditorRef string
	// Remittance is the unstructured remittance information (RmtInf/Ustrd),
	// several lines joined with a space.
	Remittance    string
	DebtorName    string
	DebtorAccount Account
	// Line is where the transaction (or the entry, for an entry without
	// details) starts in the file. It is evidence, not identity.
	Line int
}

// Signed returns the amount with a debit negative.
func (r Receipt) Signed() gateway.Money {
	if r.Direction == Debit {
		return gateway.Money{Amount: -r.Amount.Amount, Currency: r.Amount.Currency}
	}
	return r.Amount
}

// Config bounds what a parser accepts. The zero Config uses the defaults.
type Config struct {
	// MaxBytes is the largest file accepted. Default 200 MiB.
	MaxBytes int64
	// MaxDepth is the deepest element nesting accepted. Default 64 (a
	// camt.053 v8 file nests about 12 deep).
	MaxDepth int
	// MaxElements is the most elements a file may hold. Default 20,000,000.
	MaxElements int
	// MaxEntryElements is the most elements one entry may hold, which
	// bounds the memory of decoding it. Default 100,000 (a batch of about
	// 2,000 transactions).
	MaxEntryElements int
}

func (c Config) withDefaults() Config {
	c.MaxBytes = cmp.Or(c.MaxBytes, 200<<20)
	c.MaxDepth = cmp.Or(c.MaxDepth, 64)
	c.MaxElements = cmp.Or(c.MaxElements, 20_000_000)
	c.MaxEntryElements = cmp.Or(c.MaxEntryElements, 100_000)
	return c
}

// Detail codes of the errors the parsers return, in Detail.Code.
const (
	CodeTooLarge        = "too_large"        // input over Config.MaxBytes (error code ETOOLARGE)
	CodeSyntax          = "syntax"           // not well-formed XML or CSV
	CodeDoctype         = "doctype"          // a DOCTYPE or other declaration
	CodeNamespace       = "namespace"        // not one of the four supported messages
	CodeDepth           = "depth"            // nesting over Config.MaxDepth
	CodeElementCount    = "element_count"    // over Config.MaxElements or MaxEntryElements
	CodeMissing         = "missing"          // a required element or column is absent
	CodeAmount          = "amount"           // an amount that is not an exact decimal in its currency
	CodeCurrency        = "currency"         // unknown currency or one that differs from the statement's
	CodeValue           = "value"            // a code, date or flag that is not valid
	CodeBatchSum        = "batch_sum"        // transaction amounts do not add up to the entry amount
	CodeBalanceMismatch = "balance_mismatch" // opening + credits - debits != closing
	CodeMismatch        = "mismatch"         // CSV: a statement-level column differs between rows
)

// fileError builds the error every rejection returns.
func fileError(detail, field string, line int, format string, args ...any) *gateway.Error {
	msg := fmt.Sprintf(format, args...)
	top := gateway.EINVALID
	if detail == CodeTooLarge {
		top = gateway.ETOOLARGE
	}
	return &gateway.Error{
		Code:    top,
		Message: "bank statement rejected: " + firstLine(msg),
		Details: []gateway.Detail{{Field: field, Line: line, Code: detail, Message: msg}},
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
