package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// contract is the OpenAPI document, loaded once, and a router over it.
var contract struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadContract() (*openapi3.T, routers.Router, error) {
	contract.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(httpapi.OpenAPI)
		if err != nil {
			contract.err = fmt.Errorf("load openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			contract.err = fmt.Errorf("openapi.yaml is not a valid OpenAPI 3 document: %w", err)
			return
		}
		// Tests send requests to example.com.
		doc.Servers = openapi3.Servers{{URL: "http://example.com"}}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			contract.err = err
			return
		}
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", decodeNDJSON)
		openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.FileBodyDecoder)
		contract.doc, contract.router = doc, router
	})
	return contract.doc, contract.router, contract.err
}

// decodeNDJSON reads an NDJSON body as the array of its lines' values.
func decodeNDJSON(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	var out []any
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// checkContract validates a request and its answer against the OpenAPI
// document: the route must be in it, the answer's status, headers and body
// must be described, and a request the API took whole (a 2xx answer with no
// rejected event) must match the request schema. Requests the API refuses
// are bad on purpose and are not checked.
func checkContract(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	_, router, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	// The handler has read the request body: give the validator a copy.
	body := requestBodies.take(req)
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		t.Errorf("%s %s is not in openapi.yaml: %v", req.Method, req.URL.Path, err)
		return
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if rec.Code < 300 && !strings.Contains(rec.Body.String(), `"status":"rejected"`) && len(body) < 1<<20 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s: the request does not match openapi.yaml: %v", req.Method, req.URL.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: the %d answer does not match openapi.yaml: %v\n%s", req.Method, req.URL.Path, rec.Code, err, rec.Body)
	}
}

// requestBodies keeps a copy of each request body sent, for the contract
// check after the handler has read it.
var requestBodies bodyCopies

type bodyCopies struct{ m sync.Map } // *http.Request → *bytes.Buffer

// keep replaces req's body with a reader that copies what the handler
// reads, up to 1 MiB.
func (b *bodyCopies) keep(req *http.Request) {
	if req.Body == nil {
		return
	}
	buf := &bytes.Buffer{}
	req.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(req.Body, &limitedWriter{w: buf, n: 1 << 20}), req.Body}
	b.m.Store(req, buf)
}

func (b *bodyCopies) take(req *http.Request) []byte {
	v, ok := b.m.LoadAndDelete(req)
	if !ok {
		return nil
	}
	return v.(*bytes.Buffer).Bytes()
}

// limitedWriter keeps the first n bytes written.
type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func TestOpenAPIServed(t *testing.T) {
	if _, _, err := loadContract(); err != nil {
		t.Fatal(err)
	}
	s := newIngestServer(t)
	rec := s.send(t, http.MethodGet, "/openapi.yaml", "", nil)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), httpapi.OpenAPI) || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /openapi.yaml = %d %s, want the document", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// TestOpenAPICoversRoutes checks that every route the server has is in the
// document and every path of the document is a route.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc, _, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range httpapi.New(httpapi.Config{}).Routes() {
		served[r] = true
		if !documented[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.yaml documents %s, which the server does not have", op)
		}
	}
}

// TestOpenAPIOtherRoutes sends good and bad requests to the routes beyond
// ingestion and checks each answer against the document.
func TestOpenAPIOtherRoutes(t *testing.T) {
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	s := newIngestServer(t, func(c *httpapi.Config) {
		c.Schemes, c.Earnings, c.Workers = catalog, contractEarnings{}, contractWorkers{}
		c.Ready = []httpapi.Check{{Name: "postgres", Ping: func(context.Context) error { return nil }}}
	})
	quote := `{"scheme_id":"my-gig","plan_id":"s83","event":` + ev("q-1") + `}`
	for _, r := range []struct {
		method, path, contentType, body string
		status                          int
	}{
		{http.MethodGet, "/healthz", "", "", 200},
		{http.MethodGet, "/readyz", "", "", 200},
		{http.MethodGet, "/v1/schemes", "", "", 200},
		{http.MethodGet, "/v1/schemes/my-sess/plans", "", "", 200},
		{http.MethodGet, "/v1/schemes/nope/plans", "", "", 404},
		{http.MethodPost, "/v1/quote", "application/json", quote, 200},
		{http.MethodPost, "/v1/quote", "application/json", `{"scheme_id":"my-gig"}`, 400},
		{http.MethodGet, "/v1/earnings/ord-1", "", "", 200},
		{http.MethodGet, "/v1/earnings/ord-2", "", "", 200},
		{http.MethodGet, "/v1/earnings/nope", "", "", 404},
		{http.MethodGet, "/v1/earnings/ord-1?wait=forever", "", "", 400},
		{http.MethodGet, "/v1/earnings", "", "", 200},
		{http.MethodGet, "/v1/earnings?limit=1", "", "", 200},
		{http.MethodGet, "/v1/earnings?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00%2B08:00&status=rejected", "", "", 200},
		{http.MethodGet, "/v1/earnings?from=yesterday", "", "", 400},
		{http.MethodGet, "/v1/earnings?after=not-a-cursor", "", "", 400},
		{http.MethodGet, "/v1/rejections", "", "", 200},
		{http.MethodGet, "/v1/rejections?limit=0", "", "", 400},
		{http.MethodGet, "/v1/workers/drv-77", "", "", 200},
		{http.MethodGet, "/v1/workers/nobody", "", "", 404},
	} {
		var body io.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		rec := s.send(t, r.method, r.path, r.contentType, body)
		if rec.Code != r.status {
			t.Errorf("%s %s = %d %s, want %d", r.method, r.path, rec.Code, rec.Body, r.status)
		}
	}
}

