package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
)

// schemeServer serves the built-in scheme packs.
func schemeServer(t *testing.T) http.Handler {
	t.Helper()
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	return httpapi.New(httpapi.Config{Schemes: catalog, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
}

// call sends one request and decodes the JSON answer into out.
func call(t *testing.T, h http.Handler, method, path, contentType, body string, out any) int {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, rec.Body)
	}
	return rec.Code
}

type errorAnswer struct {
	Code    string           `json:"code"`
	Message string           `json:"message"`
	Details []gateway.Detail `json:"details"`
}

func TestListSchemes(t *testing.T) {
	h := schemeServer(t)
	var got struct {
		Schemes []struct {
			ID, Name, Country, Currency, Source, Digest string
			TimeZone                                    string `json:"time_zone"`
			Plans                                       []struct{ ID, Name string }
		}
	}
	if code := call(t, h, http.MethodGet, "/v1/schemes", "", "", &got); code != http.StatusOK {
		t.Fatalf("status = %d, want 200", code)
	}
	var ids []string
	for _, s := range got.Schemes {
		ids = append(ids, s.ID)
		if s.Name == "" || s.Country == "" || s.Currency == "" || s.TimeZone == "" || s.Source == "" || len(s.Digest) != 64 || len(s.Plans) == 0 {
			t.Errorf("scheme %s is missing a field: %+v", s.ID, s)
		}
	}
	want := []string{"cl-honorarios", "cn-oip", "in-coss", "in-ka-welfare", "kr-ei", "my-gig", "my-sess"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("scheme ids = %v, want %v", ids, want)
	}
	for _, s := range got.Schemes {
		if s.ID != "my-sess" {
			continue
		}
		if s.Currency != "MYR" || s.TimeZone != "Asia/Kuala_Lumpur" || s.Country != "MY" {
			t.Errorf("my-sess = %+v", s)
		}
		if len(s.Plans) != 4 || s.Plans[0].ID != "1" || !strings.Contains(s.Plans[0].Name, "RM1,050") {
			t.Errorf("my-sess plans = %+v, want plans 1-4", s.Plans)
		}
	}
}

func TestListSchemesWithoutCatalog(t *testing.T) {
	h := httpapi.New(httpapi.Config{}).Handler()
	var got struct{ Schemes []json.RawMessage }
	if code := call(t, h, http.MethodGet, "/v1/schemes", "", "", &got); code != http.StatusOK || got.Schemes == nil || len(got.Schemes) != 0 {
		t.Errorf("status %d, schemes %v; want 200 and an empty list", code, got.Schemes)
	}
	var e errorAnswer
	if code := call(t, h, http.MethodGet, "/v1/schemes/my-sess/plans", "", "", &e); code != http.StatusNotFound || e.Code != gateway.ENOTFOUND {
		t.Errorf("plans without a catalog: %d %+v, want 404 not_found", code, e)
	}
}

