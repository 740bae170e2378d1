package feed

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// csvNow is the clock of every CSV test: after the events in the examples.
var csvNow = time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)

// testDefaults are the settings of the uploading platform "demo".
func testDefaults() CSVDefaults {
	return CSVDefaults{
		PlatformID: "demo",
		Currency:   "MYR",
		Since:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Now:        func() time.Time { return csvNow },
		WorkerKey:  testWorkerKey,
	}
}

// testWorkerKey stands in for identity.Normalize and Keyer.Key: Malaysian
// numbers of 12 digits whose last digit is even are valid.
func testWorkerKey(country, id string) (string, error) {
	if country != "MY" {
		return "", gateway.Invalid("national_id", "unsupported_country", "national IDs are supported only for the countries MY")
	}
	if len(id) != 12 || !allDigitsString(id) {
		return "", gateway.Invalid("national_id", "bad_length", "a MyKad number has 12 digits")
	}
	if (id[11]-'0')%2 != 0 {
		return "", gateway.Invalid("national_id", "bad_check_digit", "check digit does not match")
	}
	return "wk-" + id, nil
}

func allDigitsString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// readAll reads every row of a CSV file, copying records.
func readAll(t testing.TB, data string, d CSVDefaults) []Row {
	t.Helper()
	r := NewCSVReader(strings.NewReader(data), d)
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next() error = %v", err)
		}
		row.Record = slices.Clone(row.Record)
		rows = append(rows, row)
	}
}

const csvHeader = "event_id,worker_ref,occurred_at,currency,gross,tips,orders,sector,vehicle,region,kind,reverses\n"

func TestCSVReaderValid(t *testing.T) {
	data := "\ufeff Event_ID ,gross,currency,occurred_at,worker_ref,tips,incentives,expenses,commission,orders,sector,vehicle,region,kind,reverses,platform_id\r\n" +
		"ord-1,23.50,MYR,2026-10-03T08:15:00+08:00,drv-77,2.00,1.00,0.50,0.25,3,ride_hailing,4w,MY-14,earning,,demo\r\n" +
		"\r\n" +
		"ord-2,-23.50,MYR,2026-10-04T08:15:00+08:00,drv-77,,,,,,,,,reversal,ord-1,\r\n" +
		"\"ord-3\",\"5\",MYR,2026-10-05T00:00:00Z,\"drv\n78\",,,,,,,,,,,\n" +
		"ord-4,1.00,MYR,2026-10-05T00:00:00Z,drv-79,,,,,,,,,,,"
	rows := readAll(t, data, testDefaults())
	if len(rows) != 4 {
		t.Fatalf("got %d rows, want 4", len(rows))
	}
	for _, row := range rows {
		if row.Err != nil {
			t.Fatalf("line %d: %v", row.Line, row.Err)
		}
	}
	if got := []int{rows[0].Line, rows[1].Line, rows[2].Line, rows[3].Line}; !slices.Equal(got, []int{2, 4, 5, 7}) {
		t.Errorf("lines = %v, want [2 4 5 7]", got)
	}
	e := rows[0].Earning
	want := gateway.Earning{
		EventID: "ord-1", PlatformID: "demo", WorkerRef: "drv-77",
		OccurredAt: e.OccurredAt,
		Gross:      gateway.MustParseMoney("MYR", "23.50"),
		Exclusions: gateway.Exclusions{
			Tips: gateway.MustParseMoney("MYR", "2.00"), Incentives: gateway.MustParseMoney("MYR", "1.00"),
			Expenses: gateway.MustParseMoney("MYR", "0.50"), Commission: gateway.MustParseMoney("MYR", "0.25"),
		},
		Orders: 3, Category: gateway.Category{Sector: "ride_hailing", Vehicle: "4w"}, Region: "MY-14", Kind: gateway.KindEarning,
	}
	if e != want {
		t.Errorf("row 1 = %+v\nwant    %+v", e, want)
	}
	if !e.OccurredAt.Equal(time.Date(2026, 10, 3, 0, 15, 0, 0, time.UTC)) {
		t.Errorf("occurred_at = %v", e.OccurredAt)
	}
	if r := rows[1].Earning; r.Kind != gateway.KindReversal || r.Reverses != "ord-1" || r.PlatformID != "demo" || r.Orders != 1 {
		t.Errorf("row 2 = %+v", r)
	}
	if r := rows[2].Earning; r.WorkerRef != "drv\n78" || r.Gross != gateway.MustParseMoney("MYR", "5") {
		t.Errorf("row 3 = %+v", r)
	}
}

