package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/report"
)

func TestBucketBoundaries(t *testing.T) {
	due := calendar.D(2026, 11, 10)
	for _, c := range []struct {
		asOf calendar.Date
		days int
		want report.Bucket
	}{
		{calendar.D(2026, 11, 1), -9, report.NotDue},
		{calendar.D(2026, 11, 10), 0, report.NotDue},
		{calendar.D(2026, 11, 11), 1, report.Days1To30},
		{calendar.D(2026, 12, 10), 30, report.Days1To30},
		{calendar.D(2026, 12, 11), 31, report.Days31To60},
		{calendar.D(2027, 1, 9), 60, report.Days31To60},
		{calendar.D(2027, 1, 10), 61, report.Days61To90},
		{calendar.D(2027, 2, 8), 90, report.Days61To90},
		{calendar.D(2027, 2, 9), 91, report.Over90},
		{calendar.D(2030, 1, 1), 1148, report.Over90},
	} {
		if d := report.DaysPastDue(due, c.asOf); d != c.days {
			t.Errorf("days past due as of %s = %d, want %d", c.asOf, d, c.days)
		}
		if b := report.BucketOf(due, c.asOf); b != c.want {
			t.Errorf("bucket as of %s = %d, want %d", c.asOf, b, c.want)
		}
	}
}

func TestVariance(t *testing.T) {
	for _, c := range []struct {
		name                             string
		expected, paid, overpaid, wantVr int64
	}{
		{"paid", 16000, 16000, 0, 0},
		{"underpaid", 16000, 10000, 0, -6000},
		{"missing", 16000, 0, 0, -16000},
		{"overpaid", 16000, 16000, 500, 500},
	} {
		l := report.Line{Currency: "KRW", Expected: c.expected, Paid: c.paid, Overpaid: c.overpaid, InterestCharged: 40, InterestAccrued: 2}
		vr, err := l.Variance()
		if err != nil || vr != (gateway.Money{Amount: c.wantVr, Currency: "KRW"}) {
			t.Errorf("%s: variance = %v, %v; want %d", c.name, vr, err, c.wantVr)
		}
		if in, _ := l.Interest(); in.Amount != 42 {
			t.Errorf("%s: interest = %v, want 42", c.name, in)
		}
	}
}

// lines are three platforms in two currencies.
func lines() []report.Line {
	return []report.Line{
		{PlatformID: "coupang", PlatformName: "Delivery & Co <KR>", SchemeID: "kr-ei", Period: "2026-10", Currency: "KRW",
			Expected: 16000, Advised: 16000, Paid: 10000, InterestAccrued: 40, Status: "underpaid", DueDate: calendar.D(2026, 11, 10),
			References: []string{"RF18KREI0000012026100000"}},
		{PlatformID: "grab", PlatformName: "=Ride", SchemeID: "my-gig", Period: "2026-10", Currency: "MYR",
			Expected: 123456, Advised: 0, Paid: 123456, Overpaid: 544, InterestCharged: 7, Status: "overpaid", Late: true,
			DueDate: calendar.D(2026, 11, 15), References: []string{"RF1", "RF2"}, Mismatches: 3},
		{PlatformID: "kakao", SchemeID: "kr-ei", Period: "2026-10", Currency: "KRW",
			Expected: 5000, Status: "missing", DueDate: calendar.D(2026, 11, 10)},
	}
}

