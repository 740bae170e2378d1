package report

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// xlsxWriter writes an Office Open XML workbook, streamed: each table is a
// worksheet whose XML is written row by row straight into the zip entry,
// and the parts that list the sheets (workbook, relationships, content
// types) are written last, when the sheets are known. It keeps no shared
// strings: text cells are inline strings. Amounts are numeric cells with
// the exact decimal as their text and a number format with as many
// decimals as the currency has; dates are date cells (yyyy-mm-dd). Each
// sheet has a bold header row, frozen, with a filter.
type xlsxWriter struct {
	zip    *zip.Writer
	flate  *flate.Writer // the entries' compressor
	buf    *bufio.Writer // over the open sheet's zip entry
	meta   []Field
	sheets []sheetInfo
	table  *Table
	refs   []string // column letters of the open sheet
	row    int      // rows written to the open sheet, header included
	b      []byte
	err    error
}

type sheetInfo struct {
	name       string
	cols, rows int
}

// Cell styles, the indexes of cellXfs in styles.xml.
const (
	styleHeader   = 1
	styleMoney0   = 2 // + the currency's exponent, 0 to 4
	styleDate     = 7
	maxStyleDigit = 4
)

// maxSheetRows is the most rows a worksheet holds, its header included.
var maxSheetRows = 1 << 20

// excelEpoch is day 0 of the 1900 date system as spreadsheets count it
// (1899-12-30, so that 1900-03-01 is 61).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

func newXLSX(w io.Writer, meta []Field) *xlsxWriter {
	x := &xlsxWriter{zip: zip.NewWriter(w), meta: meta}
	// One compressor serves every entry in turn (the zip closes an entry
	// before it opens the next): a new one per entry would be a megabyte of
	// garbage each.
	x.zip.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		if x.flate == nil {
			var err error
			x.flate, err = flate.NewWriter(out, flate.BestSpeed)
			return x.flate, err
		}
		x.flate.Reset(out)
		return x.flate, nil
	})
	return x
}

// entry starts a zip entry and points buf at it.
func (w *xlsxWriter) entry(name string) error {
	f, err := w.zip.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return err
	}
	if w.buf == nil {
		w.buf = bufio.NewWriterSize(f, 32<<10)
	} else {
		w.buf.Reset(f)
	}
	return nil
}

func (w *xlsxWriter) Begin(t *Table) error {
	if w.err != nil {
		return w.err
	}
	w.err = w.begin(t)
	return w.err
}

func (w *xlsxWriter) begin(t *Table) error {
	if err := w.endSheet(); err != nil {
		return err
	}
	if len(t.Name) == 0 || len(t.Name) > 31 {
		return fmt.Errorf("sheet name %q is not 1 to 31 characters", t.Name)
	}
	w.sheets = append(w.sheets, sheetInfo{name: t.Name, cols: len(t.Columns)})
	if err := w.entry(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(w.sheets))); err != nil {
		return err
	}
	w.table, w.row = t, 0
	w.refs = w.refs[:0]
	for i := range t.Columns {
		w.refs = append(w.refs, columnName(i))
	}
	b := append(w.b[:0], xml.Header...)
	b = append(b, `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`...)
	b = append(b, `<sheetViews><sheetView workbookViewId="0"`...)
	if len(w.sheets) == 1 {
		b = append(b, ` tabSelected="1"`...)
	}
	b = append(b, `><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>`...)
	b = append(b, `<sheetFormatPr defaultRowHeight="15"/><cols>`...)
	for i, c := range t.Columns {
		width := c.Width
		if width == 0 {
			width = max(10, len(c.Title)+2)
		}
		n := strconv.Itoa(i + 1)
		b = append(b, `<col min="`+n+`" max="`+n+`" width="`+strconv.Itoa(width)+`" customWidth="1"/>`...)
	}
	b = append(b, `</cols><sheetData>`...)
	w.b = b
	header := make([]Value, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = Text(c.Title)
	}
	return w.writeRow(header, styleHeader)
}