func TestCSVReaderNationalID(t *testing.T) {
	data := "event_id,national_id_country,national_id,worker_ref,occurred_at,currency,gross\n" +
		"ord-1,MY,900101145678,drv-1,2026-10-03T08:15:00+08:00,MYR,10.00\n"
	rows := readAll(t, data, testDefaults())
	if len(rows) != 1 || rows[0].Err != nil {
		t.Fatalf("rows = %+v", rows)
	}
	if got := rows[0].Earning.WorkerKey; got != "wk-900101145678" {
		t.Errorf("worker key = %q", got)
	}
}

// TestCSVHeader checks every header problem, each of which ends the stream.
func TestCSVHeader(t *testing.T) {
	tests := []struct {
		name, data  string
		field, code string
	}{
		{"empty file", "", "", CodeNoHeader},
		{"only blank lines", "\n\n", "", CodeNoHeader},
		{"unknown column", "event_id,worker_ref,occurred_at,currency,gross,tip\n", "tip", CodeUnknownColumn},
		{"duplicate column", "event_id,worker_ref,occurred_at,currency,gross,GROSS\n", "gross", CodeDuplicateColumn},
		{"missing event_id", "worker_ref,occurred_at,currency,gross\n", "event_id", CodeMissingColumn},
		{"missing gross", "event_id,worker_ref,occurred_at,currency\n", "gross", CodeMissingColumn},
		{"missing currency", "event_id,worker_ref,occurred_at,gross\n", "currency", CodeMissingColumn},
		{"missing occurred_at", "event_id,worker_ref,currency,gross\n", "occurred_at", CodeMissingColumn},
		{"no worker column", "event_id,occurred_at,currency,gross\n", "worker_ref", CodeMissingColumn},
		{"national_id without country", "event_id,national_id,occurred_at,currency,gross\n", "national_id_country", CodeMissingColumn},
		{"country without national_id", "event_id,worker_ref,national_id_country,occurred_at,currency,gross\n", "national_id", CodeMissingColumn},
		{"malformed header", "event_id,\"worker_ref,occurred_at\n", "", CodeMalformedCSV},
		{"header too long", "event_id," + strings.Repeat("x", MaxCSVRowBytes+8192) + "\n", "", CodeRowTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewCSVReader(strings.NewReader(tt.data), testDefaults())
			_, err := r.Next()
			var ge *gateway.Error
			if !errors.As(err, &ge) || ge.Code != gateway.EINVALID {
				t.Fatalf("Next() error = %v, want an invalid *gateway.Error", err)
			}
			if !hasDetail(ge.Details, tt.field, tt.code) {
				t.Errorf("details = %+v, want field %q code %q", ge.Details, tt.field, tt.code)
			}
			for _, d := range ge.Details {
				if d.Line != 1 {
					t.Errorf("detail %+v: line %d, want 1", d, d.Line)
				}
			}
			if _, err2 := r.Next(); !errors.Is(err2, err) {
				t.Errorf("second Next() error = %v, want the header error again", err2)
			}
			if _, err3 := r.Header(); !errors.Is(err3, err) {
				t.Errorf("Header() error = %v, want the header error", err3)
			}
		})
	}
}

func TestCSVHeaderNamesEveryUnknownColumn(t *testing.T) {
	r := NewCSVReader(strings.NewReader("event_id,worker_ref,occurred_at,currency,gross,foo,bar\n"), testDefaults())
	_, err := r.Header()
	var ge *gateway.Error
	if !errors.As(err, &ge) || !hasDetail(ge.Details, "foo", CodeUnknownColumn) || !hasDetail(ge.Details, "bar", CodeUnknownColumn) {
		t.Errorf("error = %v, want details naming foo and bar", err)
	}
}

