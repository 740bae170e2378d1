package feed

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coverbridge/coverbridge/gateway"
)

// CSV column names, in the documented order.
var csvColumns = [numCSVCols]string{
	colEventID:           "event_id",
	colPlatformID:        "platform_id",
	colWorkerRef:         "worker_ref",
	colNationalIDCountry: "national_id_country",
	colNationalID:        "national_id",
	colOccurredAt:        "occurred_at",
	colCurrency:          "currency",
	colGross:             "gross",
	colTips:              "tips",
	colIncentives:        "incentives",
	colExpenses:          "expenses",
	colCommission:        "commission",
	colOrders:            "orders",
	colSector:            "sector",
	colVehicle:           "vehicle",
	colRegion:            "region",
	colKind:              "kind",
	colReverses:          "reverses",
}

type csvCol int

const (
	colEventID csvCol = iota
	colPlatformID
	colWorkerRef
	colNationalIDCountry
	colNationalID
	colOccurredAt
	colCurrency
	colGross
	colTips
	colIncentives
	colExpenses
	colCommission
	colOrders
	colSector
	colVehicle
	colRegion
	colKind
	colReverses
	numCSVCols
)

// CSVColumns returns the names of the columns an earnings CSV file may
// have, in the documented order. It is a header row that NewCSVReader
// accepts.
func CSVColumns() []string { return slices.Clone(csvColumns[:]) }

// MaxCSVRowBytes bounds the size of one CSV row, quoted newlines included. It
// is what keeps memory constant when a quoted field is never closed: such a
// row is rejected once it grows past about this size, and reading resumes on
// the next line.
const MaxCSVRowBytes = 64 << 10

// DefaultMaxSkew is how far in the future an occurred_at may be when
// CSVDefaults.MaxSkew is zero.
const DefaultMaxSkew = 5 * time.Minute

// CSV detail codes, in addition to those of Event.Earning.
const (
	CodeMalformedCSV     = "malformed_csv"     // a quote out of place
	CodeFieldCount       = "field_count"       // a row with more or fewer fields than the header
	CodeRowTooLong       = "row_too_long"      // a row longer than MaxCSVRowBytes
	CodeNoHeader         = "no_header"         // an empty file
	CodeUnknownColumn    = "unknown_column"    // a header name that is not a column
	CodeDuplicateColumn  = "duplicate_column"  // a header name given twice
	CodeMissingColumn    = "missing_column"    // a required column absent from the header
	CodeWrongType        = "wrong_type"        // orders that is not an integer
	CodePlatformMismatch = "platform_mismatch" // platform_id other than the key's platform
	CodeWrongCurrency    = "wrong_currency"    // currency other than the platform's
	CodeInFuture         = "in_future"         // occurred_at later than now plus the skew
	CodeBeforePlatform   = "before_platform"   // occurred_at before the platform existed
	CodeNotSupported     = "not_supported"     // national ID columns without a way to key them
	CodeInvalidUTF8      = "invalid_utf8"      // a field that is not valid UTF-8
)

// CSVDefaults is what the upload knows beyond the file: the platform of the
// key that sent it and that platform's settings.
type CSVDefaults struct {
	// PlatformID is the uploading key's platform. It fills an empty
	// platform_id; a row naming another platform is rejected. Empty: rows
	// must name their platform.
	PlatformID string

	// Currency is the platform's currency; a row in another currency is
	// rejected. Empty: any known currency.
	Currency gateway.Currency

	// Since is when the platform was created; a row that occurred before it
	// is rejected. Zero: no lower bound.
	Since time.Time

	// Now is the clock for the future check. Default time.Now.
	Now func() time.Time

	// MaxSkew is how far past Now an occurred_at may be, for clocks that
	// run a little fast. Default DefaultMaxSkew.
	MaxSkew time.Duration

	// WorkerKey turns a national ID and its country into a worker key. Its
	// errors are *gateway.Error values whose messages never contain the
	// number (identity.Normalize and Keyer.Key fit); any other error stops
	// the stream. Nil: rows with a national ID are rejected with code
	// not_supported.
	WorkerKey func(country, nationalID string) (string, error)
}

