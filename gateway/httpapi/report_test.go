package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/xuri/excelize/v2"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/report"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func init() {
	openapi3filter.RegisterBodyDecoder(xlsxType, openapi3filter.FileBodyDecoder)
}

// fakeReports holds two platforms' October in two currencies, one open
// statement each, and one receipt in suspense; fail makes every report
// fail before its first row.
type fakeReports struct {
	fail      bool
	failAfter int // lines after which the report fails; 0: never
	filter    postgres.ReportFilter
}

var reportRun = postgres.ReportRun{ID: 7, AsOf: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}

func (f *fakeReports) ReconciliationReport(_ context.Context, flt postgres.ReportFilter, start func(postgres.ReportRun) error, add func(report.Line) error) error {
	f.filter = flt
	if f.fail {
		return errors.New("connection refused")
	}
	if err := start(reportRun); err != nil {
		return err
	}
	for _, l := range []report.Line{
		{PlatformID: "coupang", PlatformName: "Delivery", SchemeID: "kr-ei", Period: flt.Period, Currency: "KRW", Expected: 16000,
			Advised: 16000, Paid: 10000, InterestAccrued: 40, Status: "underpaid", DueDate: calendar.D(2026, 11, 10),
			References: []string{"RF18KREI0000012026100000"}, Mismatches: 2},
		{PlatformID: "grab", PlatformName: "Ride", SchemeID: "my-gig", Period: flt.Period, Currency: "MYR", Expected: 125,
			Paid: 125, Overpaid: 500, Status: "overpaid", DueDate: calendar.D(2026, 11, 16), References: []string{"RF47MYGW0000022026100000"}},
	} {
		if err := add(l); err != nil {
			return err
		}
	}
	for i := range f.failAfter {
		l := report.Line{PlatformID: fmt.Sprintf("p%06d", i), SchemeID: "my-gig", Period: flt.Period, Currency: "MYR", Expected: 125, Status: "open"}
		if err := add(l); err != nil {
			return err
		}
	}
	if f.failAfter > 0 {
		return errors.New("connection reset")
	}
	return nil
}

func (f *fakeReports) AgingReport(_ context.Context, flt postgres.ReportFilter, start func(postgres.ReportRun) error, add func(report.OpenItem) error) error {
	f.filter = flt
	if err := start(reportRun); err != nil {
		return err
	}
	for _, it := range []report.OpenItem{
		{PlatformID: "coupang", SchemeID: "kr-ei", Period: "2026-10", StatementID: "RF18", Currency: "KRW", DueDate: calendar.D(2026, 11, 10), Open: 6000},
		{PlatformID: "kakao", SchemeID: "kr-ei", Period: "2026-10", StatementID: "RF19", Currency: "KRW", DueDate: calendar.D(2026, 8, 10), Open: 32000},
	} {
		if err := add(it); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeReports) SuspenseReport(_ context.Context, start func(postgres.ReportRun) error, add func(report.SuspenseLine) error) error {
	if err := start(postgres.ReportRun{}); err != nil {
		return err
	}
	return add(report.SuspenseLine{ReceiptID: "12", Reason: "unidentified", Amount: gateway.Money{Amount: 777, Currency: "KRW"},
		Received: gateway.Money{Amount: 777, Currency: "KRW"}, ValueDate: calendar.D(2026, 11, 12), DebtorAccount: "999-000",
		Remittance: "=HYPERLINK(\"x\")", Account: "KR-COLLECT-01", BankStatement: "S-KRW", ImportID: 1})
}

func newReportServer(t *testing.T) (*booksRig, *fakeReports) {
	f := &fakeReports{}
	r := newAccRig(t, func(c *httpapi.Config) {
		c.Reports = f
		c.Now = func() time.Time { return time.Date(2026, 12, 20, 9, 0, 0, 0, time.UTC) }
	})
	return &booksRig{accRig: r, t: t}, f
}

func (r *booksRig) get(who, target, accept string) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Authorization", "Bearer "+r.tokens[who])
	rec := httptest.NewRecorder()
	r.e.ServeHTTP(rec, req)
	checkContract(r.t, req, rec)
	return rec
}