// TestCSVBadRows feeds every kind of bad row the CSV door can meet. Each bad
// row sits between two good ones: the bad one is rejected naming its line
// and column, and the stream goes on.
func TestCSVBadRows(t *testing.T) {
	const good = "ord-1,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,"
	row := func(edit func(f []string)) string {
		f := strings.Split(good, ",")
		f[0] = "bad-1"
		edit(f)
		return strings.Join(f, ",")
	}
	set := func(i int, v string) func([]string) { return func(f []string) { f[i] = v } }
	const (
		iEvent, iWorker, iAt, iCur, iGross, iTips, iOrders, iSector, iVehicle, iRegion, iKind, iReverses = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
	)
	tests := []struct {
		name   string
		header string // default csvHeader
		row    string
		field  string
		code   string
		d      func(*CSVDefaults)
	}{
		// Broken CSV structure.
		{name: "bare quote", row: row(set(iWorker, `dr"v`)), field: "worker_ref", code: CodeMalformedCSV},
		{name: "text after closing quote", row: row(set(iWorker, `"drv"x`)), field: "worker_ref", code: CodeMalformedCSV},
		{name: "too few fields", row: "bad-1,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50", code: CodeFieldCount},
		{name: "too many fields", row: good + ",extra", code: CodeFieldCount},
		// Wrong types.
		{name: "orders not an integer", row: row(set(iOrders, "two")), field: "orders", code: CodeWrongType},
		{name: "orders with a decimal point", row: row(set(iOrders, "1.0")), field: "orders", code: CodeWrongType},
		{name: "gross not a number", row: row(set(iGross, "twenty")), field: "gross", code: "malformed"},
		{name: "gross with exponent", row: row(set(iGross, "2.35e1")), field: "gross", code: "malformed"},
		{name: "gross with thousands separator", row: row(set(iGross, `"1,000.00"`)), field: "gross", code: "malformed"},
		{name: "occurred_at without offset", row: row(set(iAt, "2026-10-03T08:15:00")), field: "occurred_at", code: "bad_time"},
		{name: "occurred_at a date", row: row(set(iAt, "2026-10-03")), field: "occurred_at", code: "bad_time"},
		{name: "text not UTF-8", row: row(set(iWorker, "drv-\xff")), field: "worker_ref", code: CodeInvalidUTF8},
		// Missing fields.
		{name: "missing event_id", row: row(set(iEvent, "")), field: "event_id", code: "required"},
		{name: "missing occurred_at", row: row(set(iAt, "")), field: "occurred_at", code: "required"},
		{name: "missing gross", row: row(set(iGross, "")), field: "gross", code: "required"},
		{name: "missing currency", row: row(set(iCur, "")), field: "currency", code: "required"},
		{name: "missing platform", row: row(func([]string) {}), field: "platform_id", code: "required",
			d: func(d *CSVDefaults) { d.PlatformID = "" }},
		{name: "no worker identity", row: row(set(iWorker, "")), field: "worker_ref", code: "required"},
		// Amounts.
		{name: "negative earning", row: row(set(iGross, "-23.50")), field: "gross", code: "negative"},
		{name: "positive reversal", row: row(func(f []string) { f[iKind], f[iReverses] = "reversal", "ord-0" }), field: "gross", code: "positive"},
		{name: "negative tip on positive gross", row: row(set(iTips, "-1.00")), field: "tips", code: "sign"},
		{name: "exclusions exceed gross", row: row(set(iTips, "30.00")), field: "tips", code: "exceeds_gross"},
		{name: "too many decimals", row: row(set(iGross, "23.505")), field: "gross", code: "too_many_decimals"},
		{name: "decimals on a currency without minor unit", row: row(func(f []string) { f[iCur], f[iGross] = "KRW", "1500.5" }), field: "gross", code: "too_many_decimals",
			d: func(d *CSVDefaults) { d.Currency = "" }},
		{name: "tip with too many decimals", row: row(set(iTips, "1.005")), field: "tips", code: "too_many_decimals"},
		{name: "amount overflows", row: row(set(iGross, "92233720368547758.08")), field: "gross", code: "overflow"},
		{name: "unknown currency", row: row(set(iCur, "XXY")), field: "currency", code: "unknown_currency"},
		{name: "lower-case currency", row: row(set(iCur, "myr")), field: "currency", code: "unknown_currency"},
		{name: "currency not the platform's", row: row(set(iCur, "SGD")), field: "currency", code: CodeWrongCurrency},
		// Kinds.
		{name: "unknown kind", row: row(set(iKind, "bonus")), field: "kind", code: "unknown_kind"},
		{name: "reversal without original", row: row(func(f []string) { f[iKind], f[iGross] = "reversal", "-1.00" }), field: "reverses", code: "required"},
		{name: "earning naming an original", row: row(set(iReverses, "ord-0")), field: "reverses", code: "not_allowed"},
		{name: "reversal of itself", row: row(func(f []string) { f[iKind], f[iGross], f[iReverses] = "reversal", "-1.00", "bad-1" }), field: "reverses", code: "self"},
		{name: "negative orders", row: row(set(iOrders, "-1")), field: "orders", code: "negative"},
		// Time.
		{name: "occurred in the future", row: row(set(iAt, "2026-10-10T00:05:01Z")), field: "occurred_at", code: CodeInFuture},
		{name: "occurred before the platform existed", row: row(set(iAt, "2025-12-31T23:59:59Z")), field: "occurred_at", code: CodeBeforePlatform},
		// Identity and platform.
		{name: "platform_id not the key's platform", row: row(func([]string) {}), field: "platform_id", code: CodePlatformMismatch,
			header: "platform_id," + csvHeader, d: nil},
		{name: "invalid national ID", header: "national_id_country,national_id," + csvHeader, row: "MY,900101145677," + row(func([]string) {}),
			field: "national_id", code: "bad_check_digit"},
		{name: "national ID of an unsupported country", header: "national_id_country,national_id," + csvHeader, row: "XX,900101145678," + row(func([]string) {}),
			field: "national_id_country", code: "unsupported_country"},
		{name: "national ID without country", header: "national_id_country,national_id," + csvHeader, row: ",900101145678," + row(func([]string) {}),
			field: "national_id_country", code: "required"},
		{name: "country without national ID", header: "national_id_country,national_id," + csvHeader, row: "MY,," + row(func([]string) {}),
			field: "national_id", code: "required"},
		{name: "national ID with no keyer", header: "national_id_country,national_id," + csvHeader, row: "MY,900101145678," + row(func([]string) {}),
			field: "national_id", code: CodeNotSupported, d: func(d *CSVDefaults) { d.WorkerKey = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, goodRow := csvHeader, good
			badRow := tt.row
			if tt.header != "" {
				header = tt.header
				// Give the good rows the extra leading columns.
				extra := strings.Count(tt.header, ",") - strings.Count(csvHeader, ",")
				lead := strings.Repeat(",", extra)
				if strings.HasPrefix(tt.header, "platform_id,") {
					lead = "demo,"
					badRow = "other," + badRow
				}
				goodRow = lead + goodRow
			}
			data := header + strings.Replace(goodRow, "ord-1", "ord-0", 1) + "\n" + badRow + "\n" + goodRow + "\n"
			d := testDefaults()
			if tt.d != nil {
				tt.d(&d)
			}
			if tt.name == "missing platform" {
				// The good rows need a platform too.
				data = "platform_id," + csvHeader + "demo," + strings.Replace(good, "ord-1", "ord-0", 1) + "\n," + badRow + "\ndemo," + good + "\n"
			}
			rows := readAll(t, data, d)
			if len(rows) != 3 {
				t.Fatalf("got %d rows, want 3: %+v", len(rows), rows)
			}
			for _, i := range []int{0, 2} {
				if rows[i].Err != nil {
					t.Errorf("good row at line %d rejected: %v", rows[i].Line, rows[i].Err)
				}
			}
			bad := rows[1]
			if bad.Line != 3 || bad.Err == nil || bad.Err.Code != gateway.EINVALID {
				t.Fatalf("bad row = line %d err %v, want line 3 with an invalid error", bad.Line, bad.Err)
			}
			if bad.Earning != (gateway.Earning{}) {
				t.Errorf("a rejected row carries an event: %+v", bad.Earning)
			}
			if !hasDetail(bad.Err.Details, tt.field, tt.code) {
				t.Errorf("details = %+v, want field %q code %q", bad.Err.Details, tt.field, tt.code)
			}
			for _, det := range bad.Err.Details {
				if det.Line != 3 {
					t.Errorf("detail %+v has line %d, want 3", det, det.Line)
				}
				if det.Field != "" && !isColumn(det.Field) {
					t.Errorf("detail field %q is not a CSV column", det.Field)
				}
				if strings.Contains(det.Message, "900101145") {
					t.Errorf("detail message contains the national ID: %q", det.Message)
				}
			}
		})
	}
}

