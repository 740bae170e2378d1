package postgres_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// listFixture records events and rejections of platform demo, and one
// event of another platform, at chosen times. In the order a platform
// lists them: x0 (rejected at t0); a, b and ü (recorded at t1, by id
// byte by byte); x1 (rejected at t1); c (recorded at t2).
func listFixture(t *testing.T) (db *postgres.DB, t0, t1, t2 time.Time) {
	t.Helper()
	ctx := context.Background()
	db = open(t)
	p := claim(t, db, 0)
	var evs []postgres.IncomingEvent
	for _, id := range []string{"b", "ü", "a", "c"} {
		evs = append(evs, event(id, "10.00"))
	}
	other := event("a", "10.00")
	other.Earning.PlatformID = "other"
	evs = append(evs, other)
	entry := postgres.LedgerEntry{PlatformID: "demo", EventID: "a", WorkerID: "ref:demo:drv-77", SchemeID: "my-gig", PlanID: "s83",
		PlanVersion: 1, Period: "2026-10", BookedPeriod: "2026-10", Kind: postgres.EntryDeduction, Currency: "MYR",
		Worker: 13, Gross: 1000, Base: 1000}
	rejections := []postgres.Rejection{
		{PlatformID: "demo", EventID: "x0", Code: "wrong_currency", Message: "not MYR", Field: "gross.currency", Payload: []byte(`{}`), Offset: 90},
		{PlatformID: "demo", EventID: "x1", Code: "invalid", Message: "bad", Payload: []byte(`{}`), Offset: 91},
	}
	if err := write(db, p, 92, postgres.BatchWrites{Events: evs, Entries: []postgres.LedgerEntry{entry}, Rejections: rejections}); err != nil {
		t.Fatal(err)
	}
	t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	t1, t2 = t0.Add(time.Second), t0.Add(2*time.Second)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE earning_events SET recorded_at = $1`, []any{t1}},
		{`UPDATE earning_events SET recorded_at = $1 WHERE event_id = 'c'`, []any{t2}},
		{`UPDATE rejected_events SET rejected_at = $1 WHERE event_id = 'x0'`, []any{t0}},
		{`UPDATE rejected_events SET rejected_at = $1 WHERE event_id = 'x1'`, []any{t1}},
	} {
		if _, err := db.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	return db, t0, t1, t2
}

func TestListEarnings(t *testing.T) {
	ctx := context.Background()
	db, t0, t1, t2 := listFixture(t)
	ids := func(page []postgres.ListedEarning) []string {
		var out []string
		for _, e := range page {
			out = append(out, e.EventID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    postgres.EarningFilter
		want []string
	}{
		{"all", postgres.EarningFilter{}, []string{"x0", "a", "b", "ü", "x1", "c"}},
		{"recorded", postgres.EarningFilter{Status: "recorded"}, []string{"a", "b", "ü", "c"}},
		{"rejected", postgres.EarningFilter{Status: "rejected"}, []string{"x0", "x1"}},
		{"from t1", postgres.EarningFilter{From: t1}, []string{"a", "b", "ü", "x1", "c"}},
		{"to t2", postgres.EarningFilter{To: t2}, []string{"x0", "a", "b", "ü", "x1"}},
		{"within t1, in another zone", postgres.EarningFilter{From: t1.In(time.FixedZone("MYT", 8*3600)), To: t1.Add(time.Microsecond)},
			[]string{"a", "b", "ü", "x1"}},
		{"before t0", postgres.EarningFilter{To: t0}, nil},
		{"after b", postgres.EarningFilter{After: postgres.EarningCursor{At: t1, EventID: "b"}}, []string{"ü", "x1", "c"}},
		{"after x1", postgres.EarningFilter{After: postgres.EarningCursor{At: t1, Rejected: true, ID: 1 << 40}}, []string{"c"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Limit = 100
			page, err := db.ListEarnings(ctx, "demo", tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); !slices.Equal(got, tt.want) {
				t.Errorf("ListEarnings = %q, want %q", got, tt.want)
			}
		})
	}

	// Walking the pages with each page size gives every event once, in
	// order, each with what became of it.
	for limit := 1; limit <= 7; limit++ {
		var got []string
		f := postgres.EarningFilter{Limit: limit}
		for range 10 {
			page, err := db.ListEarnings(ctx, "demo", f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(page)...)
			for _, e := range page {
				switch {
				case e.EventID == "a" && (e.Status != "recorded" || len(e.Entries) != 1 || e.Entries[0].Worker != 13 || len(e.Payload) == 0):
					t.Errorf("event a listed as %+v, want recorded with its entry and payload", e)
				case e.EventID == "x0" && (e.Status != "rejected" || e.Rejection.Code != "wrong_currency" || e.Rejection.Field != "gross.currency"):
					t.Errorf("x0 listed as %+v, want its rejection", e)
				}
			}
			if len(page) < limit {
				break
			}
			f.After = page[len(page)-1].Cursor
		}
		if want := []string{"x0", "a", "b", "ü", "x1", "c"}; !slices.Equal(got, want) {
			t.Errorf("pages of %d: %q, want %q", limit, got, want)
		}
	}
	if page, err := db.ListEarnings(ctx, "nobody", postgres.EarningFilter{Limit: 10}); err != nil || len(page) != 0 {
		t.Errorf("another platform's list = %d items, %v; want none", len(page), err)
	}
}

// TestListEarningsOverHTTP walks GET /v1/earnings page by page through
// the cursors it hands out, and sends it bad parameters.
func TestListEarningsOverHTTP(t *testing.T) {
	db, _, t1, _ := listFixture(t)
	h := httpapi.New(httpapi.Config{Earnings: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	get := func(q url.Values) (int, []byte) {
		q.Set("platform_id", "demo")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/earnings?"+q.Encode(), nil))
		return rec.Code, rec.Body.Bytes()
	}
	type page struct {
		Earnings []struct {
			EventID    string    `json:"event_id"`
			Status     string    `json:"status"`
			RecordedAt time.Time `json:"recorded_at"`
			Withhold   *struct{ Currency, Value string }
			Rejection  *struct{ Code string }
		}
		Next string
	}
	var got []string
	q := url.Values{"limit": {"2"}}
	for range 10 {
		code, body := get(q)
		var p page
		if code != http.StatusOK || json.Unmarshal(body, &p) != nil {
			t.Fatalf("GET %s = %d %s", q.Encode(), code, body)
		}
		for _, e := range p.Earnings {
			got = append(got, e.EventID+":"+e.Status)
			if e.EventID == "a" && (e.Withhold == nil || e.Withhold.Value != "0.13") {
				t.Errorf("a withholds %+v, want MYR 0.13", e.Withhold)
			}
		}
		if p.Next == "" {
			break
		}
		q.Set("after", p.Next)
	}
	want := []string{"x0:rejected", "a:recorded", "b:recorded", "ü:recorded", "x1:rejected", "c:recorded"}
	if !slices.Equal(got, want) {
		t.Errorf("pages: %q, want %q", got, want)
	}
	code, body := get(url.Values{"from": {t1.Format(time.RFC3339)}, "status": {"rejected"}})
	if code != http.StatusOK || !json.Valid(body) {
		t.Fatalf("from and status: %d %s", code, body)
	}
	var p page
	json.Unmarshal(body, &p)
	if len(p.Earnings) != 1 || p.Earnings[0].EventID != "x1" || p.Earnings[0].Rejection == nil || p.Next != "" {
		t.Errorf("rejected from t1: %s, want x1 alone", body)
	}

	for _, tt := range []struct {
		query url.Values
		field string
	}{
		{url.Values{"from": {"2026-11-29"}}, "from"},
		{url.Values{"to": {"yesterday"}}, "to"},
		{url.Values{"from": {t1.Format(time.RFC3339)}, "to": {t1.Format(time.RFC3339)}}, "to"},
		{url.Values{"status": {"pending"}}, "status"},
		{url.Values{"limit": {"0"}}, "limit"},
		{url.Values{"limit": {"1001"}}, "limit"},
		{url.Values{"after": {"%%%"}}, "after"},
		{url.Values{"after": {"eDE6MA"}}, "after"}, // "x1:0": no rejection has number 0
		{url.Values{"after": {"cjE6"}}, "after"},   // "r1:": no event id
	} {
		code, body := get(tt.query)
		var e struct {
			Code    string
			Details []struct{ Field string }
		}
		json.Unmarshal(body, &e)
		if code != http.StatusBadRequest || len(e.Details) != 1 || e.Details[0].Field != tt.field {
			t.Errorf("GET %s = %d %s, want 400 naming %s", tt.query.Encode(), code, body, tt.field)
		}
	}
}
