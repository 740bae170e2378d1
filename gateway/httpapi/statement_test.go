package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/matching"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// fakeBooks serves statements, advice, bank imports and matching results
// from memory.
type fakeBooks struct {
	statements []postgres.IssuedStatement
	lines      map[string][]statement.Line
	advices    map[string]statement.Advice // by ref
	imports    map[string]bool             // file contents seen
	decisions  []books.Decision
}

func myr(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: "MYR"} }

func newFakeBooks() *fakeBooks {
	st := postgres.IssuedStatement{SchemeID: "my-gig", BookedPeriod: "2026-10", LineCount: 2}
	st.Statement = statement.Statement{ID: "RF18MYGW0000012026100000", Key: statement.Key{Platform: victim, Scheme: "MYGW", Period: "2026-10"},
		Kind: statement.Original, Reference: "RF18MYGW0000012026100000", Currency: "MYR", Worker: myr(425), Platform: myr(10),
		Total: myr(435), DueDate: calendar.D(2026, 11, 16), IssuedAt: time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)}
	other := st
	other.ID, other.Reference, other.Key.Platform = "RF47MYGW0000022026100000", "RF47MYGW0000022026100000", "other"
	return &fakeBooks{statements: []postgres.IssuedStatement{st, other},
		lines: map[string][]statement.Line{st.ID: {
			{WorkerKey: "w1", Worker: myr(125), Platform: myr(0)},
			{WorkerKey: "w2", Worker: myr(300), Platform: myr(10), Late: true},
		}},
		advices: map[string]statement.Advice{}, imports: map[string]bool{}}
}