func TestListPlans(t *testing.T) {
	h := schemeServer(t)
	type version struct {
		Version   int
		ValidFrom string `json:"valid_from"`
		ValidTo   string `json:"valid_to"`
		Period    string
		YearStart int `json:"year_start"`
		Rule      map[string]any
	}
	type answer struct {
		SchemeID string `json:"scheme_id"`
		Plans    []struct {
			ID, Name string
			Versions []version
		}
	}

	var cl answer
	if code := call(t, h, http.MethodGet, "/v1/schemes/cl-honorarios/plans", "", "", &cl); code != http.StatusOK {
		t.Fatalf("status = %d", code)
	}
	if cl.SchemeID != "cl-honorarios" || len(cl.Plans) != 1 || len(cl.Plans[0].Versions) != 4 {
		t.Fatalf("cl-honorarios = %+v, want one plan with 4 versions", cl)
	}
	v1, v2, v4 := cl.Plans[0].Versions[0], cl.Plans[0].Versions[1], cl.Plans[0].Versions[3]
	if v1.Version != 1 || v1.ValidFrom != "2025-01-01T00:00:00-03:00" || v1.ValidTo != "2026-01-01T00:00:00-03:00" || v1.Period != "year" {
		t.Errorf("version 1 = %+v", v1)
	}
	if v1.Rule["kind"] != "percentage" || v1.Rule["worker_rate"] != "14.5%" || v2.Rule["worker_rate"] != "15.25%" {
		t.Errorf("rules as written: v1 %v, v2 %v", v1.Rule, v2.Rule)
	}
	if v4.ValidTo != "" {
		t.Errorf("the last version is open-ended, got valid_to %q", v4.ValidTo)
	}

	var india answer
	if code := call(t, h, http.MethodGet, "/v1/schemes/in-coss/plans", "", "", &india); code != http.StatusOK {
		t.Fatalf("status = %d", code)
	}
	if v := india.Plans[0].Versions[0]; v.YearStart != 4 || v.ValidFrom[len(v.ValidFrom)-6:] != "+05:30" {
		t.Errorf("India CoSS version = %+v, want a fiscal year from April in IST", v)
	}

	var e errorAnswer
	if code := call(t, h, http.MethodGet, "/v1/schemes/xx-none/plans", "", "", &e); code != http.StatusNotFound || e.Code != gateway.ENOTFOUND || !strings.Contains(e.Message, "xx-none") {
		t.Errorf("unknown scheme: %d %+v, want 404 not_found naming it", code, e)
	}
}

// event returns a wire event; extra is spliced into the object.
func event(occurredAt, currency, gross, extra string) string {
	return `{"event_id":"q-1","platform_id":"demo","worker_ref":"w-1","occurred_at":"` + occurredAt +
		`","gross":{"currency":"` + currency + `","value":"` + gross + `"}` + extra + `}`
}