func write(t *testing.T, f report.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	r := report.NewReconciliation(report.NewWriter(f, &buf, []report.Field{{Key: "report", Value: report.Text("reconciliation")},
		{Key: "period", Value: report.Text("2026-10")}}))
	for _, l := range lines() {
		if err := r.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTotalsPerCurrency: KRW and MYR lines are summed apart.
func TestTotalsPerCurrency(t *testing.T) {
	var ts report.Totals
	for _, l := range lines() {
		if err := ts.Add(&l); err != nil {
			t.Fatal(err)
		}
	}
	got := ts.List()
	if len(got) != 2 || got[0].Currency != "KRW" || got[1].Currency != "MYR" {
		t.Fatalf("totals = %+v, want KRW then MYR", got)
	}
	krw, myr := got[0], got[1]
	if krw.Lines != 2 || krw.Expected.Amount != 21000 || krw.Received.Amount != 10000 || krw.Variance.Amount != -11000 ||
		krw.Interest.Amount != 40 || krw.Expected.Currency != "KRW" {
		t.Errorf("KRW total = %+v", krw)
	}
	if myr.Lines != 1 || myr.Expected.Amount != 123456 || myr.Received.Amount != 124000 || myr.Variance.Amount != 544 || myr.Interest.Amount != 7 {
		t.Errorf("MYR total = %+v", myr)
	}
}

func TestAgingReport(t *testing.T) {
	asOf := calendar.D(2027, 1, 9)
	var buf bytes.Buffer
	a := report.NewAging(report.NewWriter(report.CSV, &buf, nil), asOf)
	for _, it := range []report.OpenItem{
		{PlatformID: "coupang", Currency: "KRW", DueDate: calendar.D(2026, 11, 10), Open: 6000},    // 60 days
		{PlatformID: "coupang", Currency: "KRW", DueDate: calendar.D(2026, 12, 10), Open: 1000},    // 30 days
		{PlatformID: "coupang", Currency: "KRW", DueDate: calendar.D(2027, 1, 9), Open: 0},         // nothing open: skipped
		{PlatformID: "coupang", Currency: "MYR", DueDate: calendar.D(2027, 2, 15), Open: 1050},     // not yet due
		{PlatformID: "grab", Currency: "MYR", DueDate: calendar.D(2026, 10, 10), Open: 250},        // 91 days
		{PlatformID: "kakao", Currency: "KRW", DueDate: calendar.D(2026, 10, 11), Open: 9_000_000}, // 90 days
	} {
		if err := a.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	totals := a.Totals()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"platform_id", "platform_name", "currency", "statements", "not_due", "days_1_30", "days_31_60", "days_61_90", "over_90", "total"},
		{"coupang", "", "KRW", "2", "0", "1000", "6000", "0", "0", "7000"},
		{"coupang", "", "MYR", "1", "10.50", "0.00", "0.00", "0.00", "0.00", "10.50"},
		{"grab", "", "MYR", "1", "0.00", "0.00", "0.00", "0.00", "2.50", "2.50"},
		{"kakao", "", "KRW", "1", "0", "0", "0", "9000000", "0", "9000000"},
	}
	if len(recs) != len(want) {
		t.Fatalf("aging csv = %q", recs)
	}
	for i := range want {
		if strings.Join(recs[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("row %d = %q, want %q", i, recs[i], want[i])
		}
	}
	if len(totals) != 2 || totals[0].Total.Amount != 9_007_000 || totals[0].Buckets[report.Days61To90].Amount != 9_000_000 ||
		totals[1].Total != (gateway.Money{Amount: 1300, Currency: "MYR"}) || totals[1].Items != 2 {
		t.Errorf("totals = %+v", totals)
	}

	b := report.NewAging(report.NewWriter(report.CSV, &bytes.Buffer{}, nil), asOf)
	b.Add(report.OpenItem{PlatformID: "grab", Currency: "MYR", Open: 1})
	if err := b.Add(report.OpenItem{PlatformID: "coupang", Currency: "MYR", Open: 1}); err == nil {
		t.Error("items out of order were taken")
	}
}

func TestReconciliationCSV(t *testing.T) {
	recs, err := csv.NewReader(bytes.NewReader(write(t, report.CSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][0] != "platform_id" || recs[0][8] != "variance" {
		t.Fatalf("csv = %q", recs)
	}
	grab := recs[2]
	if grab[1] != "'=Ride" || grab[5] != "1234.56" || grab[7] != "1240.00" || grab[8] != "5.44" || grab[11] != "0.07" ||
		grab[13] != "0.00" || grab[15] != "true" || grab[16] != "2026-11-15" || grab[17] != "RF1 RF2" || grab[18] != "3" {
		t.Errorf("grab row = %q", grab)
	}
	if krw := recs[1]; krw[5] != "16000" || krw[8] != "-6000" {
		t.Errorf("coupang row = %q", krw)
	}
}

func TestReconciliationJSON(t *testing.T) {
	var doc struct {
		Report string `json:"report"`
		Period string `json:"period"`
		Lines  []struct {
			PlatformID string        `json:"platform_id"`
			Variance   gateway.Money `json:"variance"`
			DueDate    string        `json:"due_date"`
			Late       bool          `json:"late"`
			Mismatches int           `json:"mismatches"`
		} `json:"lines"`
		Totals []struct {
			Currency string        `json:"currency"`
			Expected gateway.Money `json:"expected"`
		} `json:"totals"`
	}
	out := write(t, report.JSON)
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Report != "reconciliation" || doc.Period != "2026-10" || len(doc.Lines) != 3 || len(doc.Totals) != 2 {
		t.Fatalf("json = %s", out)
	}
	if l := doc.Lines[1]; l.PlatformID != "grab" || l.Variance != gateway.MustParseMoney("MYR", "5.44") || l.DueDate != "2026-11-15" || !l.Late || l.Mismatches != 3 {
		t.Errorf("grab = %+v", l)
	}
	if doc.Totals[0].Expected != gateway.MustParseMoney("KRW", "21000") {
		t.Errorf("totals = %+v", doc.Totals)
	}
	// An empty report is still a document.
	var buf bytes.Buffer
	if err := report.NewReconciliation(report.NewWriter(report.JSON, &buf, nil)).Close(); err != nil || buf.String() != `{"lines":[],"totals":[]}`+"\n" {
		t.Errorf("empty = %s, %v", buf.String(), err)
	}
}

// TestReconciliationXLSX reads the workbook back with a spreadsheet
// library and checks cells, types and number formats.
func TestReconciliationXLSX(t *testing.T) {
	f, err := excelize.OpenReader(bytes.NewReader(write(t, report.XLSX)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "lines,totals,about" {
		t.Fatalf("sheets = %q", got)
	}
	cell := func(sheet, ref string, raw bool) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: raw})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		sheet, ref, raw, shown string
	}{
		{"lines", "A1", "Platform", "Platform"},
		{"lines", "I1", "Variance", "Variance"},
		{"lines", "A2", "coupang", "coupang"},
		{"lines", "B2", "Delivery & Co <KR>", "Delivery & Co <KR>"},
		{"lines", "F2", "16000", "16,000"},
		{"lines", "I2", "-6000", "-6,000"},
		{"lines", "B3", "=Ride", "=Ride"},
		{"lines", "F3", "1234.56", "1,234.56"},
		{"lines", "H3", "1240.00", "1,240.00"},
		{"lines", "L3", "0.07", "0.07"},
		{"lines", "Q3", "46341", "2026-11-15"},
		{"lines", "R3", "RF1 RF2", "RF1 RF2"},
		{"lines", "S3", "3", "3"},
		{"lines", "B4", "", ""},
		{"totals", "A2", "KRW", "KRW"},
		{"totals", "C2", "21000", "21,000"},
		{"totals", "F3", "5.44", "5.44"},
		{"about", "B3", "2026-10", "2026-10"},
	} {
		if got := cell(c.sheet, c.ref, true); got != c.raw {
			t.Errorf("%s!%s raw = %q, want %q", c.sheet, c.ref, got, c.raw)
		}
		if got := cell(c.sheet, c.ref, false); got != c.shown {
			t.Errorf("%s!%s shown = %q, want %q", c.sheet, c.ref, got, c.shown)
		}
	}
	if typ, _ := f.GetCellType("lines", "F3"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("an amount's cell type = %v, want a number", typ)
	}
	if typ, _ := f.GetCellType("lines", "P3"); typ != excelize.CellTypeBool {
		t.Errorf("late's cell type = %v, want a boolean", typ)
	}
	rows, err := f.GetRows("lines")
	if err != nil || len(rows) != 4 {
		t.Errorf("lines rows = %d, %v", len(rows), err)
	}
	panes, err := f.GetPanes("lines")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v; want the header frozen", panes, err)
	}
}

func TestFormats(t *testing.T) {
	for in, want := range map[string]report.Format{"json": report.JSON, "CSV": report.CSV, "xlsx": report.XLSX} {
		if f, err := report.ParseFormat(in); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, f, err)
		}
	}
	if _, err := report.ParseFormat("pdf"); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("pdf: %v", err)
	}
	if d := report.XLSX.Disposition("reconciliation-2026-10"); d != `attachment; filename=reconciliation-2026-10.xlsx` {
		t.Errorf("disposition = %s", d)
	}
	for _, p := range []string{"2026-10", "2026-Q4", "2026", "FY2026-Q1", "FY2026"} {
		if err := report.ValidPeriod(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{"", "2026-13", "26-10", "2026-10'; --", "2026-Q5"} {
		if err := report.ValidPeriod(p); gateway.ErrorCode(err) != gateway.EINVALID {
			t.Errorf("%q: %v, want invalid", p, err)
		}
	}
}
