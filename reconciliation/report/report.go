// Package report writes finance's reports of the latest reconciliation:
// per platform and scheme of a period, what was expected, advised and
// received, the variance and the interest ([Reconciliation]); what is still
// open by days past due ([Aging]); and the money in suspense ([Suspense]).
//
// A report is a few tables written row by row through a [Writer] in one of
// three formats: JSON, CSV and XLSX. Every writer streams: rows go to the
// io.Writer as they come and nothing grows with the number of rows, so a
// report of a hundred thousand platforms takes the memory of one. Amounts
// are exact: int64 minor units written as decimals with the currency's
// number of digits, and totals are kept per currency, never added across
// currencies.
//
// The package is pure: it reads no database and keeps no clock. A store
// calls a report's Add for each row it reads, in the order the report
// documents, then Close.
package report

import (
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Format is a report's file format.
type Format string

// Formats.
const (
	JSON Format = "json"
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// xlsxType is the media type of an Office Open XML workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// ParseFormat returns the format named json, csv or xlsx, or an EINVALID
// error on field "format".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case JSON, CSV, XLSX:
		return f, nil
	}
	return "", gateway.Invalid("format", "unknown_format", fmt.Sprintf("format %q is not json, csv or xlsx", s))
}

// FormatOf returns the format a media type (of an Accept header's
// choice) names, and false for any other.
func FormatOf(mediaType string) (Format, bool) {
	switch mediaType {
	case "application/json":
		return JSON, true
	case "text/csv":
		return CSV, true
	case xlsxType:
		return XLSX, true
	}
	return "", false
}

// ContentType returns the format's media type.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case XLSX:
		return xlsxType
	default:
		return "application/json"
	}
}

// Disposition returns a Content-Disposition header value that offers the
// report as a download named base plus the format's extension.
func (f Format) Disposition(base string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": base + "." + string(f)})
}

// NewWriter returns a writer of the format to w. meta names the report
// (report, period, as of, …): JSON writes it at the top, XLSX on a sheet
// of its own, CSV not at all.
func NewWriter(f Format, w io.Writer, meta []Field) Writer {
	switch f {
	case CSV:
		return newCSV(w)
	case XLSX:
		return newXLSX(w, meta)
	default:
		return newJSON(w, meta)
	}
}

// Writer writes a report's tables, one row at a time. Begin starts a
// table; Row writes one row of it, a Value per column; Close ends the last
// table and the file. A CSV file holds one table: the first; later ones
// are left out.
type Writer interface {
	Begin(t *Table) error
	Row(values []Value) error
	Close() error
}

// Table is a report's table.
type Table struct {
	// Name is the table's JSON key and the XLSX sheet's name: at most 31
	// characters, none of []:*?/\.
	Name    string
	Columns []Column
}

// Column is one column of a table.
type Column struct {
	Key   string // the JSON key and the CSV header
	Title string // the XLSX header
	Kind  Kind
	Width int // XLSX width in characters; 0 for the default
}

// Kind is what a column holds.
type Kind uint8

// Kinds of values.
const (
	KindText  Kind = iota + 1 // a string
	KindInt                   // an integer
	KindMoney                 // an amount of a currency
	KindDate                  // a calendar date; the zero date is empty
	KindBool                  // true or false
)

// Value is one cell.
type Value struct {
	kind Kind
	text string
	num  int64
	cur  gateway.Currency
	date calendar.Date
}

// Text is a string value.
func Text(s string) Value { return Value{kind: KindText, text: s} }

// Int is an integer value.
func Int(n int64) Value { return Value{kind: KindInt, num: n} }

// Amount is an exact amount of money.
func Amount(m gateway.Money) Value { return Value{kind: KindMoney, num: m.Amount, cur: m.Currency} }

// Day is a date value; the zero date is written empty.
func Day(d calendar.Date) Value { return Value{kind: KindDate, date: d} }

// Bool is a true or false value.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.num = 1
	}
	return v
}

// money returns the value as Money.
func (v Value) money() gateway.Money { return gateway.Money{Amount: v.num, Currency: v.cur} }

// Field is a named value of a report's header.
type Field struct {
	Key   string
	Value Value
}

// periodPattern matches period keys: 2026-10, 2026-Q4, 2026, FY2026-Q1,
// FY2026.
var periodPattern = regexp.MustCompile(`^(FY)?[0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$`)

// ValidPeriod checks a period key (2026-10, 2026-Q4, 2026, FY2026-Q1,
// FY2026) and returns an EINVALID error on field "period" for anything
// else.
func ValidPeriod(p string) error {
	if p == "" {
		return gateway.Invalid("period", "required", "period is required, like 2026-10")
	}
	if !periodPattern.MatchString(p) {
		return gateway.Invalid("period", "malformed", fmt.Sprintf("period %q is not a period key like 2026-10, 2026-Q4 or 2026", p))
	}
	return nil
}