func TestQuote(t *testing.T) {
	h := schemeServer(t)
	type money struct{ Currency, Value string }
	type answer struct {
		EventID  string `json:"event_id"`
		SchemeID string `json:"scheme_id"`
		PlanID   string `json:"plan_id"`
		Version  int
		Period   string
		RuleKind string `json:"rule_kind"`
		Base     money
		Worker   money
		Platform money
		Total    money
		Flags    []string
		State    map[string]any
	}
	oct := "2026-10-03T08:15:00+08:00"
	tests := []struct {
		name                            string
		body                            string
		worker, platform, total, period string
		version                         int
		flags                           []string
		state                           map[string]any // fields of the state after to check
	}{
		{
			name:   "SESS plan 1 takes the month's RM13.10 from a large earning",
			body:   `{"scheme_id":"my-sess","plan_id":"1","event":` + event(oct, "MYR", "100.00", "") + `}`,
			worker: "13.10", platform: "0.00", total: "13.10", period: "2026-10", version: 1,
			flags: []string{"period_amount_reached"},
			state: map[string]any{"worker": "13.10", "events": 1.0, "gross": "100.00"},
		},
		{
			name:   "SESS plan 1 takes at most half of a small earning",
			body:   `{"scheme_id":"my-sess","plan_id":"1","event":` + event(oct, "MYR", "20.00", "") + `}`,
			worker: "10.00", platform: "0.00", total: "10.00", period: "2026-10", version: 1,
			flags: []string{"share_limited"},
		},
		{
			name:   "SESS plan 1 with RM10.00 already withheld takes the rest",
			body:   `{"scheme_id":"my-sess","plan_id":"1","state":{"period":"2026-10","events":1,"gross":"20.00","base":"20.00","worker":"10.00"},"event":` + event(oct, "MYR", "20.00", "") + `}`,
			worker: "3.10", platform: "0.00", total: "3.10", period: "2026-10", version: 1,
			flags: []string{"period_amount_reached"},
			state: map[string]any{"worker": "13.10", "events": 2.0, "gross": "40.00"},
		},
		{
			name:   "SESS month boundary in Kuala Lumpur: 23:30 UTC on 31 October is November",
			body:   `{"scheme_id":"my-sess","plan_id":"2","event":` + event("2026-10-31T23:30:00Z", "MYR", "100.00", "") + `}`,
			worker: "19.40", platform: "0.00", total: "19.40", period: "2026-11", version: 1,
			flags: []string{"period_amount_reached"},
		},
		{
			name:   "Korea EI below the threshold is provisional; expenses leave the base",
			body:   `{"scheme_id":"kr-ei","event":` + event("2026-10-03T10:00:00+09:00", "KRW", "100000", `,"exclusions":{"expenses":{"currency":"KRW","value":"20000"}}`) + `}`,
			worker: "640", platform: "640", total: "1280", period: "2026-10", version: 1,
			flags: []string{"provisional"},
			state: map[string]any{"base": "80000", "gross": "100000"},
		},
		{
			name:   "Korea EI crossing the threshold with a prior state",
			body:   `{"scheme_id":"kr-ei","plan_id":"platform-workers","state":{"events":3,"gross":"750000","base":"750000","insured":"750000","worker":"6000","platform":"6000"},"event":` + event("2026-10-20T10:00:00+09:00", "KRW", "100000", "") + `}`,
			worker: "800", platform: "800", total: "1600", period: "2026-10", version: 1,
			flags: []string{},
			state: map[string]any{"base": "850000", "worker": "6800", "platform": "6800", "events": 4.0},
		},
		{
			name:   "Chile 2026 rate",
			body:   `{"scheme_id":"cl-honorarios","event":` + event("2026-03-01T12:00:00-03:00", "CLP", "100000", "") + `}`,
			worker: "15250", platform: "0", total: "15250", period: "2026", version: 2,
			flags: []string{},
		},
		{
			name:   "Chile year boundary in Santiago: 02:30 UTC on 1 January is still 2025",
			body:   `{"scheme_id":"cl-honorarios","event":` + event("2026-01-01T02:30:00Z", "CLP", "100000", "") + `}`,
			worker: "14500", platform: "0", total: "14500", period: "2025", version: 1,
			flags: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got answer
			if code := call(t, h, http.MethodPost, "/v1/quote", "application/json", tt.body, &got); code != http.StatusOK {
				t.Fatalf("status = %d, answer %+v", code, got)
			}
			if got.Worker.Value != tt.worker || got.Platform.Value != tt.platform || got.Total.Value != tt.total {
				t.Errorf("worker %s, platform %s, total %s; want %s, %s, %s", got.Worker.Value, got.Platform.Value, got.Total.Value, tt.worker, tt.platform, tt.total)
			}
			if got.RuleKind == "" {
				t.Error("rule_kind is missing")
			}
			if got.Worker.Currency != got.Total.Currency || got.Worker.Currency == "" {
				t.Errorf("currencies: worker %q, total %q", got.Worker.Currency, got.Total.Currency)
			}
			if got.Period != tt.period || got.Version != tt.version || got.EventID != "q-1" || got.PlanID == "" || got.SchemeID == "" {
				t.Errorf("period %s version %d event %s plan %s/%s; want period %s version %d", got.Period, got.Version, got.EventID, got.SchemeID, got.PlanID, tt.period, tt.version)
			}
			if !reflect.DeepEqual(got.Flags, tt.flags) { // never null: [] when no flag is set
				t.Errorf("flags = %#v, want %#v", got.Flags, tt.flags)
			}
			for k, want := range tt.state {
				if got.State[k] != want {
					t.Errorf("state.%s = %v, want %v", k, got.State[k], want)
				}
			}
		})
	}
}

