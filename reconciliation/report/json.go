package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// jsonWriter writes one JSON object: the header fields, then each table
// as an array of objects keyed by column. Amounts are money objects
// {"currency":"MYR","value":"23.50"} (the value a decimal string), dates
// "YYYY-MM-DD" ("" for none), integers numbers, booleans booleans.
type jsonWriter struct {
	w      *bufio.Writer
	meta   []Field
	table  *Table
	rows   int
	opened bool
	b      []byte
}

func newJSON(w io.Writer, meta []Field) *jsonWriter {
	return &jsonWriter{w: bufio.NewWriterSize(w, 32<<10), meta: meta}
}

func (w *jsonWriter) open() {
	if w.opened {
		return
	}
	w.opened = true
	w.b = append(w.b[:0], '{')
	for i, f := range w.meta {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, f.Key)
		w.b = append(w.b, ':')
		w.b = appendJSONValue(w.b, f.Value)
	}
}

func (w *jsonWriter) Begin(t *Table) error {
	w.open()
	if w.table != nil {
		w.b = append(w.b, ']')
	}
	if len(w.meta) > 0 || w.table != nil {
		w.b = append(w.b, ',')
	}
	w.b = appendJSONString(w.b, t.Name)
	w.b = append(w.b, ":["...)
	w.table, w.rows = t, 0
	_, err := w.w.Write(w.b)
	w.b = w.b[:0]
	return err
}

func (w *jsonWriter) Row(values []Value) error {
	if w.table == nil || len(values) != len(w.table.Columns) {
		return fmt.Errorf("json row of %d values out of place", len(values))
	}
	if w.rows > 0 {
		w.b = append(w.b, ',')
	}
	w.rows++
	w.b = append(w.b, '{')
	for i, c := range w.table.Columns {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, c.Key)
		w.b = append(w.b, ':')
		w.b = appendJSONValue(w.b, values[i])
	}
	w.b = append(w.b, '}')
	_, err := w.w.Write(w.b)
	w.b = w.b[:0]
	return err
}

func (w *jsonWriter) Close() error {
	w.open()
	if w.table != nil {
		w.b = append(w.b, ']')
	}
	w.b = append(w.b, '}', '\n')
	if _, err := w.w.Write(w.b); err != nil {
		return err
	}
	return w.w.Flush()
}

func appendJSONValue(b []byte, v Value) []byte {
	switch v.kind {
	case KindText:
		return appendJSONString(b, v.text)
	case KindInt:
		return strconv.AppendInt(b, v.num, 10)
	case KindMoney:
		m, _ := v.money().MarshalJSON() // never fails
		return append(b, m...)
	case KindDate:
		return appendJSONString(b, v.date.String())
	case KindBool:
		return strconv.AppendBool(b, v.num != 0)
	}
	return append(b, "null"...)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
