package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// csvWriter writes the first table as CSV: a header row of column keys,
// then a record per row. Amounts are exact decimals without the currency
// (a column names it), dates YYYY-MM-DD, booleans true or false. A text
// that a spreadsheet would take for a formula (it begins with =, +, -, @,
// a tab or a carriage return) is written after a single quote.
type csvWriter struct {
	buf    *bufio.Writer
	csv    *csv.Writer
	tables int
	cols   int
	rec    []string
}

func newCSV(w io.Writer) *csvWriter {
	buf := bufio.NewWriterSize(w, 32<<10)
	return &csvWriter{buf: buf, csv: csv.NewWriter(buf)}
}

func (w *csvWriter) Begin(t *Table) error {
	w.tables++
	if w.tables > 1 {
		return nil
	}
	w.cols = len(t.Columns)
	w.rec = make([]string, w.cols)
	for i, c := range t.Columns {
		w.rec[i] = c.Key
	}
	return w.csv.Write(w.rec)
}

func (w *csvWriter) Row(values []Value) error {
	if w.tables != 1 {
		return nil
	}
	if len(values) != w.cols {
		return fmt.Errorf("csv row of %d values in a table of %d columns", len(values), w.cols)
	}
	for i, v := range values {
		w.rec[i] = w.cell(v)
	}
	return w.csv.Write(w.rec)
}

func (w *csvWriter) cell(v Value) string {
	switch v.kind {
	case KindText:
		if s := v.text; s != "" {
			switch s[0] {
			case '=', '+', '-', '@', '\t', '\r':
				return "'" + s
			}
		}
		return v.text
	case KindInt:
		return strconv.FormatInt(v.num, 10)
	case KindMoney:
		return v.money().String()
	case KindDate:
		return v.date.String()
	case KindBool:
		return strconv.FormatBool(v.num != 0)
	}
	return ""
}

func (w *csvWriter) Close() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	return w.buf.Flush()
}