// Row is one data row of an earnings CSV file.
type Row struct {
	// Line is the 1-based line where the row starts.
	Line int
	// Record holds the row's fields as read; for a row rejected as
	// malformed CSV, the fields before the fault. The slice is reused by
	// the next call to Next: copy it to keep it. It may hold a national
	// ID: never log it.
	Record []string
	// Earning is the decoded event when Err is nil.
	Earning gateway.Earning
	// Err is the reason the row is rejected: code EINVALID with one
	// Detail per problem, each naming the CSV column (Field) and Line.
	Err *gateway.Error
}

// CSVReader streams the rows of an earnings CSV file: the CSV door. It
// holds one row at a time, so memory does not depend on the size of the
// file. It is not safe for concurrent use.
//
// An earnings CSV file is UTF-8 (a leading byte-order mark is ignored),
// comma-separated, quoted as in RFC 4180, with a header row naming its
// columns. Columns may come in any order; names are matched without regard
// to case or surrounding spaces. A column the gateway does not know is an
// error, and so is a column named twice. Each row is one earnings event:
//
//	column               JSON field               required
//	event_id             event_id                 yes
//	platform_id          platform_id              no: the uploading key's platform fills it
//	worker_ref           worker_ref               worker_ref, or both national ID columns
//	national_id_country  (keyed to worker_key)    with national_id
//	national_id          (keyed to worker_key)    with national_id_country
//	occurred_at          occurred_at              yes; RFC 3339 with offset
//	currency             every amount's currency  yes; one currency per row
//	gross                gross.value              yes; decimal string "23.50"
//	tips                 exclusions.tips.value    no
//	incentives           exclusions.incentives    no
//	expenses             exclusions.expenses      no
//	commission           exclusions.commission    no
//	orders               orders                   no; integer, default 1
//	sector               category.sector          no
//	vehicle              category.vehicle         no
//	region               region                   no
//	kind                 kind                     no; earning (default), reversal, adjustment
//	reverses             reverses                 for a reversal
//
// An empty cell is an absent field. Every row goes through Event.Earning,
// the validation the JSON door uses, so a row passes it exactly when the same
// event in JSON does, and a rejected row carries the same detail codes and
// messages, with Field naming the CSV column instead of the JSON path and
// Line the file line where the row starts. The upload's own checks
// (CSVDefaults: platform, currency, time bounds) apply on top: they are the
// Policy every door shares. A row may name the worker by national ID alone:
// it is keyed (CSVDefaults.WorkerKey) and the event carries the worker key,
// as a JSON event with national_id does at the HTTP door.
type CSVReader struct {
	defaults CSVDefaults
	policy   Policy // the platform checks every door applies
	src      *rowLimiter
	br       *bufio.Reader
	cr       *csv.Reader

	headerDone bool
	headerErr  error
	header     []string // as written
	names      []string // normalised
	idx        [numCSVCols]int

	scratch csvScratch // the current row's wire event parts

	skipped    int64 // input bytes passed over by resync
	lineAdjust int   // added to csv.Reader line numbers after a resynchronisation
	lastEnd    int   // line where the previous row ended
	done       bool  // end of input or a fatal error seen
	fatal      error
}

// csvScratch holds the parts of the wire event that Event points to, reused
// from row to row: Event.Earning copies what it keeps.
type csvScratch struct {
	gross      Amount
	excl       [4]Amount
	exclusions Exclusions
	orders     int64
	category   Category
}

// NewCSVReader returns a reader of the earnings CSV file r. The header is
// read by the first call to Header or Next.
func NewCSVReader(r io.Reader, defaults CSVDefaults) *CSVReader {
	if defaults.Now == nil {
		defaults.Now = time.Now
	}
	if defaults.MaxSkew == 0 {
		defaults.MaxSkew = DefaultMaxSkew
	}
	src := &rowLimiter{r: r}
	br := bufio.NewReader(src)
	cr := csv.NewReader(br) // uses br as it is: it is already a *bufio.Reader
	cr.ReuseRecord = true
	policy := Policy{PlatformID: defaults.PlatformID, Currency: defaults.Currency, Since: defaults.Since,
		Now: defaults.Now, MaxSkew: defaults.MaxSkew}
	return &CSVReader{defaults: defaults, policy: policy, src: src, br: br, cr: cr}
}

// Header returns the header row as written in the file. A header that is
// missing, malformed, names an unknown or duplicate column, or lacks a
// required one is a *gateway.Error with code EINVALID; then no row can be
// read.
func (r *CSVReader) Header() ([]string, error) {
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return slices.Clone(r.header), nil
}