func (f *fakeBooks) Statements(_ context.Context, flt postgres.StatementFilter) ([]postgres.IssuedStatement, error) {
	var out []postgres.IssuedStatement
	for _, s := range f.statements {
		if (flt.PlatformID == "" || s.Key.Platform == flt.PlatformID) && (flt.Period == "" || s.Key.Period == flt.Period) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeBooks) Statement(_ context.Context, id string) (postgres.IssuedStatement, error) {
	for _, s := range f.statements {
		if s.ID == id {
			return s, nil
		}
	}
	return postgres.IssuedStatement{}, gateway.Errorf(gateway.ENOTFOUND, "no statement %s", id)
}

func (f *fakeBooks) EachStatementLine(_ context.Context, st *postgres.IssuedStatement, fn func(statement.Line) error) error {
	for _, l := range f.lines[st.ID] {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeBooks) SubmitAdvice(_ context.Context, ref string, a statement.Advice) (postgres.StoredAdvice, error) {
	_, seen := f.advices[ref]
	f.advices[ref] = a
	return postgres.StoredAdvice{Advice: a, Ref: ref, Source: "api", LineCount: len(a.Lines), Created: !seen,
		ReceivedAt: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)}, nil
}

func (f *fakeBooks) ImportAdviceCSV(_ context.Context, platformID string, r io.Reader) ([]postgres.StoredAdvice, error) {
	advs, err := statement.ParseAdviceCSV(r, platformID, statement.CSVConfig{})
	if err != nil {
		return nil, err
	}
	out := make([]postgres.StoredAdvice, len(advs))
	for i, a := range advs {
		a.ID = "7"
		out[i] = postgres.StoredAdvice{Advice: a, Ref: "csv-1", Source: "csv", LineCount: len(a.Lines), Created: true}
	}
	return out, nil
}

func (f *fakeBooks) run(trigger string) books.RunReport {
	return books.RunReport{RunID: 3, Trigger: trigger, AsOf: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Statements: 2, Receipts: 1,
		Allocations: 1, Outcomes: map[matching.Status]int{matching.StatusUnderpaid: 1}, Digest: strings.Repeat("ab", 32)}
}

func (f *fakeBooks) ImportBankFile(_ context.Context, r io.Reader, opt books.ImportOptions) (books.ImportReport, error) {
	b, _ := io.ReadAll(r)
	if strings.Contains(string(b), "DOCTYPE") {
		return books.ImportReport{}, &gateway.Error{Code: gateway.EINVALID, Message: "malformed bank file",
			Details: []gateway.Detail{{Field: "Document", Line: 2, Code: bankstatement.CodeDoctype, Message: "a DOCTYPE is not allowed"}}}
	}
	if f.imports[string(b)] {
		return books.ImportReport{ImportID: 1, Format: bankstatement.Camt053V2, Duplicate: true}, nil
	}
	f.imports[string(b)] = true
	run := f.run(books.TriggerImport)
	return books.ImportReport{ImportID: 1, Format: bankstatement.Camt053V2, Statements: 1, Receipts: 1, Run: &run}, nil
}

func (f *fakeBooks) Reconcile(_ context.Context, trigger string) (books.RunReport, error) {
	return f.run(trigger), nil
}

func (f *fakeBooks) Match(_ context.Context, d books.Decision) (books.DecisionReport, error) {
	if strings.TrimSpace(d.Reason) == "" {
		return books.DecisionReport{}, gateway.Invalid("reason", "required", "a reason is required")
	}
	f.decisions = append(f.decisions, d)
	return books.DecisionReport{ID: "1", Applied: true, Run: f.run(books.TriggerDecision)}, nil
}

func (f *fakeBooks) Unmatch(ctx context.Context, d books.Decision) (books.DecisionReport, error) {
	return f.Match(ctx, d)
}

func (f *fakeBooks) Outcomes(context.Context, postgres.OutcomeFilter) ([]postgres.Outcome, error) {
	return []postgres.Outcome{{PlatformID: victim, SchemeID: "my-gig", Period: "2026-10", Currency: "MYR", Status: "underpaid",
		Due: 435, DueDate: calendar.D(2026, 11, 16), Paid: 400, Shortfall: 35, Accrued: 1, Advised: 435, Mismatches: 1,
		Statements: []postgres.OutcomeStatement{{ID: "RF18MYGW0000012026100000", Total: 435, DueDate: "2026-11-16", Paid: 400, Open: 35}},
		RunID:      3, AsOf: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}}, nil
}

func (f *fakeBooks) Mismatches(context.Context, string, string, string, int) ([]postgres.Mismatch, error) {
	return []postgres.Mismatch{{Kind: "unknown_worker", WorkerKey: "ghost", Currency: "MYR", Advised: 10, AdviceIDs: []string{"7"}}}, nil
}

func (f *fakeBooks) Suspense(context.Context) ([]postgres.SuspenseItem, error) {
	it := postgres.SuspenseItem{Amount: myr(5000), Reason: "unidentified"}
	it.ID, it.StatementRef, it.Account, it.ImportID = "12", "S-1", "564210002211", 1
	it.Receipt.Receipt = bankstatement.Receipt{Direction: bankstatement.Credit, Amount: myr(5000), Status: bankstatement.Booked,
		ValueDate: calendar.D(2026, 11, 10), BookingDate: calendar.D(2026, 11, 10), DebtorName: "Unknown Sdn Bhd"}
	return []postgres.SuspenseItem{it}, nil
}

func (f *fakeBooks) Decisions(context.Context, string) ([]postgres.DecisionResult, error) {
	d := postgres.DecisionResult{Applied: true, Ran: true}
	d.Decision = matching.Decision{ID: "1", Kind: matching.Match, ReceiptID: "12", StatementID: "RF18MYGW0000012026100000",
		Reason: "phone call", User: "finance:abcdefgh", At: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	return []postgres.DecisionResult{d}, nil
}

// booksRig is the access rig with the books served from fakeBooks.
type booksRig struct {
	*accRig
	t *testing.T
}

func newBooksServer(t *testing.T) (*booksRig, *fakeBooks) {
	b := newFakeBooks()
	r := newAccRig(t, func(c *httpapi.Config) {
		c.Statements, c.Advice, c.Finance, c.FinanceStore = b, b, b, b
	})
	return &booksRig{accRig: r, t: t}, b
}

// as sends a request with the key of who and checks the answer against
// the OpenAPI document.
func (r *booksRig) as(who, method, target, contentType string, body io.Reader) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(method, target, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+r.tokens[who])
	requestBodies.keep(req)
	rec := httptest.NewRecorder()
	r.e.ServeHTTP(rec, req)
	checkContract(r.t, req, rec)
	return rec
}

func TestStatementsAPI(t *testing.T) {
	s, _ := newBooksServer(t)
	rec := s.as("victim", http.MethodGet, "/v1/statements?period=2026-10", "", nil)
	var list struct {
		Statements []map[string]any `json:"statements"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != 200 || len(list.Statements) != 1 ||
		list.Statements[0]["reference_print"] != "RF18 MYGW 0000 0120 2610 0000" || list.Statements[0]["due_date"] != "2026-11-16" {
		t.Fatalf("list = %d %s", rec.Code, rec.Body)
	}
	if rec := s.as("victim", http.MethodGet, "/v1/statements?limit=0", "", nil); rec.Code != 400 {
		t.Errorf("limit 0 = %d", rec.Code)
	}
	rec = s.as("victim", http.MethodGet, "/v1/statements/RF18MYGW0000012026100000", "", nil)
	var one struct {
		Total gateway.Money `json:"total"`
		Lines []struct {
			WorkerKey string        `json:"worker_key"`
			Total     gateway.Money `json:"total"`
			Late      bool          `json:"late"`
		} `json:"lines"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &one); err != nil || rec.Code != 200 || one.Total.Amount != 435 || len(one.Lines) != 2 ||
		one.Lines[1].Total.Amount != 310 || !one.Lines[1].Late {
		t.Errorf("statement = %d %s (%v)", rec.Code, rec.Body, err)
	}
	// Finance reads every platform's.
	if rec := s.as("finance", http.MethodGet, "/v1/statements", "", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "RF47MYGW0000022026100000") {
		t.Errorf("finance list = %d %s", rec.Code, rec.Body)
	}
	if rec := s.as("finance", http.MethodGet, "/v1/statements/RF47MYGW0000022026100000", "", nil); rec.Code != 200 {
		t.Errorf("finance reads another platform's statement: %d", rec.Code)
	}
	// Another platform's statement does not exist for this platform.
	if rec := s.as("victim", http.MethodGet, "/v1/statements/RF47MYGW0000022026100000", "", nil); rec.Code != 404 {
		t.Errorf("other platform's statement = %d %s", rec.Code, rec.Body)
	}
}

func TestRemittanceAPI(t *testing.T) {
	s, b := newBooksServer(t)
	body := `{"advice_id":"adv-1","payment_reference":"RF18MYGW0000012026100000","amount":{"currency":"MYR","value":"4.35"},
		"value_date":"2026-11-09","lines":[{"worker_key":"w1","amount":{"currency":"MYR","value":"1.25"}},{"worker_key":"w2","amount":{"currency":"MYR","value":"3.10"}}]}`
	rec := s.as("victim", http.MethodPost, "/v1/remittances", "application/json", strings.NewReader(body))
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"status":"recorded"`) {
		t.Fatalf("first = %d %s", rec.Code, rec.Body)
	}
	if a := b.advices["adv-1"]; a.Platform != victim || a.Amount.Amount != 435 || len(a.Lines) != 2 || a.ValueDate != calendar.D(2026, 11, 9) {
		t.Errorf("advice handed on = %+v", a)
	}
	if rec := s.as("victim", http.MethodPost, "/v1/remittances", "application/json", strings.NewReader(body)); rec.Code != http.StatusOK ||
		!strings.Contains(rec.Body.String(), `"status":"duplicate"`) {
		t.Errorf("again = %d %s", rec.Code, rec.Body)
	}
	rec = s.as("victim", http.MethodPost, "/v1/remittances", "application/json", strings.NewReader(`{"advice_id":"x","payment_reference":"r","value_date":"9 Nov"}`))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"amount"`) || !strings.Contains(rec.Body.String(), `"field":"value_date"`) {
		t.Errorf("bad advice = %d %s", rec.Code, rec.Body)
	}
	csv := "payment_reference,value_date,currency,worker_key,amount\nRF18MYGW0000012026100000,2026-11-09,MYR,w1,1.25\n"
	if rec := s.as("victim", http.MethodPost, "/v1/remittances.csv", "text/csv", strings.NewReader(csv)); rec.Code != http.StatusCreated {
		t.Errorf("csv = %d %s", rec.Code, rec.Body)
	}
	if rec := s.as("victim", http.MethodPost, "/v1/remittances.csv", "text/csv", strings.NewReader("nonsense\n")); rec.Code != 400 {
		t.Errorf("bad csv = %d %s", rec.Code, rec.Body)
	}
}