// contractEarnings has one recorded and one rejected event of platform demo.
type contractEarnings struct{}

func (contractEarnings) Earning(_ context.Context, platformID, eventID string) (postgres.RecordedEarning, error) {
	at := time.Date(2026, 10, 3, 0, 15, 1, 0, time.UTC)
	switch {
	case platformID == "demo" && eventID == "ord-1":
		e, err := feed.Decode([]byte(ev("ord-1")))
		if err != nil {
			return postgres.RecordedEarning{}, err
		}
		return postgres.RecordedEarning{Status: "recorded", RecordedAt: at, Payload: feed.Canonical(e),
			Entries: []postgres.LedgerEntry{{PlatformID: "demo", EventID: "ord-1", WorkerID: "ref:demo:drv-77", SchemeID: "my-gig", PlanID: "s83",
				PlanVersion: 1, Period: "2026-10", BookedPeriod: "2026-10", Kind: postgres.EntryDeduction, Currency: "MYR", Worker: 29, Gross: 2350, Base: 2350}}}, nil
	case platformID == "demo" && eventID == "ord-2":
		return postgres.RecordedEarning{Status: "rejected", RecordedAt: at,
			Rejection: &postgres.Rejection{PlatformID: "demo", EventID: "ord-2", Code: "wrong_currency", Message: "not MYR", Field: "gross.currency"}}, nil
	}
	return postgres.RecordedEarning{}, gateway.Errorf(gateway.ENOTFOUND, "event %q has not been recorded (yet)", eventID)
}

func (contractEarnings) Rejections(_ context.Context, platformID string, _ int64, _ int) ([]postgres.StoredRejection, error) {
	return []postgres.StoredRejection{{ID: 7, EventID: "ord-2", Code: "wrong_currency", Message: "not MYR", Field: "gross.currency",
		RejectedAt: time.Date(2026, 10, 3, 0, 15, 1, 0, time.UTC)}}, nil
}

func (c contractEarnings) ListEarnings(ctx context.Context, platformID string, f postgres.EarningFilter) ([]postgres.ListedEarning, error) {
	var out []postgres.ListedEarning
	for i, id := range []string{"ord-1", "ord-2"} {
		r, err := c.Earning(ctx, platformID, id)
		if err != nil {
			return nil, err
		}
		cur := postgres.EarningCursor{At: r.RecordedAt, EventID: id}
		if r.Status == "rejected" {
			cur = postgres.EarningCursor{At: r.RecordedAt, Rejected: true, ID: int64(i)}
		}
		out = append(out, postgres.ListedEarning{EventID: id, RecordedEarning: r, Cursor: cur})
	}
	return out[:min(len(out), f.Limit)], nil
}

// contractWorkers has one registered worker of platform demo.
type contractWorkers struct{ accWorkers }

func (contractWorkers) Registrations(_ context.Context, platformID, ref string) ([]postgres.Registration, error) {
	if platformID != "demo" || ref != "drv-77" {
		return nil, nil
	}
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	return []postgres.Registration{{PlatformID: "demo", WorkerRef: "drv-77", WorkerKey: strings.Repeat("a", 64), SchemeID: "my-gig",
		Change: "start", PlanID: "s83", Effective: at, RecordedAt: at}}, nil
}
