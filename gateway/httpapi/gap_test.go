package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
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
	"github.com/coverbridge/coverbridge/testing/banktest"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// gapNow is when the compliance API tests run: after October 2026's due
// date and grace.
var gapNow = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// gapDB is a database where platform p0001 paid its October 2026
// statement of my-gig and p0002 did not, one of p0002's three workers is
// unregistered, an unknown payer sent 12.34 MYR and neither platform has
// reported since October.
func gapDB(t *testing.T) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO platforms (id, name, country, currency, active_from)
		 SELECT 'p000' || p, 'Platform ' || p, 'MY', 'MYR', '2025-01-01' FROM generate_series(1, 2) p`,
		`INSERT INTO platform_schemes (platform_id, scheme_id, plan_id) SELECT id, 'my-gig', 's83' FROM platforms`,
		`INSERT INTO ledger_entries (platform_id, event_id, worker_id, scheme_id, plan_id, plan_version, period, booked_period,
		        entry_kind, late, currency, worker_minor, platform_minor, gross_minor, base_minor, insured_minor, orders, units,
		        flags, registered, source_partition, source_offset, created_at)
		 SELECT 'p000' || p, 'e' || w, CASE WHEN p = 2 AND w = 3 THEN 'ref:p0002:drv-9' ELSE 'w' || p || w END,
		        'my-gig', 's83', 1, '2026-10', '2026-10', 'deduction', false, 'MYR', 1000, 0, 80000, 80000, 80000, 1, 0, 0,
		        NOT (p = 2 AND w = 3), 0, 0, '2026-10-05T08:00:00Z'
		 FROM generate_series(1, 2) p, generate_series(1, 3) w`,
		`INSERT INTO worker_periods (worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base, insured,
		        orders, units, worker_minor, platform_minor)
		 SELECT worker_id, platform_id, scheme_id, plan_id, period, currency, 1, gross_minor, base_minor, insured_minor, 1, 0,
		        worker_minor, platform_minor FROM ledger_entries`,
		`INSERT INTO platform_period_balances (platform_id, scheme_id, period, source_partition, currency, entries, late_entries,
		        worker_minor, platform_minor)
		 SELECT platform_id, scheme_id, booked_period, 0, currency, count(*), 0, sum(worker_minor), sum(platform_minor)
		 FROM ledger_entries GROUP BY platform_id, scheme_id, booked_period, currency`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keeper.ClosePeriod(ctx, "my-gig", "2026-10"); err != nil {
		t.Fatal(err)
	}
	st, err := db.Statements(ctx, postgres.StatementFilter{PlatformID: "p0001"})
	if err != nil || len(st) != 1 {
		t.Fatalf("statements: %v %v", st, err)
	}
	var file bytes.Buffer
	if err := banktest.Camt053(&file, "GAPS", bankstatement.Statement{ID: "GAPS-1", Account: bankstatement.Account{Other: "564210002211"},
		Currency: "MYR", Receipts: []bankstatement.Receipt{
			banktest.Credit("MYR", st[0].Total.Amount, calendar.D(2026, 11, 10), st[0].Reference, ""),
			banktest.Credit("MYR", 1234, calendar.D(2026, 11, 12), "", "UNKNOWN-1"),
		}}); err != nil {
		t.Fatal(err)
	}
	now = gapNow
	if _, err := keeper.ImportBankFile(ctx, &file, books.ImportOptions{Name: "gaps.xml"}); err != nil {
		t.Fatal(err)
	}
	return db
}

// complianceRig is the API over gapDB with the access rig's keys.
type complianceRig struct {
	*accRig
	db *postgres.DB
}

func newComplianceRig(t *testing.T) *complianceRig {
	db := gapDB(t)
	return &complianceRig{db: db, accRig: newAccRig(t, func(c *httpapi.Config) {
		c.Gaps, c.Now = db, func() time.Time { return gapNow }
	})}
}

// call sends a request with a key and checks it against openapi.yaml.
func (r *complianceRig) call(t *testing.T, who, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, nil)
	if rd != nil {
		req = httptest.NewRequest(method, target, rd)
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+r.tokens[who])
	requestBodies.keep(req)
	rec := httptest.NewRecorder()
	r.e.ServeHTTP(rec, req)
	checkContract(t, req, rec)
	return rec
}

type gapAnswer struct {
	ID       int64
	Kind     string
	Platform string `json:"platform_id"`
	Subject  string
	Amount   gateway.Money
	AtStake  gateway.Money `json:"at_stake"`
	Severity string
	Status   string
	Assignee string
	Evidence struct {
		Statements []string
		Detail     string
	}
	History []struct {
		Actor, Action, From, To, Note string
	}
}

func TestComplianceAPI(t *testing.T) {
	r := newComplianceRig(t)
	must := func(rec *httptest.ResponseRecorder, status int) {
		t.Helper()
		if rec.Code != status {
			t.Fatalf("%d %s, want %d", rec.Code, rec.Body, status)
		}
	}

	// Detection, twice.
	rec := r.call(t, "compliance", http.MethodPost, "/v1/compliance/detections", "")
	must(rec, http.StatusOK)
	det := decode[struct{ Found, Opened, Cured int }](t, rec)
	if det.Found != 8 || det.Opened != 8 {
		t.Fatalf("detection: %s", rec.Body)
	}
	rec = r.call(t, "admin", http.MethodPost, "/v1/compliance/detections", "")
	if det := decode[struct{ Found, Opened, Updated, Cured int }](t, rec); det.Found != 8 || det.Opened+det.Updated+det.Cured != 0 {
		t.Fatalf("second detection: %s", rec.Body)
	}

	// Listing, filtered and paged.
	rec = r.call(t, "compliance", http.MethodGet, "/v1/compliance/gaps?kind=missing&platform_id=p0002", "")
	must(rec, http.StatusOK)
	list := decode[struct {
		Gaps      []gapAnswer
		NextAfter *int64 `json:"next_after"`
	}](t, rec)
	if len(list.Gaps) != 1 || list.NextAfter != nil || list.Gaps[0].Amount != myr(3000) || list.Gaps[0].Evidence.Statements[0] == "" {
		t.Fatalf("missing: %s", rec.Body)
	}
	missing := list.Gaps[0]
	var all []gapAnswer
	for after := int64(0); ; {
		rec = r.call(t, "compliance", http.MethodGet, fmt.Sprintf("/v1/compliance/gaps?limit=3&after=%d", after), "")
		must(rec, http.StatusOK)
		page := decode[struct {
			Gaps      []gapAnswer
			NextAfter *int64 `json:"next_after"`
		}](t, rec)
		all = append(all, page.Gaps...)
		if page.NextAfter == nil {
			break
		}
		after = *page.NextAfter
	}
	if len(all) != 8 {
		t.Errorf("paged through %d gaps, want 8", len(all))
	}
	for _, bad := range []struct{ query, field string }{
		{"kind=nope", "kind"}, {"status=closed", "status"}, {"severity=huge", "severity"}, {"limit=0", "limit"}, {"after=x", "after"},
	} {
		rec = r.call(t, "compliance", http.MethodGet, "/v1/compliance/gaps?"+bad.query, "")
		if ans := decode[errorAnswer](t, rec); rec.Code != http.StatusBadRequest || len(ans.Details) != 1 || ans.Details[0].Field != bad.field {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.query, rec.Code, rec.Body, bad.field)
		}
	}

	// The worklist: the most at stake first.
	rec = r.call(t, "compliance", http.MethodGet, "/v1/compliance/worklist?limit=100", "")
	must(rec, http.StatusOK)
	wl := decode[struct{ Gaps []gapAnswer }](t, rec)
	if len(wl.Gaps) != 8 || wl.Gaps[0].Kind != "missing" {
		t.Errorf("worklist: %s", rec.Body)
	}

	// One gap, its workflow.
	path := fmt.Sprintf("/v1/compliance/gaps/%d", missing.ID)
	rec = r.call(t, "compliance", http.MethodGet, path, "")
	must(rec, http.StatusOK)
	if g := decode[gapAnswer](t, rec); len(g.History) != 1 || g.History[0].Action != "detected" || g.History[0].Actor != "detection" {
		t.Errorf("gap: %s", rec.Body)
	}
	must(r.call(t, "compliance", http.MethodPost, path+"/status", `{"status":"acknowledged"}`), http.StatusOK)
	for _, bad := range []struct{ body, field string }{
		{`{"status":"open"}`, "status"}, {`{"status":"waived"}`, "reason"}, {`{}`, "status"}, {`{"status":"gone"}`, "status"},
	} {
		rec = r.call(t, "compliance", http.MethodPost, path+"/status", bad.body)
		if ans := decode[errorAnswer](t, rec); rec.Code != http.StatusBadRequest || len(ans.Details) != 1 || ans.Details[0].Field != bad.field {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.body, rec.Code, rec.Body, bad.field)
		}
	}
	must(r.call(t, "compliance", http.MethodPost, path+"/assignment", `{"assignee":"aisha"}`), http.StatusOK)
	must(r.call(t, "compliance", http.MethodPost, path+"/notes", `{"note":"phoned the platform's finance team"}`), http.StatusOK)
	rec = r.call(t, "compliance", http.MethodPost, path+"/notes", `{"note":"phoned the platform's finance team"}`)
	must(rec, http.StatusOK)
	g := decode[gapAnswer](t, rec)
	var acts []string
	for _, h := range g.History {
		acts = append(acts, h.Action)
	}
	if g.Status != "acknowledged" || g.Assignee != "aisha" || strings.Join(acts, ",") != "detected,status,assigned,note" ||
		!strings.HasPrefix(g.History[1].Actor, "compliance:") {
		t.Errorf("after the workflow: %s", rec.Body)
	}
	must(r.call(t, "compliance", http.MethodGet, "/v1/compliance/gaps/999999", ""), http.StatusNotFound)
	must(r.call(t, "compliance", http.MethodGet, "/v1/compliance/gaps/abc", ""), http.StatusBadRequest)

	// A notice to p0002, sent once.
	rec = r.call(t, "compliance", http.MethodPost, "/v1/compliance/notices", `{"platform_id":"p0002"}`)
	must(rec, http.StatusCreated)
	n := decode[struct {
		ID     int64
		GapIDs []int64 `json:"gap_ids"`
		Letter string
	}](t, rec)
	rec = r.call(t, "compliance", http.MethodPost, "/v1/compliance/notices", `{"platform_id":"p0002"}`)
	must(rec, http.StatusOK)
	if again := decode[struct{ ID int64 }](t, rec); again.ID != n.ID || len(n.GapIDs) != 6 {
		t.Errorf("notice again: %s (first %+v)", rec.Body, n)
	}
	must(r.call(t, "compliance", http.MethodGet, fmt.Sprintf("/v1/compliance/notices/%d", n.ID), ""), http.StatusOK)
	rec = r.call(t, "compliance", http.MethodGet, n.Letter, "")
	must(rec, http.StatusOK)
	if rec.Header().Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(rec.Body.Bytes(), []byte("%PDF-")) {
		t.Errorf("letter: %s %q", rec.Header().Get("Content-Type"), rec.Body.Bytes()[:min(rec.Body.Len(), 16)])
	}
	rec = r.call(t, "compliance", http.MethodGet, path, "")
	if g := decode[gapAnswer](t, rec); g.Status != "notice_sent" || g.History[len(g.History)-1].Action != "notice" {
		t.Errorf("after the notice: %s", rec.Body)
	}
	must(r.call(t, "compliance", http.MethodPost, "/v1/compliance/notices", `{"platform_id":"nobody"}`), http.StatusNotFound)
	must(r.call(t, "compliance", http.MethodPost, "/v1/compliance/notices", `{}`), http.StatusBadRequest)
	must(r.call(t, "compliance", http.MethodGet, "/v1/compliance/notices/999/letter.pdf", ""), http.StatusNotFound)

	// Platform and finance keys reach none of it; nothing changed.
	for _, who := range []string{"victim", "other", "finance"} {
		for _, c := range []struct{ method, target, body string }{
			{http.MethodGet, "/v1/compliance/gaps?platform_id=p0002", ""},
			{http.MethodGet, path, ""},
			{http.MethodPost, path + "/status", `{"status":"resolved"}`},
			{http.MethodPost, "/v1/compliance/notices", `{"platform_id":"p0002"}`},
			{http.MethodGet, n.Letter, ""},
		} {
			rec := r.call(t, who, c.method, c.target, c.body)
			if rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "p0002") {
				t.Errorf("%s key %s %s: %d %s, want 403", who, c.method, c.target, rec.Code, rec.Body)
			}
		}
	}
	rec = r.call(t, "compliance", http.MethodGet, path, "")
	if g := decode[gapAnswer](t, rec); g.Status != "notice_sent" {
		t.Errorf("a refused request changed the gap: %s", rec.Body)
	}
}