func TestFinanceAPI(t *testing.T) {
	s, b := newBooksServer(t)
	xml := `<?xml version="1.0"?><Document/>`
	rec := s.as("finance", http.MethodPost, "/v1/finance/bank-statements?file_name=s.xml", "application/xml", strings.NewReader(xml))
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"run_id":3`) {
		t.Errorf("import = %d %s", rec.Code, rec.Body)
	}
	if rec := s.as("finance", http.MethodPost, "/v1/finance/bank-statements", "application/xml", strings.NewReader(xml)); rec.Code != http.StatusOK ||
		!strings.Contains(rec.Body.String(), `"duplicate":true`) {
		t.Errorf("import again = %d %s", rec.Code, rec.Body)
	}
	rec = s.as("finance", http.MethodPost, "/v1/finance/bank-statements", "application/xml", strings.NewReader("<!DOCTYPE x>"))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"line":2`) {
		t.Errorf("malformed import = %d %s", rec.Code, rec.Body)
	}
	if rec := s.as("finance", http.MethodPost, "/v1/finance/bank-statements", "application/json", strings.NewReader("{}")); rec.Code != 415 {
		t.Errorf("json import = %d", rec.Code)
	}
	if rec := s.as("finance", http.MethodPost, "/v1/finance/bank-statements?csv_mapping=nope", "text/csv", strings.NewReader("a\n")); rec.Code != 400 {
		t.Errorf("bad mapping = %d %s", rec.Code, rec.Body)
	}
	if rec := s.as("finance", http.MethodPost, "/v1/finance/reconciliation/run", "", nil); rec.Code != 200 {
		t.Errorf("run = %d %s", rec.Code, rec.Body)
	}
	rec = s.as("finance", http.MethodGet, "/v1/finance/reconciliation?period=2026-10", "", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"underpaid"`) || !strings.Contains(rec.Body.String(), `"advice_mismatch":true`) {
		t.Errorf("outcomes = %d %s", rec.Code, rec.Body)
	}
	rec = s.as("finance", http.MethodGet, "/v1/finance/suspense", "", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"total":[{"currency":"MYR","value":"50.00"}]`) {
		t.Errorf("suspense = %d %s", rec.Code, rec.Body)
	}
	match := `{"receipt_id":"12","statement_id":"RF18MYGW0000012026100000","amount":{"currency":"MYR","value":"10.00"},"reason":"phone call"}`
	if rec := s.as("finance", http.MethodPost, "/v1/finance/matches", "application/json", strings.NewReader(match)); rec.Code != http.StatusCreated {
		t.Errorf("match = %d %s", rec.Code, rec.Body)
	}
	if len(b.decisions) != 1 || b.decisions[0].Amount.Amount != 1000 || b.decisions[0].By == "" {
		t.Errorf("decisions handed on = %+v", b.decisions)
	}
	if rec := s.as("finance", http.MethodPost, "/v1/finance/unmatches", "application/json", strings.NewReader(`{"receipt_id":"12","reason":""}`)); rec.Code != 400 {
		t.Errorf("unmatch without a reason = %d %s", rec.Code, rec.Body)
	}
	if rec := s.as("finance", http.MethodGet, "/v1/finance/decisions?receipt_id=12", "", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"applied":true`) {
		t.Errorf("decisions = %d %s", rec.Code, rec.Body)
	}
	// A platform key reaches no finance route.
	if rec := s.as("victim", http.MethodGet, "/v1/finance/reconciliation", "", nil); rec.Code != http.StatusForbidden {
		t.Errorf("platform key on finance = %d", rec.Code)
	}
}