func (w *xlsxWriter) Row(values []Value) error {
	if w.err != nil {
		return w.err
	}
	if w.table == nil || len(values) != len(w.table.Columns) {
		w.err = fmt.Errorf("xlsx row of %d values out of place", len(values))
		return w.err
	}
	if w.row >= maxSheetRows {
		w.err = gateway.Errorf(gateway.ETOOLARGE, "sheet %s would have more than %d rows, the most a worksheet holds: ask for CSV", w.table.Name, maxSheetRows)
		return w.err
	}
	w.err = w.writeRow(values, 0)
	return w.err
}

// writeRow writes one row; style, when not 0, is every cell's.
func (w *xlsxWriter) writeRow(values []Value, style int) error {
	w.row++
	r := strconv.Itoa(w.row)
	b := append(w.b, `<row r="`+r+`">`...)
	for i, v := range values {
		ref := w.refs[i] + r
		switch v.kind {
		case KindText:
			if v.text == "" {
				continue
			}
			b = append(b, `<c r="`+ref+`" t="inlineStr"`...)
			b = appendStyle(b, style)
			b = append(b, `><is><t xml:space="preserve">`...)
			b = appendEscaped(b, v.text)
			b = append(b, `</t></is></c>`...)
		case KindInt:
			b = append(b, `<c r="`+ref+`"`...)
			b = appendStyle(b, style)
			b = append(b, `><v>`...)
			b = strconv.AppendInt(b, v.num, 10)
			b = append(b, `</v></c>`...)
		case KindMoney:
			exp := min(max(v.cur.Exponent(), 0), maxStyleDigit)
			b = append(b, `<c r="`+ref+`"`...)
			b = appendStyle(b, styleMoney0+exp)
			b = append(b, `><v>`...)
			b = append(b, v.money().String()...)
			b = append(b, `</v></c>`...)
		case KindDate:
			if v.date.IsZero() {
				continue
			}
			days := int64(v.date.Start(time.UTC).Sub(excelEpoch) / (24 * time.Hour))
			b = append(b, `<c r="`+ref+`"`...)
			b = appendStyle(b, styleDate)
			b = append(b, `><v>`...)
			b = strconv.AppendInt(b, days, 10)
			b = append(b, `</v></c>`...)
		case KindBool:
			b = append(b, `<c r="`+ref+`" t="b"`...)
			b = appendStyle(b, style)
			b = append(b, `><v>`...)
			b = strconv.AppendInt(b, v.num, 10)
			b = append(b, `</v></c>`...)
		}
	}
	b = append(b, `</row>`...)
	_, err := w.buf.Write(b)
	w.b = b[:0]
	return err
}

func appendStyle(b []byte, style int) []byte {
	if style == 0 {
		return b
	}
	return append(append(append(b, ` s="`...), strconv.Itoa(style)...), '"')
}

// appendEscaped appends s escaped for XML text, with characters XML 1.0
// cannot hold replaced by U+FFFD.
func appendEscaped(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '\t' || r == '\n' || r == '\r':
			b = append(b, "&#x"...)
			b = strconv.AppendInt(b, int64(r), 16)
			b = append(b, ';')
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF):
			b = append(b, "\uFFFD"...)
		default:
			b = append(b, string(r)...)
		}
	}
	return b
}

// columnName returns the letters of column i (0 is A, 26 is AA).
func columnName(i int) string {
	var s []byte
	for i++; i > 0; i = (i - 1) / 26 {
		s = append([]byte{byte('A' + (i-1)%26)}, s...)
	}
	return string(s)
}

// endSheet closes the open sheet, if any.
func (w *xlsxWriter) endSheet() error {
	if w.table == nil {
		return nil
	}
	last := &w.sheets[len(w.sheets)-1]
	last.rows = w.row
	b := append(w.b[:0], `</sheetData><autoFilter ref="A1:`+columnName(last.cols-1)+strconv.Itoa(max(w.row, 1))+`"/>`...)
	b = append(b, `<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`...)
	w.table = nil
	if _, err := w.buf.Write(b); err != nil {
		return err
	}
	w.b = b[:0]
	return w.buf.Flush()
}

