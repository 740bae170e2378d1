package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/platforms/feed"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// ingestNow is the clock of the ingestion tests.
var ingestNow = time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)

// fakePublisher records what is produced. fail, when set, decides the error
// of each Publish call from its messages.
type fakePublisher struct {
	mu    sync.Mutex
	calls int
	msgs  []kafka.Message
	fail  func(msgs []kafka.Message) error
}

func (p *fakePublisher) Publish(_ context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	var err error
	if p.fail != nil {
		err = p.fail(msgs)
	}
	var werrs kafka.WriteErrors
	for i, m := range msgs {
		switch {
		case err == nil:
		case errors.As(err, &werrs) && werrs[i] == nil:
		default:
			continue
		}
		p.msgs = append(p.msgs, m)
	}
	return err
}

// produced returns the event ids produced so far.
func (p *fakePublisher) produced() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for _, m := range p.msgs {
		_, id := feed.Identify(m.Value)
		ids = append(ids, id)
	}
	return ids
}

type fakePlatforms map[string]postgres.Platform

func (f fakePlatforms) Platform(_ context.Context, id string) (postgres.Platform, error) {
	p, ok := f[id]
	if !ok {
		return postgres.Platform{}, gateway.Errorf(gateway.ENOTFOUND, "no platform %q", id)
	}
	return p, nil
}

// fakeKeys is an in-memory IdempotencyStore with the semantics of the
// PostgreSQL one.
type fakeKeys struct {
	mu sync.Mutex
	m  map[string]*fakeKey
}

type fakeKey struct {
	hash   [32]byte
	answer *postgres.IdempotentAnswer
}

func (f *fakeKeys) ClaimIdempotencyKey(_ context.Context, k postgres.IdempotencyKey) (*postgres.IdempotentAnswer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*fakeKey{}
	}
	id := k.PlatformID + "\x00" + k.Key
	have, ok := f.m[id]
	switch {
	case !ok:
		f.m[id] = &fakeKey{hash: k.Hash}
		return nil, nil
	case have.hash != k.Hash:
		return nil, gateway.Errorf(gateway.EIDEMPOTENCYMISMATCH, "key used for another request")
	case have.answer == nil:
		return nil, gateway.Errorf(gateway.ECONFLICT, "in progress")
	default:
		return have.answer, nil
	}
}

func (f *fakeKeys) CompleteIdempotencyKey(_ context.Context, k postgres.IdempotencyKey, a postgres.IdempotentAnswer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[k.PlatformID+"\x00"+k.Key].answer = &a
	return nil
}

func (f *fakeKeys) ReleaseIdempotencyKey(_ context.Context, k postgres.IdempotencyKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, k.PlatformID+"\x00"+k.Key)
	return nil
}

// fakeRecorded is the engine's record: event id to hash.
type fakeRecorded map[string][32]byte

func (f fakeRecorded) RecordedHashes(_ context.Context, platformID string, ids []string) (map[string][32]byte, error) {
	out := map[string][32]byte{}
	for _, id := range ids {
		if h, ok := f[platformID+"/"+id]; ok {
			out[id] = h
		}
	}
	return out, nil
}

// ingestServer is an API on fakes with two platforms, demo (MYR, since
// 2026-01-01) and other (SGD).
type ingestServer struct {
	h        http.Handler
	pub      *fakePublisher
	keys     *fakeKeys
	recorded fakeRecorded
}