// isColumn reports whether field names CSV columns ("tips+expenses" names
// two).
func isColumn(field string) bool {
	for name := range strings.SplitSeq(field, "+") {
		if !slices.Contains(csvColumns[:], name) {
			return false
		}
	}
	return true
}

func TestCSVFutureWithinSkew(t *testing.T) {
	data := csvHeader + "ord-1,drv-77,2026-10-10T00:04:59Z,MYR,1.00,,,,,,,\n"
	rows := readAll(t, data, testDefaults())
	if len(rows) != 1 || rows[0].Err != nil {
		t.Errorf("rows = %+v, want one accepted row", rows)
	}
}

func TestCSVSeveralProblemsInOneRow(t *testing.T) {
	data := csvHeader + ",drv-77,yesterday,MYR,1.005,,x,,,,bonus,\n"
	rows := readAll(t, data, testDefaults())
	if len(rows) != 1 || rows[0].Err == nil {
		t.Fatalf("rows = %+v", rows)
	}
	ds := rows[0].Err.Details
	for _, want := range [][2]string{{"event_id", "required"}, {"occurred_at", "bad_time"}, {"gross", "too_many_decimals"},
		{"orders", CodeWrongType}, {"kind", "unknown_kind"}} {
		if !hasDetail(ds, want[0], want[1]) {
			t.Errorf("details = %+v, want %v", ds, want)
		}
	}
}