func TestReconciliationReportAPI(t *testing.T) {
	s, store := newReportServer(t)

	rec := s.get("finance", "/v1/finance/reports/reconciliation?period=2026-10&scheme=kr-ei&platform=coupang", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Content-Disposition") != "" {
		t.Fatalf("json = %d %s %s", rec.Code, rec.Header(), rec.Body)
	}
	if store.filter != (postgres.ReportFilter{Period: "2026-10", SchemeID: "kr-ei", PlatformID: "coupang"}) {
		t.Errorf("filter = %+v", store.filter)
	}
	var doc struct {
		RunID int64 `json:"run_id"`
		Lines []struct {
			Variance gateway.Money `json:"variance"`
			Interest gateway.Money `json:"interest"`
		} `json:"lines"`
		Totals []struct {
			Currency string        `json:"currency"`
			Received gateway.Money `json:"received"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.RunID != 7 || len(doc.Lines) != 2 || doc.Lines[0].Variance != gateway.MustParseMoney("KRW", "-6000") ||
		doc.Lines[1].Variance != gateway.MustParseMoney("MYR", "5.00") || doc.Lines[0].Interest.Amount != 40 || len(doc.Totals) != 2 ||
		doc.Totals[1].Received != gateway.MustParseMoney("MYR", "6.25") {
		t.Errorf("json = %s", rec.Body)
	}

	// CSV by ?format=, XLSX by Accept.
	rec = s.get("finance", "/v1/finance/reports/reconciliation?period=2026-10&format=csv", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		rec.Header().Get("Content-Disposition") != "attachment; filename=reconciliation-2026-10.csv" {
		t.Fatalf("csv = %d %s", rec.Code, rec.Header())
	}
	recs, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][8] != "-6000" || recs[2][8] != "5.00" {
		t.Errorf("csv = %q, %v", recs, err)
	}
	rec = s.get("finance", "/v1/finance/reports/reconciliation?period=2026-10", "text/html, "+xlsxType+";q=0.9")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != xlsxType ||
		rec.Header().Get("Content-Disposition") != "attachment; filename=reconciliation-2026-10.xlsx" {
		t.Fatalf("xlsx = %d %s", rec.Code, rec.Header())
	}
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for ref, want := range map[string]string{"A2": "coupang", "F2": "16000", "I2": "-6000", "I3": "5.00", "L2": "40"} {
		if got, _ := f.GetCellValue("lines", ref, excelize.Options{RawCellValue: true}); got != want {
			t.Errorf("lines!%s = %q, want %q", ref, got, want)
		}
	}
	if got, _ := f.GetCellValue("about", "B6"); got != "7" {
		t.Errorf("about!B6 (run_id) = %q", got)
	}

	for _, target := range []string{
		"/v1/finance/reports/reconciliation",
		"/v1/finance/reports/reconciliation?period=october",
		"/v1/finance/reports/reconciliation?period=2026-10&format=pdf",
	} {
		if rec := s.get("finance", target, ""); rec.Code != http.StatusBadRequest {
			t.Errorf("%s = %d %s, want 400", target, rec.Code, rec.Body)
		}
	}
	// A failure before the first byte is an error answer, not half a file.
	store.fail = true
	if rec := s.get("finance", "/v1/finance/reports/reconciliation?period=2026-10&format=xlsx", ""); rec.Code != http.StatusInternalServerError ||
		!strings.Contains(rec.Header().Get("Content-Type"), "json") {
		t.Errorf("failing store = %d %s", rec.Code, rec.Header())
	}
	store.fail = false

	// Finance and admin keys read reports; platform and compliance keys do
	// not.
	for who, want := range map[string]int{"finance": 200, "admin": 200, "victim": 403, "other": 403, "compliance": 403} {
		if rec := s.get(who, "/v1/finance/reports/suspense", ""); rec.Code != want {
			t.Errorf("%s key = %d, want %d", who, rec.Code, want)
		}
	}
}

func TestAgingAndSuspenseAPI(t *testing.T) {
	s, store := newReportServer(t)
	rec := s.get("finance", "/v1/finance/reports/aging?scheme=kr-ei", "application/json")
	if rec.Code != http.StatusOK {
		t.Fatalf("aging = %d %s", rec.Code, rec.Body)
	}
	var doc struct {
		AsOf      string `json:"as_of"`
		Platforms []struct {
			PlatformID string        `json:"platform_id"`
			Days31To60 gateway.Money `json:"days_31_60"`
			Over90     gateway.Money `json:"over_90"`
		} `json:"platforms"`
		Totals []struct {
			Total gateway.Money `json:"total"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// As of today, 20 December: 40 and 132 days past due.
	if doc.AsOf != "2026-12-20" || len(doc.Platforms) != 2 || doc.Platforms[0].Days31To60.Amount != 6000 || doc.Platforms[1].Over90.Amount != 32000 ||
		len(doc.Totals) != 1 || doc.Totals[0].Total != gateway.MustParseMoney("KRW", "38000") || store.filter.SchemeID != "kr-ei" {
		t.Errorf("aging = %s", rec.Body)
	}
	rec = s.get("finance", "/v1/finance/reports/aging?as_of=2026-11-10&format=csv", "")
	recs, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][4] != "6000" || recs[2][8] != "32000" ||
		rec.Header().Get("Content-Disposition") != "attachment; filename=aging-2026-11-10.csv" {
		t.Errorf("aging csv = %q, %v, %s", recs, err, rec.Header())
	}
	if rec := s.get("finance", "/v1/finance/reports/aging?as_of=tomorrow", ""); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "as_of") {
		t.Errorf("bad as_of = %d %s", rec.Code, rec.Body)
	}

	rec = s.get("finance", "/v1/finance/reports/suspense", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"run_id":0`) || !strings.Contains(rec.Body.String(), `"amount":{"currency":"KRW","value":"777"}`) {
		t.Errorf("suspense = %d %s", rec.Code, rec.Body)
	}
	rec = s.get("finance", "/v1/finance/reports/suspense?format=csv", "")
	if recs, err := csv.NewReader(rec.Body).ReadAll(); err != nil || len(recs) != 2 || recs[1][10] != `'=HYPERLINK("x")` {
		t.Errorf("suspense csv = %q, %v", recs, err)
	}
	rec = s.get("finance", "/v1/finance/reports/suspense?format=xlsx", "")
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, _ := f.GetCellValue("items", "K2"); got != `=HYPERLINK("x")` {
		t.Errorf("remittance cell = %q", got)
	}
	if formula, _ := f.GetCellFormula("items", "K2"); formula != "" {
		t.Errorf("a text became a formula: %q", formula)
	}
}

// TestReportCutShort: a report that fails after its first bytes went out
// cuts the connection, so the client sees an error, not a shorter file
// that looks whole.
func TestReportCutShort(t *testing.T) {
	s, store := newReportServer(t)
	store.failAfter = 2000
	srv := httptest.NewServer(s.e)
	defer srv.Close()
	for _, format := range []string{"json", "csv", "xlsx"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/finance/reports/reconciliation?period=2026-10&format="+format, nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens["finance"])
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err == nil {
			t.Errorf("%s: %d, %d bytes read, %v; want the body cut short with an error", format, resp.StatusCode, len(body), err)
		}
	}
}