// InputOffset returns how many bytes of the file have been read into rows
// so far, for a progress bar.
func (r *CSVReader) InputOffset() int64 { return r.cr.InputOffset() + r.skipped }

// Next returns the next row, or io.EOF after the last. A row that cannot be
// decoded or validated is returned with Row.Err set, and the following rows
// are read as usual; this includes rows with a stray quote, with the wrong
// number of fields, or longer than MaxCSVRowBytes. The error result is for
// problems that end the stream: a bad header (a *gateway.Error), a failure
// to read r, or a failure of CSVDefaults.WorkerKey that is not a
// *gateway.Error.
func (r *CSVReader) Next() (Row, error) {
	if err := r.readHeader(); err != nil {
		return Row{}, err
	}
	if r.done {
		if r.fatal != nil {
			return Row{}, r.fatal
		}
		return Row{}, io.EOF
	}
	r.src.budget = MaxCSVRowBytes
	rec, err := r.cr.Read()
	if err == nil {
		line, _ := r.cr.FieldPos(0)
		row := Row{Line: line + r.lineAdjust, Record: rec}
		r.lastEnd = row.Line + newlines(rec)
		e, rowErr, err := r.decode(rec, row.Line)
		if err != nil {
			return r.stop(fmt.Errorf("CSV line %d: %w", row.Line, err))
		}
		row.Earning, row.Err = e, rowErr
		return row, nil
	}
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		r.done = true
		return Row{}, io.EOF
	case errors.Is(err, errRowTooLong):
		line := r.lastEnd + 1
		if err := r.resync(); err != nil {
			return r.stop(fmt.Errorf("CSV line %d: %w", line, err))
		}
		r.lastEnd = line
		return Row{Line: line, Err: rowError(gateway.Detail{Line: line, Code: CodeRowTooLong,
			Message: fmt.Sprintf("the row starting at line %d is longer than %d bytes; a quoted field may be missing its closing quote", line, MaxCSVRowBytes)})}, nil
	case errors.As(err, &pe):
		return r.parseErrorRow(rec, pe), nil
	default:
		return r.stop(fmt.Errorf("read CSV after line %d: %w", r.lastEnd, err))
	}
}

func (r *CSVReader) stop(err error) (Row, error) {
	r.done, r.fatal = true, err
	return Row{}, err
}

// parseErrorRow turns a csv.ParseError into a rejected row.
func (r *CSVReader) parseErrorRow(rec []string, pe *csv.ParseError) Row {
	line := pe.StartLine + r.lineAdjust
	row := Row{Line: line, Record: rec}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		r.lastEnd = line + newlines(rec)
		row.Err = rowError(gateway.Detail{Line: line, Code: CodeFieldCount,
			Message: fmt.Sprintf("line %d has %d fields; the header has %d", line, len(rec), len(r.header))})
		return row
	}
	r.lastEnd = pe.Line + r.lineAdjust
	// The fields before the one at fault were read whole, so the record's
	// length is the index of the bad field.
	field := ""
	if i := len(rec); i < len(r.names) {
		field = r.names[i]
	}
	msg := "a quote in an unquoted field; quote the field and double the quote inside it"
	if errors.Is(pe.Err, csv.ErrQuote) {
		msg = "a quoted field is not closed, or its closing quote is followed by more text"
	}
	row.Err = rowError(gateway.Detail{Field: field, Line: line, Code: CodeMalformedCSV,
		Message: fmt.Sprintf("malformed CSV at line %d, column %d: %s", pe.Line+r.lineAdjust, pe.Column, msg)})
	return row
}

// resync skips the rest of the physical line at which an over-long row was
// cut, so that reading resumes at the start of the next line.
func (r *CSVReader) resync() error {
	r.src.budget = -1
	if r.src.last == '\n' {
		// The row was cut at the start of a line that csv.Reader counted
		// but did not read.
		r.lineAdjust--
		return nil
	}
	for {
		skip, err := r.br.ReadSlice('\n')
		r.skipped += int64(len(skip))
		switch {
		case err == nil, errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return err
		}
	}
}

func (r *CSVReader) readHeader() error {
	if r.headerDone {
		return r.headerErr
	}
	r.headerDone = true
	r.headerErr = r.parseHeader()
	if r.headerErr != nil {
		r.done = true
	}
	return r.headerErr
}