// TestCSVUnclosedQuote checks that a quote never closed costs one row and
// bounded memory, not the rest of the file.
func TestCSVUnclosedQuote(t *testing.T) {
	var b strings.Builder
	b.WriteString(csvHeader)
	b.WriteString("ord-1,\"drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,\n") // line 2: the quote opens
	filler := "ord-x,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,\n"
	n := 4*MaxCSVRowBytes/len(filler) + 10
	for range n {
		b.WriteString(filler)
	}
	b.WriteString("ord-last,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,\n")
	lastLine := 2 + n + 1
	rows := readAll(t, b.String(), testDefaults())
	if len(rows) == 0 || rows[0].Line != 2 || rows[0].Err == nil || rows[0].Err.Details[0].Code != CodeRowTooLong {
		t.Fatalf("first row = %+v, want row_too_long at line 2", rows[0])
	}
	last := rows[len(rows)-1]
	if last.Err != nil || last.Earning.EventID != "ord-last" || last.Line != lastLine {
		t.Errorf("last row = line %d %+v %v, want ord-last at line %d", last.Line, last.Earning.EventID, last.Err, lastLine)
	}
	// Rows after the cut are read as rows again, at their own lines.
	for _, row := range rows[1:] {
		if row.Err != nil && row.Err.Details[0].Code != CodeFieldCount && row.Err.Details[0].Code != CodeMalformedCSV {
			t.Errorf("line %d: %v", row.Line, row.Err)
		}
		if row.Err == nil && row.Line > 2 && row.Record[0] != "ord-x" && row.Record[0] != "ord-last" {
			t.Errorf("line %d: record %q", row.Line, row.Record)
		}
	}
	r := NewCSVReader(strings.NewReader(b.String()), testDefaults())
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	if got := r.InputOffset(); got != int64(b.Len()) {
		t.Errorf("InputOffset() = %d at the end, want %d", got, b.Len())
	}
	if len(rows) < n/2 {
		t.Errorf("only %d rows read after the unclosed quote; want most of the %d lines", len(rows), n)
	}
}

func TestCSVUnclosedQuoteAtEnd(t *testing.T) {
	data := csvHeader + "ord-1,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,\nord-2,\"drv-78,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,\n"
	rows := readAll(t, data, testDefaults())
	if len(rows) != 2 || rows[0].Err != nil || rows[1].Err == nil || rows[1].Line != 3 || rows[1].Err.Details[0].Code != CodeMalformedCSV {
		t.Fatalf("rows = %+v", rows)
	}
}

