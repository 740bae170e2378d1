package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/testing/banktest"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// coverRig is the API over a PostgreSQL database where October 2026 of
// Malaysia's SESS and Gig Workers Act went through the real path:
// registrations, the engine, period close, a bank file and matching.
//
//   - grab's g-1 (SESS plan 2: RM19.40) has the whole RM19.40 withheld in
//     October; g-2 only RM5.00, and close notifies a shortfall of RM14.40.
//     Both contribute 1.25% under the Gig Workers Act, and earn again in
//     November.
//   - grab pays the October SESS statement in full, valued 9 November.
//   - foodpanda registered f-3, who earned nothing.
type coverRig struct {
	t      *testing.T
	h      http.Handler
	db     *postgres.DB
	tokens map[string]string
	keys   map[string]string // worker ref → worker key
}

const coverNational = "850101-14-5566" // what the sealed number would read: never in an answer

func newCoverRig(t *testing.T) *coverRig {
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
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"grab", "foodpanda"} {
		err := db.CreatePlatform(ctx, postgres.Platform{ID: id, Name: id, Country: "MY", Currency: "MYR", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "1"}, {SchemeID: "my-gig", PlanID: "s83"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	r := &coverRig{t: t, db: db, tokens: map[string]string{}, keys: map[string]string{}}
	register := func(platform, ref, scheme, plan, sector string) {
		key := fmt.Sprintf("wk-%x", sha256.Sum256([]byte(ref)))[:20]
		r.keys[ref] = key
		reg := postgres.Registration{PlatformID: platform, WorkerRef: ref, WorkerKey: key, SchemeID: scheme, Change: postgres.RegistrationStart,
			PlanID: plan, Sector: sector, Effective: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}
		h := sha256.Sum256([]byte(platform + ref + scheme))
		if _, _, err := db.Register(ctx, postgres.NewWorker{WorkerKey: key, Country: "MY", Sealed: []byte(coverNational)}, reg, h); err != nil {
			t.Fatal(err)
		}
	}
	register("grab", "g-1", "my-sess", "2", "food_delivery")
	register("grab", "g-1", "my-gig", "", "food_delivery")
	register("grab", "g-2", "my-sess", "2", "ride_hailing")
	register("grab", "g-2", "my-gig", "", "ride_hailing")
	register("foodpanda", "f-3", "my-sess", "1", "food_delivery")

	now := time.Date(2026, 11, 5, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	eng := engine.New(engine.Config{Store: db, Catalog: catalog, Now: clock})
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog, Now: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	claim := kafkabus.Claim{Group: "g", Topic: "earnings", Partition: 0, Generation: 1}
	if claim.Epoch, _, err = eng.ClaimPartition(ctx, claim); err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for i, e := range [][3]string{
		{"g-1", "2026-10-05T10:00:00+08:00", "100.00"},
		{"g-2", "2026-10-06T10:00:00+08:00", "10.00"},
		{"g-1", "2026-11-03T10:00:00+08:00", "100.00"},
		{"g-2", "2026-11-04T10:00:00+08:00", "100.00"},
	} {
		v := fmt.Sprintf(`{"event_id":"e%d","platform_id":"grab","worker_ref":%q,"occurred_at":%q,"gross":{"currency":"MYR","value":%q}}`,
			i, e[0], e[1], e[2])
		msgs = append(msgs, kafka.Message{Topic: "earnings", Offset: int64(i), Value: []byte(v)})
	}
	if err := eng.HandleBatch(ctx, claim, msgs); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"my-sess", "my-gig"} {
		if _, err := keeper.ClosePeriod(ctx, s, "2026-10"); err != nil {
			t.Fatalf("close %s: %v", s, err)
		}
	}
	sts, err := db.Statements(ctx, postgres.StatementFilter{PlatformID: "grab", SchemeID: "my-sess", Period: "2026-10"})
	if err != nil || len(sts) != 1 {
		t.Fatalf("SESS statements = %+v, %v", sts, err)
	}
	now = time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	bs := bankstatement.Statement{ID: "S-1109", Account: bankstatement.Account{Other: "MY-COLLECT-01"}, Currency: "MYR",
		Receipts: []bankstatement.Receipt{banktest.Credit("MYR", sts[0].Total.Amount, calendar.D(2026, 11, 9), sts[0].Reference, "GRAB-01")}}
	if err := banktest.Camt053(&buf, "MSG-1", bs); err != nil {
		t.Fatal(err)
	}
	if _, err := keeper.ImportBankFile(ctx, &buf, books.ImportOptions{Name: "s.xml", By: "finance"}); err != nil {
		t.Fatal(err)
	}

	keys := newMemAccess()
	for _, id := range []string{"grab", "foodpanda"} {
		keys.policies[id] = postgres.AccessPolicy{}
		r.tokens[id] = keys.issue(t, access.RolePlatform, id)
	}
	for _, role := range []access.Role{access.RoleFinance, access.RoleCompliance, access.RoleAdmin} {
		r.tokens[string(role)] = keys.issue(t, role, "")
	}
	r.h = httpapi.New(httpapi.Config{Schemes: catalog, Keys: keys, Coverage: db, Notices: db, Workers: db,
		Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	return r
}

// do sends a request as who and checks it against openapi.yaml.
func (r *coverRig) do(who, method, target, body string) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+r.tokens[who])
	requestBodies.keep(req)
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	checkContract(r.t, req, rec)
	if strings.Contains(rec.Body.String(), coverNational) {
		r.t.Errorf("%s %s: the answer carries a national ID", method, target)
	}
	return rec
}

type coverageAnswer struct {
	WorkerKey  string `json:"worker_key"`
	WorkerRef  string `json:"worker_ref"`
	PlatformID string `json:"platform_id"`
	Covered    bool   `json:"covered"`
	Schemes    []struct {
		SchemeID      string `json:"scheme_id"`
		Basis         string `json:"basis"`
		Covered       bool   `json:"covered"`
		Reason        string `json:"reason"`
		Why           string `json:"why"`
		Deciding      string `json:"deciding_period"`
		CoveredFrom   string `json:"covered_from"`
		CoveredUntil  string `json:"covered_until"`
		Registered    bool   `json:"registered"`
		Registrations []struct {
			PlatformID string `json:"platform_id"`
		} `json:"registrations"`
		Contributions []struct {
			PlatformID string        `json:"platform_id"`
			Total      gateway.Money `json:"total"`
			Statements []struct {
				ID           string `json:"id"`
				Paid         bool   `json:"paid"`
				RecognisedOn string `json:"recognised_on"`
			} `json:"statements"`
		} `json:"contributions"`
	} `json:"schemes"`
}

func decodeAs[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

func TestCoverageAPI(t *testing.T) {
	r := newCoverRig(t)

	// grab asks about its own worker: covered under SESS from the day
	// October's contribution was recognised, and under the Gig Workers Act
	// by November's withholding.
	rec := r.do("grab", http.MethodGet, "/v1/workers/g-1/coverage?date=2026-11-09", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("grab's g-1: %d %s", rec.Code, rec.Body)
	}
	a := decodeAs[coverageAnswer](t, rec)
	if a.WorkerKey != r.keys["g-1"] || a.WorkerRef != "g-1" || a.PlatformID != "grab" || !a.Covered || len(a.Schemes) != 2 {
		t.Fatalf("answer = %+v", a)
	}
	gig, sess := a.Schemes[0], a.Schemes[1]
	if gig.SchemeID != "my-gig" || !gig.Covered || gig.Reason != "withheld" || gig.Basis != "withholding" || gig.CoveredUntil != "2026-11-30" {
		t.Errorf("my-gig = %+v", gig)
	}
	if sess.SchemeID != "my-sess" || !sess.Covered || sess.Reason != "paid" || sess.Basis != "payment" || sess.Deciding != "2026-10" ||
		sess.CoveredFrom != "2026-11-09" || sess.CoveredUntil != "2026-12-08" || !sess.Registered || len(sess.Contributions) != 1 ||
		sess.Contributions[0].Total.Amount != 1940 || len(sess.Contributions[0].Statements) != 1 ||
		!sess.Contributions[0].Statements[0].Paid || sess.Contributions[0].Statements[0].RecognisedOn != "2026-11-09" || sess.Why == "" {
		t.Errorf("my-sess = %+v", sess)
	}
	// A day earlier, SESS does not cover yet.
	a = decodeAs[coverageAnswer](t, r.do("grab", http.MethodGet, "/v1/workers/g-1/coverage?date=2026-11-08", ""))
	if a.Schemes[1].Covered || a.Schemes[1].Reason != "paid_later" {
		t.Errorf("the day before = %+v", a.Schemes[1])
	}
	// g-2 is short of the plan.
	a = decodeAs[coverageAnswer](t, r.do("grab", http.MethodGet, "/v1/workers/g-2/coverage?date=2026-11-20", ""))
	if a.Schemes[1].Covered || a.Schemes[1].Reason != "shortfall" {
		t.Errorf("g-2 = %+v", a.Schemes[1])
	}

	// Another platform's worker does not exist for foodpanda; its own
	// worker shows nothing of grab's.
	for _, target := range []string{"/v1/workers/g-1/coverage?date=2026-11-09", "/v1/workers/g-1/coverage?date=2026-11-09&platform_id=grab",
		"/v1/workers/" + r.keys["g-1"] + "/coverage?date=2026-11-09"} {
		rec := r.do("foodpanda", http.MethodGet, target, "")
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "grab") || strings.Contains(rec.Body.String(), "food_delivery") {
			t.Errorf("foodpanda %s: %d %s, want a bare 404", target, rec.Code, rec.Body)
		}
	}
	a = decodeAs[coverageAnswer](t, r.do("foodpanda", http.MethodGet, "/v1/workers/f-3/coverage?date=2026-11-09", ""))
	if len(a.Schemes) != 1 || a.Schemes[0].Covered || a.Schemes[0].Reason != "nothing_withheld" || len(a.Schemes[0].Contributions) != 0 {
		t.Errorf("f-3 = %+v", a)
	}

	// Staff name the worker key and see every platform.
	for _, who := range []string{"compliance", "finance", "admin"} {
		rec := r.do(who, http.MethodGet, "/v1/workers/"+r.keys["g-1"]+"/coverage?date=2026-11-09", "")
		a := decodeAs[coverageAnswer](t, rec)
		if rec.Code != http.StatusOK || a.PlatformID != "" || len(a.Schemes) != 2 || !a.Schemes[1].Covered {
			t.Errorf("%s by worker key: %d %+v", who, rec.Code, a)
		}
	}
	// Or name a platform and its reference.
	a = decodeAs[coverageAnswer](t, r.do("compliance", http.MethodGet, "/v1/workers/g-1/coverage?date=2026-11-09&platform_id=grab", ""))
	if a.PlatformID != "grab" || a.WorkerKey != r.keys["g-1"] {
		t.Errorf("compliance naming grab: %+v", a)
	}
	if rec := r.do("compliance", http.MethodGet, "/v1/workers/nobody/coverage?date=2026-11-09", ""); rec.Code != http.StatusNotFound {
		t.Errorf("unknown worker: %d %s", rec.Code, rec.Body)
	}
	for _, date := range []string{"", "2026-13-01", "9.11.2026"} {
		rec := r.do("grab", http.MethodGet, "/v1/workers/g-1/coverage?date="+url.QueryEscape(date), "")
		var e errorAnswer
		json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != http.StatusBadRequest || len(e.Details) != 1 || e.Details[0].Field != "date" {
			t.Errorf("date %q: %d %s, want 400 naming date", date, rec.Code, rec.Body)
		}
	}
}

type statisticsAnswer struct {
	Rows []struct {
		Month          string `json:"month"`
		SchemeID       string `json:"scheme_id"`
		PlatformID     string `json:"platform_id"`
		Sector         *string
		WorkersActive  int64 `json:"workers_active"`
		WorkersCovered int64 `json:"workers_covered"`
		CoverageRate   *struct {
			Ratio, Decimal string
		} `json:"coverage_rate"`
		Contributions []struct {
			Due, Collected gateway.Money
		} `json:"contributions"`
	} `json:"rows"`
}

func TestStatisticsAPI(t *testing.T) {
	r := newCoverRig(t)
	rec := r.do("finance", http.MethodGet, "/v1/statistics/coverage?from=2026-10&to=2026-11&group=scheme", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	s := decodeAs[statisticsAnswer](t, rec)
	got := map[string]string{}
	for _, row := range s.Rows {
		v := fmt.Sprintf("%d/%d", row.WorkersCovered, row.WorkersActive)
		if row.CoverageRate != nil {
			v += " " + row.CoverageRate.Ratio + " " + row.CoverageRate.Decimal
		}
		for _, c := range row.Contributions {
			v += " " + string(c.Due.Currency) + " " + c.Due.String() + "/" + c.Collected.String()
		}
		got[row.Month+" "+row.SchemeID] = v
	}
	want := map[string]string{
		"2026-10 my-sess": "0/2 0/2 0.0000 MYR 24.40/24.40",
		"2026-11 my-sess": "1/2 1/2 0.5000",
		"2026-10 my-gig":  "2/2 2/2 1.0000 MYR 1.38/0.00",
		"2026-11 my-gig":  "2/2 2/2 1.0000",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows = %v\nwant %v", got, want)
	}

	rec = r.do("compliance", http.MethodGet, "/v1/statistics/coverage?from=2026-11&to=2026-11&group=scheme,sector&format=csv", "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", rec.Code, rec.Header())
	}
	csv := rec.Body.String()
	for _, line := range []string{
		"month,scheme_id,platform_id,sector,workers_active,workers_covered,coverage_ratio,coverage_rate,currency,due,collected",
		"2026-11,my-sess,,food_delivery,1,1,1/1,1.0000,,,",
		"2026-11,my-sess,,ride_hailing,1,0,0/1,0.0000,,,",
	} {
		if !strings.Contains(csv, line+"\n") {
			t.Errorf("CSV has no line %q:\n%s", line, csv)
		}
	}

	for _, who := range []string{"grab", "foodpanda"} {
		if rec := r.do(who, http.MethodGet, "/v1/statistics/coverage?from=2026-10&to=2026-11", ""); rec.Code != http.StatusForbidden {
			t.Errorf("%s key: %d, want 403", who, rec.Code)
		}
	}
	for q, field := range map[string]string{
		"from=2026-1&to=2026-11":               "from",
		"from=2026-10":                         "to",
		"from=2026-10&to=2026-09":              "to",
		"from=2020-01&to=2026-01":              "to",
		"from=2026-10&to=2026-11&group=gender": "group",
		"from=2026-10&to=2026-11&format=xlsx":  "format",
	} {
		rec := r.do("finance", http.MethodGet, "/v1/statistics/coverage?"+q, "")
		var e errorAnswer
		json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != http.StatusBadRequest || len(e.Details) != 1 || e.Details[0].Field != field {
			t.Errorf("%s: %d %s, want 400 naming %s", q, rec.Code, rec.Body, field)
		}
	}
}

type noticesAnswer struct {
	Notices []struct {
		ID        string        `json:"id"`
		Platform  string        `json:"platform_id"`
		WorkerRef string        `json:"worker_ref"`
		WorkerKey string        `json:"worker_key"`
		Kind      string        `json:"kind"`
		Amount    gateway.Money `json:"amount"`
		Delivered bool          `json:"delivered"`
		Delivery  *struct {
			Channel     string    `json:"channel"`
			DeliveredAt time.Time `json:"delivered_at"`
			RecordedAt  time.Time `json:"recorded_at"`
		} `json:"delivery"`
	} `json:"notices"`
	Next string `json:"next"`
}

func TestNoticesAPI(t *testing.T) {
	r := newCoverRig(t)
	ns := decodeAs[noticesAnswer](t, r.do("grab", http.MethodGet, "/v1/notices?scheme_id=my-sess&kind=shortfall", ""))
	if len(ns.Notices) != 1 {
		t.Fatalf("grab's notices = %+v", ns)
	}
	n := ns.Notices[0]
	if n.WorkerRef != "g-2" || n.WorkerKey != r.keys["g-2"] || n.Amount.Amount != 1440 || n.Delivered || n.Delivery != nil {
		t.Errorf("notice = %+v", n)
	}
	if got := decodeAs[noticesAnswer](t, r.do("foodpanda", http.MethodGet, "/v1/notices", "")); len(got.Notices) != 0 {
		t.Errorf("foodpanda sees %+v", got)
	}
	if rec := r.do("foodpanda", http.MethodGet, "/v1/notices?platform_id=grab", ""); rec.Code != http.StatusNotFound {
		t.Errorf("foodpanda naming grab: %d", rec.Code)
	}

	path := "/v1/notices/" + n.ID + "/delivery"
	ack := `{"channel":"sms","delivered_at":"2026-11-06T09:30:00+08:00"}`
	if rec := r.do("foodpanda", http.MethodPost, path, ack); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "g-2") {
		t.Errorf("foodpanda acknowledging grab's notice: %d %s", rec.Code, rec.Body)
	}
	for _, bad := range []struct{ body, field string }{
		{`{"channel":"pigeon","delivered_at":"2026-11-06T09:30:00+08:00"}`, "channel"},
		{`{"channel":"sms","delivered_at":"yesterday"}`, "delivered_at"},
		{`{"channel":"sms","delivered_at":"2027-01-01T00:00:00Z"}`, "delivered_at"},
		{`{"channel":"sms","delivered_at":"2026-10-01T00:00:00Z"}`, "delivered_at"},
	} {
		rec := r.do("grab", http.MethodPost, path, bad.body)
		var e errorAnswer
		json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != http.StatusBadRequest || len(e.Details) == 0 || e.Details[0].Field != bad.field {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.body, rec.Code, rec.Body, bad.field)
		}
	}
	first := r.do("grab", http.MethodPost, path, ack)
	if first.Code != http.StatusCreated {
		t.Fatalf("acknowledge: %d %s", first.Code, first.Body)
	}
	again := r.do("grab", http.MethodPost, path, ack)
	if again.Code != http.StatusOK || again.Body.String() != first.Body.String() {
		t.Errorf("the same acknowledgement again: %d %s, want 200 and the first %s", again.Code, again.Body, first.Body)
	}
	if rec := r.do("grab", http.MethodPost, path, `{"channel":"email","delivered_at":"2026-11-06T09:30:00+08:00"}`); rec.Code != http.StatusConflict {
		t.Errorf("another acknowledgement: %d %s, want 409", rec.Code, rec.Body)
	}
	for _, who := range []string{"finance", "compliance"} {
		if rec := r.do(who, http.MethodPost, path+"?platform_id=grab", ack); rec.Code != http.StatusForbidden {
			t.Errorf("%s acknowledging: %d, want 403", who, rec.Code)
		}
	}
	if rec := r.do("grab", http.MethodPost, "/v1/notices/99999/delivery", ack); rec.Code != http.StatusNotFound {
		t.Errorf("unknown notice: %d", rec.Code)
	}

	ns = decodeAs[noticesAnswer](t, r.do("grab", http.MethodGet, "/v1/notices?delivered=true", ""))
	if len(ns.Notices) != 1 || ns.Notices[0].Delivery == nil || ns.Notices[0].Delivery.Channel != "sms" ||
		!ns.Notices[0].Delivery.DeliveredAt.Equal(time.Date(2026, 11, 6, 1, 30, 0, 0, time.UTC)) {
		t.Errorf("delivered notices = %+v", ns)
	}

	// Compliance sees every platform's notices; finance and platforms use
	// /v1/notices.
	all := decodeAs[noticesAnswer](t, r.do("compliance", http.MethodGet, "/v1/compliance/worker-notices?platform_id=grab&period=2026-10", ""))
	found := false
	for _, x := range all.Notices {
		found = found || (x.ID == n.ID && x.Delivered)
	}
	if !found {
		t.Errorf("compliance's notices = %+v", all)
	}
	for _, who := range []string{"grab", "finance"} {
		if rec := r.do(who, http.MethodGet, "/v1/compliance/worker-notices", ""); rec.Code != http.StatusForbidden {
			t.Errorf("%s on the compliance list: %d, want 403", who, rec.Code)
		}
	}
	if rec := r.do("finance", http.MethodGet, "/v1/notices?platform_id=grab", ""); rec.Code != http.StatusOK {
		t.Errorf("finance naming grab: %d", rec.Code)
	}
	for q, field := range map[string]string{"kind=late": "kind", "delivered=maybe": "delivered", "after=x": "after", "limit=0": "limit"} {
		rec := r.do("grab", http.MethodGet, "/v1/notices?"+q, "")
		var e errorAnswer
		json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != http.StatusBadRequest || len(e.Details) != 1 || e.Details[0].Field != field {
			t.Errorf("%s: %d %s, want 400 naming %s", q, rec.Code, rec.Body, field)
		}
	}
}