func TestQuoteRejects(t *testing.T) {
	h := schemeServer(t)
	oct := "2026-10-03T08:15:00+08:00"
	sess := func(extra string) string {
		return `{"scheme_id":"my-sess","plan_id":"1"` + extra + `}`
	}
	ev := `,"event":` + event(oct, "MYR", "100.00", "")
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
		field       string
		detail      string // the detail's code, when it matters
		message     string // a part of the message or the detail's message
	}{
		{"not JSON content", "text/plain", sess(ev), 415, gateway.EUNSUPPORTED, "", "", ""},
		{"malformed JSON", "application/json", `{"scheme_id":`, 400, gateway.EINVALID, "", "malformed_json", ""},
		{"unknown request field", "application/json", sess(ev + `,"dry":true`), 400, gateway.EINVALID, "dry", "", ""},
		{"scheme_id missing", "application/json", `{"plan_id":"1"` + ev + `}`, 400, gateway.EINVALID, "scheme_id", "required", ""},
		{"event missing", "application/json", sess(""), 400, gateway.EINVALID, "event", "required", ""},
		{"event null", "application/json", sess(`,"event":null`), 400, gateway.EINVALID, "event", "required", ""},
		{"gross as a JSON number", "application/json",
			sess(`,"event":{"event_id":"q-1","platform_id":"demo","worker_ref":"w-1","occurred_at":"` + oct + `","gross":{"currency":"MYR","value":23.5}}`),
			400, gateway.EINVALID, "event.gross.value", "wrong_type", ""},
		{"event without worker", "application/json",
			sess(`,"event":{"event_id":"q-1","platform_id":"demo","occurred_at":"` + oct + `","gross":{"currency":"MYR","value":"23.50"}}`),
			400, gateway.EINVALID, "event.worker_ref", "required", ""},
		{"too many decimals", "application/json", sess(`,"event":` + event(oct, "MYR", "1.005", "")), 400, gateway.EINVALID, "event.gross.value", "", ""},
		{"unknown scheme", "application/json", `{"scheme_id":"xx-none"` + ev + `}`, 404, gateway.ENOTFOUND, "scheme_id", "unknown_scheme", "xx-none"},
		{"unknown plan", "application/json", `{"scheme_id":"my-sess","plan_id":"9"` + ev + `}`, 404, gateway.ENOTFOUND, "plan_id", "unknown_plan", `"9"`},
		{"plan_id needed when the scheme has several", "application/json", `{"scheme_id":"my-sess"` + ev + `}`, 400, gateway.EINVALID, "plan_id", "required", "1, 2, 3, 4"},
		{"no version in force before the scheme began", "application/json", sess(`,"event":` + event("2016-03-01T08:00:00+08:00", "MYR", "100.00", "")),
			404, gateway.ENOTFOUND, "event.occurred_at", "no_version", "2016-03-01T00:00:00Z"},
		{"event in another currency", "application/json", sess(`,"event":` + event(oct, "KRW", "1000", "")), 400, gateway.EINVALID, "event.gross.currency", "currency_mismatch", ""},
		{"reversal", "application/json", sess(`,"event":` + event(oct, "MYR", "-100.00", `,"kind":"reversal","reverses":"q-0"`)), 400, gateway.EINVALID, "event.kind", "not_supported", ""},
		{"state with too many decimals", "application/json", sess(ev + `,"state":{"worker":"1.234"}`), 400, gateway.EINVALID, "state.worker", "too_many_decimals", ""},
		{"state amount as a number", "application/json", sess(ev + `,"state":{"worker":1.5}`), 400, gateway.EINVALID, "state.worker", "wrong_type", ""},
		{"state with negative events", "application/json", sess(ev + `,"state":{"events":-1}`), 400, gateway.EINVALID, "state.events", "negative", ""},
		{"state of another period", "application/json", sess(ev + `,"state":{"period":"2026-09","worker":"1.00"}`), 400, gateway.EINVALID, "state.period", "period_mismatch", "2026-10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got errorAnswer
			code := call(t, h, http.MethodPost, "/v1/quote", tt.contentType, tt.body, &got)
			if code != tt.status || got.Code != tt.code {
				t.Fatalf("status %d code %q, want %d %q: %+v", code, got.Code, tt.status, tt.code, got)
			}
			if tt.field == "" && tt.detail == "" {
				return
			}
			if len(got.Details) == 0 {
				t.Fatalf("no details: %+v", got)
			}
			d := got.Details[0]
			if tt.field != "" && d.Field != tt.field {
				t.Errorf("field = %q, want %q (%+v)", d.Field, tt.field, got.Details)
			}
			if tt.detail != "" && d.Code != tt.detail {
				t.Errorf("detail code = %q, want %q (%+v)", d.Code, tt.detail, d)
			}
			if tt.message != "" && !strings.Contains(got.Message+" "+d.Message, tt.message) {
				t.Errorf("message %q / %q does not mention %q", got.Message, d.Message, tt.message)
			}
		})
	}
}