// TestCSVRowTooLongAtLineStart checks line numbers after an over-long row,
// whether the limit cuts it inside a line or exactly at a line's start. The
// length of the row's first line moves the cut through every position of a
// line.
func TestCSVRowTooLongAtLineStart(t *testing.T) {
	const size = 64
	atStart := 0
	for pad := range size {
		var b strings.Builder
		b.WriteString(csvHeader)
		b.WriteString("ord-1,\"" + strings.Repeat("x", pad) + "\n")
		line := strings.Repeat("y", size-1) + "\n"
		for b.Len() < 2*MaxCSVRowBytes {
			b.WriteString(line)
		}
		b.WriteString("ord-2,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,\n")
		want := strings.Count(b.String(), "\n")

		r := NewCSVReader(strings.NewReader(b.String()), testDefaults())
		var rows []Row
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, row)
		}
		if r.lineAdjust != 0 {
			atStart++
		}
		if rows[0].Line != 2 || rows[0].Err.Details[0].Code != CodeRowTooLong {
			t.Errorf("pad %d: first row line %d err %v, want row_too_long at line 2", pad, rows[0].Line, rows[0].Err)
		}
		last := rows[len(rows)-1]
		if last.Err != nil || last.Line != want {
			t.Errorf("pad %d: last row line %d err %v, want line %d accepted", pad, last.Line, last.Err, want)
		}
		for i := 2; i < len(rows); i++ {
			if rows[i].Line != rows[i-1].Line+1 {
				t.Errorf("pad %d: row at line %d follows line %d", pad, rows[i].Line, rows[i-1].Line)
			}
		}
	}
	if atStart == 0 {
		t.Error("no case cut a row at the start of a line")
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestCSVReadFailureStopsTheStream(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewCSVReader(io.MultiReader(strings.NewReader(csvHeader+"ord-1,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,\n"), failingReader{boom}), testDefaults())
	if row, err := r.Next(); err != nil || row.Err != nil {
		t.Fatalf("first row: %v %v", err, row.Err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("Next() error = %v, want the read error", err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("Next() after failure = %v, want the read error again", err)
	}
}

func TestCSVWorkerKeyFailureStopsTheStream(t *testing.T) {
	boom := errors.New("keyer unavailable")
	d := testDefaults()
	d.WorkerKey = func(string, string) (string, error) { return "", boom }
	data := "event_id,national_id_country,national_id,occurred_at,currency,gross,worker_ref\nord-1,MY,900101145678,2026-10-03T08:15:00+08:00,MYR,1.00,d\n"
	_, err := NewCSVReader(strings.NewReader(data), d).Next()
	if !errors.Is(err, boom) || gateway.ErrorCode(err) != gateway.EINTERNAL {
		t.Errorf("Next() error = %v, want the keyer's error", err)
	}
}

// conformanceCases are events written once as JSON and once as a CSV row
// under csvHeaderAll.
var conformanceCases = []struct {
	name, json, csv string
}{
	{"minimal",
		`{"event_id":"ord-1001","platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}`,
		`ord-1001,demo,drv-77,,,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,,,,`},
	{"every field",
		`{"version":1,"event_id":"ord-1002","platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-03T08:15:00.25+08:00",
		  "gross":{"currency":"MYR","value":"23.5"},
		  "exclusions":{"tips":{"currency":"MYR","value":"2"},"incentives":{"currency":"MYR","value":"1.10"},
		                "expenses":{"currency":"MYR","value":"0.5"},"commission":{"currency":"MYR","value":"0.01"}},
		  "orders":3,"category":{"sector":"ride_hailing","vehicle":"4w"},"region":"MY-14","kind":"earning"}`,
		`ord-1002,demo,drv-77,,,2026-10-03T08:15:00.25+08:00,MYR,23.5,2,1.10,0.5,0.01,3,ride_hailing,4w,MY-14,earning,`},
	{"reversal",
		`{"event_id":"ord-1003","platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-04T00:00:00Z","gross":{"currency":"MYR","value":"-23.50"},"kind":"reversal","reverses":"ord-1002"}`,
		`ord-1003,demo,drv-77,,,2026-10-04T00:00:00Z,MYR,-23.50,,,,,,,,,reversal,ord-1002`},
	{"adjustment without minor unit",
		`{"event_id":"k-1","platform_id":"demo","worker_ref":"w","occurred_at":"2026-10-04T09:00:00+09:00","gross":{"currency":"KRW","value":"-1500"},"kind":"adjustment","orders":0,"category":{"vehicle":"2w"}}`,
		`k-1,demo,w,,,2026-10-04T09:00:00+09:00,KRW,-1500,,,,,0,,2w,,adjustment,`},
	{"worker key from national ID",
		`{"event_id":"ord-1004","platform_id":"demo","worker_ref":"drv-77","worker_key":"wk-900101145678","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`,
		`ord-1004,demo,drv-77,MY,900101145678,2026-10-03T08:15:00+08:00,MYR,1.00,,,,,,,,,,`},
	{"text with commas and quotes",
		`{"event_id":"ord,1005","platform_id":"demo","worker_ref":"drv \"77\"","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"},"region":"MY-14"}`,
		`"ord,1005",demo,"drv ""77""",,,2026-10-03T08:15:00+08:00,MYR,1.00,,,,,,,,MY-14,,`},
	// Rejected events: same codes and messages, fields mapped to columns.
	{"bad: several problems",
		`{"event_id":"","platform_id":"demo","worker_ref":"","occurred_at":"2026-10-03 08:15","gross":{"currency":"MYR","value":"1.005"},"exclusions":{"tips":{"currency":"MYR","value":"x"}},"kind":"bonus"}`,
		`,demo,,,,2026-10-03 08:15,MYR,1.005,x,,,,,,,,bonus,`},
	{"bad: reversal",
		`{"event_id":"r","platform_id":"demo","worker_ref":"w","occurred_at":"2026-10-03T08:15:00Z","gross":{"currency":"MYR","value":"5.00"},"exclusions":{"tips":{"currency":"MYR","value":"-1"}},"kind":"reversal","reverses":"r"}`,
		`r,demo,w,,,2026-10-03T08:15:00Z,MYR,5.00,-1,,,,,,,,reversal,r`},
	{"bad: currency",
		`{"event_id":"c","platform_id":"demo","worker_ref":"w","occurred_at":"2026-10-03T08:15:00Z","gross":{"currency":"","value":"5.00"},"exclusions":{"expenses":{"currency":"","value":"1"}}}`,
		`c,demo,w,,,2026-10-03T08:15:00Z,,5.00,,,1,,,,,,,`},
	{"bad: exclusions exceed gross",
		`{"event_id":"x","platform_id":"demo","worker_ref":"w","occurred_at":"2026-10-03T08:15:00Z","gross":{"currency":"MYR","value":"5.00"},"exclusions":{"tips":{"currency":"MYR","value":"3"},"expenses":{"currency":"MYR","value":"3"}}}`,
		`x,demo,w,,,2026-10-03T08:15:00Z,MYR,5.00,3,,3,,,,,,,`},
	{"bad: negative orders",
		`{"event_id":"o","platform_id":"demo","worker_ref":"w","occurred_at":"2026-10-03T08:15:00Z","gross":{"currency":"MYR","value":"5.00"},"orders":-2}`,
		`o,demo,w,,,2026-10-03T08:15:00Z,MYR,5.00,,,,,-2,,,,,`},
}

var csvHeaderAll = strings.Join(csvColumns[:], ",") + "\n"

// TestCSVConformsToJSON checks that the CSV door and the JSON door agree:
// an event accepted by one is accepted by the other with the same canonical
// form, and one rejected by one is rejected by the other with the same codes
// and messages.
func TestCSVConformsToJSON(t *testing.T) {
	for _, tt := range conformanceCases {
		t.Run(tt.name, func(t *testing.T) {
			fromJSON, jsonErr := Decode([]byte(tt.json))
			rows := readAll(t, csvHeaderAll+tt.csv+"\n", CSVDefaults{WorkerKey: testWorkerKey, Now: func() time.Time { return csvNow }})
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(rows))
			}
			row := rows[0]
			if jsonErr == nil {
				if row.Err != nil {
					t.Fatalf("JSON accepted, CSV rejected: %v", row.Err)
				}
				if j, c := Canonical(fromJSON), Canonical(row.Earning); !bytes.Equal(j, c) {
					t.Errorf("canonical forms differ:\nJSON %s\nCSV  %s", j, c)
				}
				return
			}
			var je *gateway.Error
			if !errors.As(jsonErr, &je) {
				t.Fatalf("JSON error %v is not a *gateway.Error", jsonErr)
			}
			if row.Err == nil {
				t.Fatalf("JSON rejected (%v), CSV accepted", jsonErr)
			}
			if je.Code != row.Err.Code || je.Message != row.Err.Message {
				t.Errorf("error = %s %q, JSON %s %q", row.Err.Code, row.Err.Message, je.Code, je.Message)
			}
			type key struct{ code, msg string }
			var want, got []key
			for _, d := range je.Details {
				want = append(want, key{d.Code, d.Message})
			}
			for _, d := range row.Err.Details {
				got = append(got, key{d.Code, d.Message})
			}
			// The CSV row has one currency column, so a problem reported
			// once per amount in JSON is reported once in CSV.
			want = slices.Compact(want)
			if !slices.Equal(got, want) {
				t.Errorf("details differ:\nCSV  %+v\nJSON %+v", row.Err.Details, je.Details)
			}
			for _, d := range row.Err.Details {
				if !isColumn(d.Field) {
					t.Errorf("field %q is not a column", d.Field)
				}
			}
		})
	}
}

func TestRejectWriter(t *testing.T) {
	data := "event_id,national_id_country,national_id,worker_ref,occurred_at,currency,gross,tips\n" +
		"ord-1,MY,900101145678,drv-1,2026-10-03T08:15:00+08:00,MYR,10.00,\n" + // accepted
		"ord-2,MY,900101145677,drv-1,2026-10-03T08:15:00+08:00,MYR,10.005,\n" + // bad check digit, decimals
		"ord-3,,,drv-\"1,2026-10-03T08:15:00+08:00,MYR,1.00,\n" + // bare quote
		"ord-4,,,drv-1,2026-10-03T08:15:00+08:00\n" + // too few fields
		"ord-5,,,drv-1,2026-10-03T08:15:00+08:00,MYR,1.00,\n" + // accepted
		"ord-6,,,\"drv\"-1,2026-10-03T08:15:00+08:00,MYR,1.00,\n" + // text after a closing quote
		"ord-7,,,drv-1,2026-10-03T08:15:00+08:00,MYR,1.00,2.00,extra\n" + // too many fields
		"ord-8,,,drv-1,2026-10-03T08:15:00Z,SGD,1.00,\n" + // not the platform's currency
		"ord-9,,,drv-1,2026-10-03T08:15:00Z,MYR,1.00,\"2.00\n" // a quote never closed
	r := NewCSVReader(strings.NewReader(data), testDefaults())
	header, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := NewRejectWriter(&out, header)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Err == nil {
			accepted++
		}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if accepted != 2 || w.Rows() != 7 {
		t.Errorf("accepted %d rejected %d, want 2 and 7", accepted, w.Rows())
	}
	if strings.Contains(out.String(), "90010114567") {
		t.Error("the reject file holds a national ID")
	}
	// The reject file is itself valid CSV with the original columns plus
	// the error columns.
	recs, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("reject file is not valid CSV: %v", err)
	}
	if got, want := recs[0], append(slices.Clone(header), RejectColumns...); !slices.Equal(got, want) {
		t.Errorf("reject header = %q, want %q", got, want)
	}
	golden(t, "rejects.csv", out.Bytes())
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestCSVColumns(t *testing.T) {
	cols := CSVColumns()
	cols[0] = "changed"
	if CSVColumns()[0] != "event_id" {
		t.Error("CSVColumns returns the package's own array")
	}
	if _, err := NewCSVReader(strings.NewReader(strings.Join(CSVColumns(), ",")+"\n"), CSVDefaults{}).Header(); err != nil {
		t.Errorf("the documented header is rejected: %v", err)
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte(csvHeader + "ord-1,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,,,,,,,\n"))
	f.Add([]byte(csvHeaderAll + conformanceCases[1].csv + "\n" + conformanceCases[6].csv + "\n"))
	f.Add([]byte(csvHeader + "ord-1,\"drv\n77\",2026-10-03T08:15:00+08:00,MYR,23.50,1,2,,,,reversal,x\n\"\n"))
	f.Add([]byte("event_id,worker_ref,occurred_at,currency,gross\na,b\"c,d,e\n\"x\"y,,,,\n,,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewCSVReader(bytes.NewReader(data), testDefaults())
		header, err := r.Header()
		if err != nil {
			if gateway.ErrorCode(err) != gateway.EINVALID {
				t.Fatalf("header error %v is not invalid", err)
			}
			return
		}
		var out bytes.Buffer
		w, err := NewRejectWriter(&out, header)
		if err != nil {
			t.Fatal(err)
		}
		prev := 1
		for range 10_000 {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next() error = %v", err)
			}
			if row.Line <= prev {
				t.Fatalf("line %d after line %d", row.Line, prev)
			}
			prev = row.Line
			if row.Err == nil {
				// Whatever is accepted has a canonical form the JSON door
				// accepts as the same event.
				back, err := Decode(Canonical(row.Earning))
				if err != nil || Hash(back) != Hash(row.Earning) {
					t.Fatalf("line %d: canonical round trip: %v", row.Line, err)
				}
				continue
			}
			for _, d := range row.Err.Details {
				if d.Line != row.Line || d.Code == "" || d.Message == "" {
					t.Fatalf("line %d: detail %+v", row.Line, d)
				}
			}
			if err := w.Write(row); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		cr := csv.NewReader(&out)
		if _, err := cr.ReadAll(); err != nil {
			t.Fatalf("reject file is not valid CSV: %v", err)
		}
	})
}