func (w *xlsxWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.close()
	if w.err == nil {
		w.err = fmt.Errorf("xlsx writer closed")
		return nil
	}
	return w.err
}

func (w *xlsxWriter) close() error {
	if len(w.meta) > 0 {
		if err := w.begin(&Table{Name: "about", Columns: []Column{
			{Key: "field", Title: "Field", Kind: KindText, Width: 16},
			{Key: "value", Title: "Value", Kind: KindText, Width: 28}}}); err != nil {
			return err
		}
		for _, f := range w.meta {
			if err := w.writeRow([]Value{Text(f.Key), f.Value}, 0); err != nil {
				return err
			}
		}
	}
	if len(w.sheets) == 0 {
		if err := w.begin(&Table{Name: "empty", Columns: []Column{{Key: "empty", Title: "", Kind: KindText}}}); err != nil {
			return err
		}
	}
	if err := w.endSheet(); err != nil {
		return err
	}
	parts := []struct {
		name string
		body func() string
	}{
		{"xl/workbook.xml", w.workbook},
		{"xl/_rels/workbook.xml.rels", w.workbookRels},
		{"xl/styles.xml", func() string { return stylesXML }},
		{"[Content_Types].xml", w.contentTypes},
		{"_rels/.rels", func() string { return rootRels }},
	}
	for _, p := range parts {
		if err := w.entry(p.name); err != nil {
			return err
		}
		if _, err := w.buf.WriteString(xml.Header + p.body()); err != nil {
			return err
		}
		if err := w.buf.Flush(); err != nil {
			return err
		}
	}
	return w.zip.Close()
}

func (w *xlsxWriter) workbook() string {
	s := `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`
	for i, sh := range w.sheets {
		n := strconv.Itoa(i + 1)
		s += `<sheet name="` + string(appendEscaped(nil, sh.name)) + `" sheetId="` + n + `" r:id="rId` + n + `"/>`
	}
	s += `</sheets><definedNames>`
	for i, sh := range w.sheets {
		s += `<definedName name="_xlnm._FilterDatabase" localSheetId="` + strconv.Itoa(i) + `" hidden="1">'` +
			string(appendEscaped(nil, sh.name)) + `'!$A$1:$` + columnName(sh.cols-1) + `$` + strconv.Itoa(max(sh.rows, 1)) + `</definedName>`
	}
	return s + `</definedNames></workbook>`
}

func (w *xlsxWriter) workbookRels() string {
	s := `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
	for i := range w.sheets {
		n := strconv.Itoa(i + 1)
		s += `<Relationship Id="rId` + n + `" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet` + n + `.xml"/>`
	}
	return s + `<Relationship Id="rId` + strconv.Itoa(len(w.sheets)+1) + `" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`
}

func (w *xlsxWriter) contentTypes() string {
	s := `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`
	for i := range w.sheets {
		s += `<Override PartName="/xl/worksheets/sheet` + strconv.Itoa(i+1) + `.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`
	}
	return s + `</Types>`
}

const rootRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`

// stylesXML holds the cell styles: 0 plain, 1 bold header, 2 to 6 amounts
// with 0 to 4 decimals, 7 dates.
const stylesXML = `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
	`<numFmts count="4">` +
	`<numFmt numFmtId="164" formatCode="#,##0.0"/>` +
	`<numFmt numFmtId="165" formatCode="#,##0.000"/>` +
	`<numFmt numFmtId="166" formatCode="#,##0.0000"/>` +
	`<numFmt numFmtId="167" formatCode="yyyy\-mm\-dd"/>` +
	`</numFmts>` +
	`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="8">` +
	`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
	`<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`</cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
	`</styleSheet>`