func newIngestServer(t *testing.T, tune ...func(*httpapi.Config)) *ingestServer {
	t.Helper()
	keyer, err := identity.NewKeyer(identity.KeyerConfig{Secret: bytes.Repeat([]byte("k"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	s := &ingestServer{pub: &fakePublisher{}, keys: &fakeKeys{}, recorded: fakeRecorded{}}
	cfg := httpapi.Config{
		Publisher: s.pub,
		Platforms: fakePlatforms{
			"demo":  {ID: "demo", Currency: "MYR", ActiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
			"other": {ID: "other", Currency: "SGD", ActiveFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		},
		Idempotency: s.keys,
		Recorded:    s.recorded,
		Identity:    httpapi.Identity{Keyer: keyer},
		Now:         func() time.Time { return ingestNow },
		MaxSkew:     time.Minute,
		UploadDir:   t.TempDir(),
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range tune {
		f(&cfg)
	}
	s.h = httpapi.New(cfg).Handler()
	return s
}

// asPlatform makes req act for a platform.
func asPlatform(req *http.Request, platformID string) {
	q := req.URL.Query()
	q.Set("platform_id", platformID)
	req.URL.RawQuery = q.Encode()
}

// send makes one request as platform demo and returns the status, the
// headers and the body.
func (s *ingestServer) send(t *testing.T, method, path, contentType string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	asPlatform(req, "demo")
	requestBodies.keep(req)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	checkContract(t, req, rec)
	return rec
}

func (s *ingestServer) post(t *testing.T, contentType, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return s.send(t, http.MethodPost, "/v1/earnings", contentType, strings.NewReader(body), header...)
}

type batchAnswer struct {
	Accepted, Duplicates, Rejected, Failed int
	Items                                  []struct {
		Index      int
		EventID    string `json:"event_id"`
		Status     string
		StatusCode int `json:"status_code"`
		Code       string
		Message    string
		Details    []gateway.Detail
	}
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, rec.Body)
	}
	return v
}

// ev is a valid event of platform demo as JSON, changed by the edits:
// pairs of old and new text.
func ev(id string, edits ...string) string {
	s := fmt.Sprintf(`{"event_id":%q,"platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}`, id)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			panic("ev: no " + edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return s
}

func array(items ...string) string { return "[" + strings.Join(items, ",") + "]" }

func ndjson(items ...string) string { return strings.Join(items, "\n") + "\n" }

func TestPostOneEvent(t *testing.T) {
	s := newIngestServer(t)
	rec := s.post(t, "application/json", ev("ord-1"))
	if rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), `"status":"accepted"`) {
		t.Fatalf("POST = %d %s, want 202 accepted", rec.Code, rec.Body)
	}
	if len(s.pub.msgs) != 1 {
		t.Fatalf("produced %d messages, want 1", len(s.pub.msgs))
	}
	m := s.pub.msgs[0]
	want, err := feed.Decode([]byte(ev("ord-1")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Topic != "earnings" || string(m.Key) != "demo/drv-77" || !bytes.Equal(m.Value, feed.Canonical(want)) {
		t.Errorf("message = %s %s %s, want the canonical event keyed by platform and worker", m.Topic, m.Key, m.Value)
	}
	// The platform may leave platform_id out: the key's platform fills it.
	rec = s.post(t, "application/json", ev("ord-2", `"platform_id":"demo",`, ""))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST without platform_id = %d %s", rec.Code, rec.Body)
	}
	if got, _ := feed.Identify(s.pub.msgs[1].Value); got != "demo" {
		t.Errorf("produced platform_id %q, want demo", got)
	}
	// A retry, spelled differently, is a duplicate and produces nothing.
	rec = s.post(t, "application/json", ev("ord-1", `"23.50"`, `"23.5"`, "2026-10-03T08:15:00+08:00", "2026-10-03T00:15:00Z"))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"duplicate"`) {
		t.Errorf("retry = %d %s, want 200 duplicate", rec.Code, rec.Body)
	}
	if len(s.pub.msgs) != 2 {
		t.Errorf("produced %d messages, want 2", len(s.pub.msgs))
	}
}

func TestPostBatch(t *testing.T) {
	for _, form := range []struct{ name, contentType, body string }{
		{"array", "application/json", array(ev("ord-1"), ev("ord-2", "drv-77", "drv-78"), ev("ord-3"))},
		{"ndjson", "application/x-ndjson", ndjson(ev("ord-1"), ev("ord-2", "drv-77", "drv-78"), "", ev("ord-3"))},
	} {
		t.Run(form.name, func(t *testing.T) {
			s := newIngestServer(t)
			rec := s.post(t, form.contentType, form.body)
			got := decode[batchAnswer](t, rec)
			if rec.Code != http.StatusOK || got.Accepted != 3 || len(got.Items) != 3 {
				t.Fatalf("POST = %d %s, want 200 with 3 accepted", rec.Code, rec.Body)
			}
			for i, it := range got.Items {
				if it.Index != i || it.EventID != fmt.Sprintf("ord-%d", i+1) || it.Status != "accepted" || it.StatusCode != 202 {
					t.Errorf("item %d = %+v", i, it)
				}
			}
			if s.pub.calls != 1 || len(s.pub.msgs) != 3 {
				t.Errorf("%d Publish calls for %d messages, want 1 for 3", s.pub.calls, len(s.pub.msgs))
			}
			// The whole batch again: every event is a duplicate, nothing
			// is produced.
			rec = s.post(t, form.contentType, form.body)
			got = decode[batchAnswer](t, rec)
			if rec.Code != http.StatusOK || got.Duplicates != 3 || got.Accepted != 0 {
				t.Errorf("retry = %d %s, want 3 duplicates", rec.Code, rec.Body)
			}
			if len(s.pub.msgs) != 3 {
				t.Errorf("the retry produced: %d messages, want 3", len(s.pub.msgs))
			}
		})
	}
}

func TestPostBatchDuplicates(t *testing.T) {
	s := newIngestServer(t)
	recorded, err := feed.Decode([]byte(ev("ord-r")))
	if err != nil {
		t.Fatal(err)
	}
	s.recorded["demo/ord-r"] = feed.Hash(recorded)
	s.recorded["demo/ord-x"] = sha256.Sum256([]byte("other content"))
	if rec := s.post(t, "application/json", ev("ord-0")); rec.Code != http.StatusAccepted {
		t.Fatal(rec.Body)
	}
	rec := s.post(t, "application/json", array(
		ev("ord-1"),
		ev("ord-1", `"23.50"`, `"23.5"`),  // same event again in the request
		ev("ord-1", `"23.50"`, `"24.00"`), // same id, other content, in the request
		ev("ord-0"),                       // accepted by an earlier request
		ev("ord-0", `"23.50"`, `"1.00"`),  // conflicts with an earlier request
		ev("ord-r"),                       // recorded by the engine
		ev("ord-x"),                       // recorded with other content
	))
	got := decode[batchAnswer](t, rec)
	want := []struct {
		status string
		code   int
	}{{"accepted", 202}, {"duplicate", 200}, {"rejected", 409}, {"duplicate", 200}, {"rejected", 409}, {"duplicate", 200}, {"rejected", 409}}
	if len(got.Items) != len(want) {
		t.Fatalf("answer = %s", rec.Body)
	}
	for i, w := range want {
		it := got.Items[i]
		if it.Status != w.status || it.StatusCode != w.code {
			t.Errorf("item %d = %s %d, want %s %d", i, it.Status, it.StatusCode, w.status, w.code)
		}
		if w.code == 409 && (it.Code != "conflict" || len(it.Details) != 1 || it.Details[0].Field != fmt.Sprintf("[%d].event_id", i)) {
			t.Errorf("item %d = %+v, want a conflict on [%d].event_id", i, it, i)
		}
	}
	if ids := s.pub.produced(); strings.Join(ids, ",") != "ord-0,ord-1" {
		t.Errorf("produced %v, want ord-0 then ord-1", ids)
	}
}

// TestPostBadInput feeds every kind of bad input through HTTP: alone, where
// the answer is the error, and between two good events of a batch, where the
// answer is the item's and the good events are produced, nothing else.
func TestPostBadInput(t *testing.T) {
	tests := []struct {
		name        string
		event       string // a bad event; empty for a bad request
		contentType string // default application/json
		body        string // the request, for a bad request
		status      int
		code        string
		field       string
		detail      string
	}{
		{name: "malformed JSON", event: `{"event_id":"ord-9",`, status: 400, code: "invalid", detail: "malformed_json"},
		{name: "malformed JSON array", body: `[` + ev("ord-1") + `,{"event_id":`, status: 400, code: "invalid", field: "[1]", detail: "malformed_json"},
		{name: "wrong type: money as a number", event: ev("ord-9", `"23.50"`, `23.50`), status: 400, code: "invalid", field: "gross.value", detail: "wrong_type"},
		{name: "wrong type: orders as a string", event: ev("ord-9", `"gross"`, `"orders":"2","gross"`), status: 400, code: "invalid", field: "orders", detail: "wrong_type"},
		{name: "unknown field", event: ev("ord-9", `"gross"`, `"tip":"1","gross"`), status: 400, code: "invalid", field: "tip", detail: "unknown_field"},
		{name: "missing event_id", event: ev("", `"event_id":"",`, ""), status: 400, code: "invalid", field: "event_id", detail: "required"},
		{name: "missing occurred_at", event: ev("ord-9", `"occurred_at":"2026-10-03T08:15:00+08:00",`, ""), status: 400, code: "invalid", field: "occurred_at", detail: "required"},
		{name: "missing gross", event: ev("ord-9", `,"gross":{"currency":"MYR","value":"23.50"}`, ""), status: 400, code: "invalid", field: "gross", detail: "required"},
		{name: "negative amount outside a reversal", event: ev("ord-9", `"23.50"`, `"-23.50"`), status: 400, code: "invalid", field: "gross", detail: "negative"},
		{name: "currency not the platform's", event: ev("ord-9", `"MYR"`, `"SGD"`), status: 400, code: "invalid", field: "gross.currency", detail: "wrong_currency"},
		{name: "more decimals than the currency has", event: ev("ord-9", `"23.50"`, `"23.505"`), status: 400, code: "invalid", field: "gross.value", detail: "too_many_decimals"},
		{name: "occurred in the future beyond the skew", event: ev("ord-9", "2026-10-03T08:15:00+08:00", "2026-10-10T00:01:01Z"), status: 400, code: "invalid", field: "occurred_at", detail: "in_future"},
		{name: "occurred before the platform existed", event: ev("ord-9", "2026-10-03T08:15:00+08:00", "2025-12-31T23:59:59Z"), status: 400, code: "invalid", field: "occurred_at", detail: "before_platform"},
		{name: "no worker identity", event: ev("ord-9", `"worker_ref":"drv-77",`, ""), status: 400, code: "invalid", field: "worker_ref", detail: "required"},
		{name: "platform_id of another platform", event: ev("ord-9", `"platform_id":"demo"`, `"platform_id":"other"`), status: 404, code: "not_found", field: "platform_id", detail: "platform_mismatch"},
		{name: "platform_id of no platform", event: ev("ord-9", `"platform_id":"demo"`, `"platform_id":"nope"`), status: 404, code: "not_found", field: "platform_id", detail: "platform_mismatch"},
		{name: "duplicate id with other content", event: ev("ord-0", `"23.50"`, `"99.00"`), status: 409, code: "conflict", field: "event_id", detail: "conflict"},
		{name: "event too large", event: ev("ord-9", `"drv-77"`, `"`+strings.Repeat("w", 70<<10)+`"`), status: 413, code: "too_large"},
		{name: "body too large", body: array(ev("ord-1"), ev("ord-2", `"drv-77"`, `"`+strings.Repeat("w", 130<<10)+`"`)), status: 413, code: "too_large"},
		{name: "too many events", body: array(ev("ord-1"), ev("ord-2"), ev("ord-3"), ev("ord-4")), status: 413, code: "too_large"},
		{name: "empty array", body: `[]`, status: 400, code: "invalid", detail: "empty"},
		{name: "wrong content type", contentType: "text/plain", body: ev("ord-9"), status: 415, code: "unsupported_media_type"},
		{name: "no content type", contentType: "-", body: ev("ord-9"), status: 415, code: "unsupported_media_type"},
	}
	tune := func(c *httpapi.Config) { c.MaxBodyBytes, c.MaxBatchItems = 128<<10, 3 }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIngestServer(t, tune)
			if rec := s.post(t, "application/json", ev("ord-0")); rec.Code != http.StatusAccepted {
				t.Fatal(rec.Body)
			}
			before := len(s.pub.msgs)
			ct := tt.contentType
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			body := tt.body
			if body == "" {
				body = tt.event
			}
			rec := s.post(t, ct, body)
			e := decode[errorAnswer](t, rec)
			if rec.Code != tt.status || e.Code != tt.code {
				t.Fatalf("POST = %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.code)
			}
			if tt.detail != "" && !hasFieldDetail(e.Details, tt.field, tt.detail) {
				t.Errorf("details = %+v, want field %q code %q", e.Details, tt.field, tt.detail)
			}
			if n := len(s.pub.msgs); n != before {
				t.Errorf("a refused request produced %d messages", n-before)
			}
			if tt.event == "" {
				return
			}
			// The same event between two good ones.
			for _, form := range []struct{ contentType, body string }{
				{"application/json", array(ev("ord-1"), tt.event, ev("ord-2"))},
				{"application/x-ndjson", ndjson(ev("ord-3"), tt.event, ev("ord-4"))},
			} {
				before := len(s.pub.msgs)
				rec := s.post(t, form.contentType, form.body)
				if tt.name == "malformed JSON" && form.contentType == "application/json" {
					// A broken item breaks the array.
					if e := decode[errorAnswer](t, rec); rec.Code != 400 || e.Code != "invalid" || !hasFieldDetail(e.Details, "[1]", "malformed_json") {
						t.Errorf("array with a malformed item = %d %s", rec.Code, rec.Body)
					}
					continue
				}
				got := decode[batchAnswer](t, rec)
				if rec.Code != http.StatusOK || len(got.Items) != 3 || got.Accepted != 2 || got.Rejected != 1 {
					t.Fatalf("%s batch = %d %s, want 200 with 2 accepted and 1 rejected", form.contentType, rec.Code, rec.Body)
				}
				it := got.Items[1]
				field := "[1]"
				if tt.field != "" {
					field += "." + tt.field
				}
				if it.Status != "rejected" || it.StatusCode != tt.status || it.Code != tt.code ||
					(tt.detail != "" && !hasFieldDetail(it.Details, field, tt.detail)) {
					t.Errorf("%s item = %+v, want %d %s with %s %s", form.contentType, it, tt.status, tt.code, field, tt.detail)
				}
				if form.contentType == "application/x-ndjson" && tt.detail != "" && it.Details[0].Line != 2 {
					t.Errorf("NDJSON detail %+v does not name line 2", it.Details[0])
				}
				if n := len(s.pub.msgs) - before; n != 2 {
					t.Errorf("%s batch produced %d messages, want the 2 good ones", form.contentType, n)
				}
			}
		})
	}
}

func hasFieldDetail(ds []gateway.Detail, field, code string) bool {
	for _, d := range ds {
		if d.Field == field && d.Code == code {
			return true
		}
	}
	return false
}

func TestPostIdempotencyKey(t *testing.T) {
	s := newIngestServer(t)
	body := array(ev("ord-1"), ev("ord-2", `"23.50"`, `"1.005"`))
	first := s.post(t, "application/json", body, "Idempotency-Key", "batch-1")
	if first.Code != http.StatusOK {
		t.Fatalf("first = %d %s", first.Code, first.Body)
	}
	// The same body, however spelled, replays the first answer. An
	// accepted event would now be a duplicate: the replay says accepted.
	for _, again := range []struct{ contentType, body string }{
		{"application/json", body},
		{"application/json", strings.ReplaceAll(array(ev("ord-1", `"23.50"`, `"23.5"`), ev("ord-2", `"23.50"`, `"1.005"`)), ",", " ,\n ")},
		{"application/x-ndjson", ndjson(ev("ord-1"), ev("ord-2", `"23.50"`, `"1.005"`))},
	} {
		rec := s.post(t, again.contentType, again.body, "Idempotency-Key", "batch-1")
		if rec.Code != first.Code || rec.Body.String() != first.Body.String() || rec.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay = %d %s, want the first answer %s", rec.Code, rec.Body, first.Body)
		}
	}
	if len(s.pub.msgs) != 1 {
		t.Errorf("produced %d messages, want 1", len(s.pub.msgs))
	}
	// The same key with another body.
	rec := s.post(t, "application/json", array(ev("ord-1"), ev("ord-3")), "Idempotency-Key", "batch-1")
	if e := decode[errorAnswer](t, rec); rec.Code != http.StatusUnprocessableEntity || e.Code != "idempotency_mismatch" {
		t.Errorf("other body = %d %s, want 422 idempotency_mismatch", rec.Code, rec.Body)
	}
	// A single event with a key.
	one := s.post(t, "application/json", ev("ord-5"), "Idempotency-Key", "one")
	two := s.post(t, "application/json", ev("ord-5"), "Idempotency-Key", "one")
	if one.Code != 202 || two.Code != 202 || one.Body.String() != two.Body.String() {
		t.Errorf("single event with a key: %d %s then %d %s, want the same 202 twice", one.Code, one.Body, two.Code, two.Body)
	}
}

func TestPostKafkaFailure(t *testing.T) {
	s := newIngestServer(t)
	// Kafka takes the first message and not the second.
	s.pub.fail = func(msgs []kafka.Message) error {
		werrs := make(kafka.WriteErrors, len(msgs))
		for i := 1; i < len(msgs); i++ {
			werrs[i] = kafka.LeaderNotAvailable
		}
		return werrs
	}
	body := array(ev("ord-1"), ev("ord-2"))
	rec := s.post(t, "application/json", body, "Idempotency-Key", "k")
	got := decode[batchAnswer](t, rec)
	if rec.Code != http.StatusOK || got.Accepted != 1 || got.Failed != 1 || got.Items[1].Status != "failed" || got.Items[1].StatusCode != 503 {
		t.Fatalf("partial failure = %d %s", rec.Code, rec.Body)
	}
	// The key was not kept: the same request with it is answered anew.
	s.pub.fail = nil
	rec = s.post(t, "application/json", body, "Idempotency-Key", "k")
	got = decode[batchAnswer](t, rec)
	if rec.Code != http.StatusOK || got.Duplicates != 1 || got.Accepted != 1 {
		t.Fatalf("retry = %d %s, want ord-1 duplicate and ord-2 accepted", rec.Code, rec.Body)
	}
	// Kafka fails as a whole: nothing is accepted.
	s.pub.fail = func([]kafka.Message) error { return errors.New("broker down") }
	rec = s.post(t, "application/json", ev("ord-3"))
	if e := decode[errorAnswer](t, rec); rec.Code != http.StatusServiceUnavailable || e.Code != "internal" {
		t.Errorf("single event, Kafka down = %d %s, want 503", rec.Code, rec.Body)
	}
	s.pub.fail = nil
	if rec := s.post(t, "application/json", ev("ord-3")); rec.Code != http.StatusAccepted {
		t.Errorf("single event once Kafka is back = %d %s, want 202", rec.Code, rec.Body)
	}
}

func TestPostUnknownPlatform(t *testing.T) {
	s := newIngestServer(t)
	req := httptest.NewRequest(http.MethodPost, "/v1/earnings", strings.NewReader(ev("ord-1")))
	req.Header.Set("Content-Type", "application/json")
	asPlatform(req, "nope")
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound || len(s.pub.msgs) != 0 {
		t.Errorf("POST for an unknown platform = %d %s, want 404 and nothing produced", rec.Code, rec.Body)
	}
}

// TestPostAccessRefusals covers the bad input that is about the key rather
// than the events, on both earnings doors: each is refused with the status
// and code of the list, and nothing is produced.
func TestPostAccessRefusals(t *testing.T) {
	r := newAccRig(t)
	event := strings.Replace(victimEvent("ord-a1"), victim, "signed", 1)
	csvBody := "event_id,worker_ref,occurred_at,currency,gross\nord-a2,drv-1,2026-10-03T08:15:00+08:00,MYR,1.00\n"
	sign := func(at time.Time, body string) string { return access.Sign(r.signing, at, []byte(body)) }
	tests := []struct {
		name, path, token, body string
		header                  []string
		status                  int
		code                    string
	}{
		{"missing key", "/v1/earnings", "", event, nil, 401, "unauthorized"},
		{"malformed key", "/v1/earnings", "not-a-key", event, nil, 401, "unauthorized"},
		{"unknown key", "/v1/earnings", "cbk_test_aaaaaaaa_" + strings.Repeat("b", 43), event, nil, 401, "unauthorized"},
		{"revoked key", "/v1/earnings", r.tokens["revoked"], victimEvent("ord-a3"), nil, 401, "unauthorized"},
		{"missing signature", "/v1/earnings", r.tokens["signed"], event, nil, 401, "unauthorized"},
		{"bad signature", "/v1/earnings", r.tokens["signed"], event, []string{access.SignatureHeader, sign(accNow, event+" ")}, 401, "unauthorized"},
		{"stale timestamp", "/v1/earnings", r.tokens["signed"], event, []string{access.SignatureHeader, sign(accNow.Add(-time.Hour), event)}, 401, "unauthorized"},
		{"wrong platform in the query", "/v1/earnings?platform_id=other", r.tokens["victim"], victimEvent("ord-a4"), nil, 404, "not_found"},
		{"CSV: missing key", "/v1/earnings.csv", "", csvBody, nil, 401, "unauthorized"},
		{"CSV: wrong platform in the query", "/v1/earnings.csv?platform_id=other", r.tokens["victim"], csvBody, nil, 404, "not_found"},
		{"CSV: another platform's rejections", "/v1/earnings.csv/" + strings.Repeat("a", 32) + "/rejections", r.tokens["other"], "", nil, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.body == "" {
				method = http.MethodGet
			}
			rec := r.do(method, tt.path, tt.token, tt.body, tt.header...)
			if strings.HasPrefix(tt.path, "/v1/earnings.csv") && tt.body != "" {
				req := httptest.NewRequest(method, tt.path, strings.NewReader(tt.body))
				req.Header.Set("Content-Type", "text/csv")
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				rec = httptest.NewRecorder()
				r.e.ServeHTTP(rec, req)
			}
			e := decode[errorAnswer](t, rec)
			if rec.Code != tt.status || e.Code != tt.code {
				t.Errorf("%s %s = %d %s, want %d %s", method, tt.path, rec.Code, rec.Body, tt.status, tt.code)
			}
			if len(r.pub.msgs) != 0 {
				t.Errorf("a refused request produced %d messages", len(r.pub.msgs))
			}
		})
	}
}

type failingRecorded struct{}

func (failingRecorded) RecordedHashes(context.Context, string, []string) (map[string][32]byte, error) {
	return nil, errors.New("database down")
}

// TestPostWithoutRecordedIndex checks that ingestion goes on when PostgreSQL
// does not answer the lookup of recorded events.
func TestPostWithoutRecordedIndex(t *testing.T) {
	s := newIngestServer(t, func(c *httpapi.Config) { c.Recorded = failingRecorded{} })
	if rec := s.post(t, "application/json", ev("ord-1")); rec.Code != http.StatusAccepted {
		t.Fatalf("POST = %d %s, want 202", rec.Code, rec.Body)
	}
	if rec := s.post(t, "application/json", ev("ord-1")); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "duplicate") {
		t.Errorf("retry = %d %s, want 200 duplicate from the recent index", rec.Code, rec.Body)
	}
}