// coverageStaffRoutes are the routes TestEveryRouteNeedsAKey checks with
// checkCoverageRouteAccess: staff read them without naming a platform.
var coverageStaffRoutes = map[string]bool{
	"GET /v1/workers/:ref/coverage": true,
	"GET /v1/statistics/coverage":   true,
}

// checkCoverageRouteAccess: the statistics are for staff only; a worker's
// coverage is for staff, and for a platform key its own worker's only.
func checkCoverageRouteAccess(t *testing.T, r *accRig, method, target string) {
	t.Helper()
	if strings.HasPrefix(target, "/v1/statistics") {
		for _, who := range []string{"victim", "other"} {
			if rec := r.do(method, target, r.tokens[who], ""); rec.Code != http.StatusForbidden {
				t.Errorf("%s key: %d %s, want 403", who, rec.Code, rec.Body)
			}
		}
	} else {
		rec := r.do(method, withQuery(target, "platform_id", victim), r.tokens["other"], "")
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), victim) {
			t.Errorf("other platform's key naming %s: %d %s, want a bare 404", victim, rec.Code, rec.Body)
		}
	}
	for _, who := range []string{"finance", "compliance", "admin"} {
		if rec := r.do(method, target, r.tokens[who], ""); rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
			t.Errorf("%s key: %d %s, want it allowed", who, rec.Code, rec.Body)
		}
	}
}