func (r *CSVReader) parseHeader() error {
	r.src.budget = MaxCSVRowBytes
	rec, err := r.cr.Read()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return headerError("the file is empty; its first line must be the header", gateway.Detail{Line: 1, Code: CodeNoHeader,
			Message: "expected a header row naming the columns, such as " + strings.Join(csvColumns[:], ",")})
	case errors.Is(err, errRowTooLong):
		return headerError("the header is not a valid CSV row", gateway.Detail{Line: 1, Code: CodeRowTooLong,
			Message: fmt.Sprintf("the header is longer than %d bytes", MaxCSVRowBytes)})
	case errors.As(err, &pe):
		return headerError("the header is not a valid CSV row", gateway.Detail{Line: pe.StartLine, Code: CodeMalformedCSV,
			Message: fmt.Sprintf("malformed CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)})
	case err != nil:
		return fmt.Errorf("read CSV header: %w", err)
	}
	line, _ := r.cr.FieldPos(0)
	r.lastEnd = line + newlines(rec)
	r.header = slices.Clone(rec)
	for i := range r.idx {
		r.idx[i] = -1
	}
	var details []gateway.Detail
	for i, name := range rec {
		norm := columnName(name, i == 0)
		r.names = append(r.names, norm)
		c := slices.Index(csvColumns[:], norm)
		switch {
		case c < 0:
			details = append(details, gateway.Detail{Field: name, Line: line, Code: CodeUnknownColumn,
				Message: fmt.Sprintf("unknown column %q; the columns are %s", name, strings.Join(csvColumns[:], ", "))})
		case r.idx[c] >= 0:
			details = append(details, gateway.Detail{Field: norm, Line: line, Code: CodeDuplicateColumn,
				Message: fmt.Sprintf("column %s is named twice", norm)})
		default:
			r.idx[c] = i
		}
	}
	missing := func(c csvCol, why string) {
		details = append(details, gateway.Detail{Field: csvColumns[c], Line: line, Code: CodeMissingColumn,
			Message: fmt.Sprintf("column %s is required%s", csvColumns[c], why)})
	}
	for _, c := range [...]csvCol{colEventID, colOccurredAt, colCurrency, colGross} {
		if r.idx[c] < 0 {
			missing(c, "")
		}
	}
	hasCountry, hasID := r.idx[colNationalIDCountry] >= 0, r.idx[colNationalID] >= 0
	switch {
	case r.idx[colWorkerRef] < 0 && !hasCountry && !hasID:
		missing(colWorkerRef, ": name the worker by worker_ref, by national_id_country and national_id, or both")
	case hasCountry && !hasID:
		missing(colNationalID, " with national_id_country")
	case hasID && !hasCountry:
		missing(colNationalIDCountry, " with national_id")
	}
	if len(details) > 0 {
		return &gateway.Error{Code: gateway.EINVALID, Message: "the CSV header is not valid", Details: details}
	}
	return nil
}

// columnName normalises a header name: no byte-order mark (on the first),
// no surrounding spaces, lower case.
func columnName(name string, first bool) string {
	if first {
		name = strings.TrimPrefix(name, "\ufeff")
	}
	return strings.ToLower(strings.TrimSpace(name))
}

func headerError(msg string, d gateway.Detail) error {
	return &gateway.Error{Code: gateway.EINVALID, Message: msg, Details: []gateway.Detail{d}}
}

func rowError(d gateway.Detail) *gateway.Error {
	return &gateway.Error{Code: gateway.EINVALID, Message: "malformed CSV row", Details: []gateway.Detail{d}}
}

// newlines counts the line breaks inside quoted fields of a record, so the
// line where it ends is known.
func newlines(rec []string) int {
	n := 0
	for _, f := range rec {
		n += strings.Count(f, "\n")
	}
	return n
}

// decode builds the wire event from a record, validates it with
// Event.Earning and applies the upload's platform checks. A non-nil error
// is a failure of CSVDefaults.WorkerKey that is not about the input.
func (r *CSVReader) decode(rec []string, line int) (gateway.Earning, *gateway.Error, error) {
	get := func(c csvCol) string {
		if i := r.idx[c]; i >= 0 && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var details []gateway.Detail
	add := func(field, code, msg string) {
		details = append(details, gateway.Detail{Field: field, Line: line, Code: code, Message: msg})
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			// JSON cannot carry such text; the event would change on its
			// way to Kafka.
			add(r.names[i], CodeInvalidUTF8, "the text is not valid UTF-8; save the file as UTF-8")
		}
	}
	if len(details) > 0 {
		return gateway.Earning{}, &gateway.Error{Code: gateway.EINVALID, Message: "invalid earnings event", Details: details}, nil
	}
	ev := Event{
		EventID:    get(colEventID),
		PlatformID: get(colPlatformID),
		WorkerRef:  get(colWorkerRef),
		OccurredAt: get(colOccurredAt),
		Region:     get(colRegion),
		Kind:       get(colKind),
		Reverses:   get(colReverses),
	}
	switch {
	case ev.PlatformID == "":
		ev.PlatformID = r.defaults.PlatformID
	default:
		if d := r.policy.platformMismatch(ev.PlatformID); d != nil {
			add(d.Field, d.Code, d.Message)
		}
	}
	sc := &r.scratch
	*sc = csvScratch{}
	currency := get(colCurrency)
	if v := get(colGross); v != "" {
		sc.gross = Amount{Currency: currency, Value: v}
		ev.Gross = &sc.gross
	}
	for i, x := range [...]struct {
		col csvCol
		dst **Amount
	}{
		{colTips, &sc.exclusions.Tips},
		{colIncentives, &sc.exclusions.Incentives},
		{colExpenses, &sc.exclusions.Expenses},
		{colCommission, &sc.exclusions.Commission},
	} {
		if v := get(x.col); v != "" {
			sc.excl[i] = Amount{Currency: currency, Value: v}
			*x.dst = &sc.excl[i]
			ev.Exclusions = &sc.exclusions
		}
	}
	if v := get(colOrders); v != "" {
		n, ok := parseInt(v)
		if ok {
			sc.orders = n
			ev.Orders = &sc.orders
		} else {
			add("orders", CodeWrongType, "orders must be an integer such as 1")
		}
	}
	if s, v := get(colSector), get(colVehicle); s != "" || v != "" {
		sc.category = Category{Sector: s, Vehicle: v}
		ev.Category = &sc.category
	}
	country, nid := get(colNationalIDCountry), get(colNationalID)
	switch {
	case country == "" && nid == "":
	case country == "":
		add("national_id_country", "required", "national_id_country is required with national_id")
	case nid == "":
		add("national_id", "required", "national_id is required with national_id_country")
	case r.defaults.WorkerKey == nil:
		add("national_id", CodeNotSupported, "national IDs cannot be taken on this upload; name the worker by worker_ref")
	default:
		key, err := r.defaults.WorkerKey(country, nid)
		var ge *gateway.Error
		switch {
		case err == nil:
			ev.WorkerKey = key
		case errors.As(err, &ge):
			for _, d := range ge.Details {
				field := "national_id"
				if d.Code == "unsupported_country" {
					field = "national_id_country"
				}
				add(field, d.Code, d.Message)
			}
			if len(ge.Details) == 0 {
				add("national_id", "invalid", ge.Message)
			}
		default:
			return gateway.Earning{}, nil, fmt.Errorf("key national ID: %w", err)
		}
	}

	e, err := ev.Earning()
	if err != nil {
		var ge *gateway.Error
		if !errors.As(err, &ge) {
			return gateway.Earning{}, nil, err
		}
		for _, d := range ge.Details {
			d.Field = r.column(d.Field, rec)
			d.Line = line
			if !hasDetail(details, d.Field, d.Code) {
				details = append(details, d)
			}
		}
	}
	if len(details) == 0 {
		for _, d := range r.policy.details(e) {
			d.Field = r.column(d.Field, rec)
			d.Line = line
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		return gateway.Earning{}, &gateway.Error{Code: gateway.EINVALID, Message: "invalid earnings event", Details: details}, nil
	}
	return e, nil, nil
}

// column maps a JSON field path of the wire event to the CSV column that
// holds it.
func (r *CSVReader) column(field string, rec []string) string {
	switch field {
	case "gross", "gross.value":
		return "gross"
	case "gross.currency":
		return "currency"
	case "category", "category.sector":
		return "sector"
	case "category.vehicle":
		return "vehicle"
	case "worker_key":
		return "national_id"
	case "exclusions":
		// The sum is at fault: name the exclusion columns that are set.
		var set []string
		for _, c := range [...]csvCol{colTips, colIncentives, colExpenses, colCommission} {
			if i := r.idx[c]; i >= 0 && i < len(rec) && rec[i] != "" {
				set = append(set, csvColumns[c])
			}
		}
		return strings.Join(set, "+")
	}
	if rest, ok := strings.CutPrefix(field, "exclusions."); ok {
		name, sub, _ := strings.Cut(rest, ".")
		if sub == "currency" {
			return "currency"
		}
		return name
	}
	return field
}

func hasDetail(ds []gateway.Detail, field, code string) bool {
	for _, d := range ds {
		if d.Field == field && d.Code == code {
			return true
		}
	}
	return false
}

// parseInt parses an optional '-' and decimal digits, as a JSON integer
// would be written.
func parseInt(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// shortQuote returns s quoted and cut short for an error message.
func shortQuote(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// errRowTooLong is returned by rowLimiter when a row exceeds its budget.
var errRowTooLong = errors.New("row too long")

// rowLimiter passes reads through until budget bytes have been read for the
// current row, then fails with errRowTooLong. A negative budget disables the
// limit. It remembers the last byte read.
type rowLimiter struct {
	r      io.Reader
	budget int
	last   byte // last byte read
}

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.budget == 0 {
		return 0, errRowTooLong
	}
	if l.budget > 0 && len(p) > l.budget {
		p = p[:l.budget]
	}
	n, err := l.r.Read(p)
	if n > 0 {
		l.last = p[n-1]
		if l.budget > 0 {
			l.budget -= n
		}
	}
	return n, err
}

// RejectWriter writes rejected rows back as CSV for the platform to fix and
// upload again: the original columns, then error_line, error_code,
// error_field and error_message. A row with several problems is one line,
// with the codes, fields and messages of each joined by "; ". The
// national_id column is masked so the file holds no national ID.
type RejectWriter struct {
	w       *csv.Writer
	ncol    int
	nid     int // index of national_id, or -1
	buf     []string
	written int
}

// RejectColumns are the columns RejectWriter appends to the original ones.
var RejectColumns = []string{"error_line", "error_code", "error_field", "error_message"}

// NewRejectWriter writes the header (the original header plus
// RejectColumns) to w and returns a writer of rejected rows.
func NewRejectWriter(w io.Writer, header []string) (*RejectWriter, error) {
	rw := &RejectWriter{w: csv.NewWriter(w), ncol: len(header), nid: -1}
	for i, name := range header {
		if columnName(name, i == 0) == csvColumns[colNationalID] {
			rw.nid = i
		}
	}
	rw.buf = make([]string, 0, len(header)+len(RejectColumns))
	rw.buf = append(append(rw.buf, header...), RejectColumns...)
	if err := rw.w.Write(rw.buf); err != nil {
		return nil, fmt.Errorf("write reject header: %w", err)
	}
	return rw, nil
}

// Write writes one rejected row. A row without Err is skipped. A record
// with more fields than the header is cut to the header's width, one with
// fewer is padded with empty fields.
func (w *RejectWriter) Write(row Row) error {
	if row.Err == nil {
		return nil
	}
	w.buf = w.buf[:0]
	for i := range w.ncol {
		v := ""
		if i < len(row.Record) {
			v = row.Record[i]
		}
		if i == w.nid && v != "" {
			v = maskID(v)
		}
		w.buf = append(w.buf, v)
	}
	var codes, fields, msgs []string
	for _, d := range row.Err.Details {
		codes = append(codes, d.Code)
		fields = append(fields, d.Field)
		m := d.Message
		if d.Field != "" {
			m = d.Field + ": " + m
		}
		msgs = append(msgs, m)
	}
	if len(row.Err.Details) == 0 {
		codes, msgs = []string{row.Err.Code}, []string{row.Err.Message}
	}
	w.buf = append(w.buf, strconv.Itoa(row.Line), strings.Join(codes, "; "), strings.Join(fields, "; "), strings.Join(msgs, "; "))
	if err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("write reject for line %d: %w", row.Line, err)
	}
	w.written++
	return nil
}

// Rows returns the number of rejected rows written.
func (w *RejectWriter) Rows() int { return w.written }

// Flush writes any buffered data to the underlying writer.
func (w *RejectWriter) Flush() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("flush rejects: %w", err)
	}
	return nil
}

// maskID hides all but the last two characters of a national ID, and all
// of a short one.
func maskID(s string) string {
	rs := []rune(s)
	show := 0
	if len(rs) >= 6 {
		show = 2
	}
	return strings.Repeat("*", len(rs)-show) + string(rs[len(rs)-show:])
}
