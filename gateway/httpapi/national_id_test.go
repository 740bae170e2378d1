package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// The national IDs of these tests: a valid MyKad (mykad, worker_test.go),
// one with a month 13 and one with a place code never issued.
const (
	mykadBadDate  = "901301-14-5678"
	mykadBadPlace = "900101-00-5678"
)

// nidEvent is a valid event of platform demo naming its worker by the
// national ID of country number, and by worker_ref when ref is not empty.
func nidEvent(id, ref, country, number string) string {
	e := map[string]any{"event_id": id, "platform_id": "demo", "occurred_at": "2026-10-03T08:15:00+08:00",
		"gross":       map[string]string{"currency": "MYR", "value": "23.50"},
		"national_id": map[string]string{"country": country, "number": number}}
	if ref != "" {
		e["worker_ref"] = ref
	}
	b, _ := json.Marshal(e)
	return string(b)
}

// syncBuffer is a log destination safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testKeyer is the keyer of newIngestServer.
func testKeyer(t *testing.T) *identity.Keyer {
	t.Helper()
	k, err := identity.NewKeyer(identity.KeyerConfig{Secret: bytes.Repeat([]byte("k"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPostNationalID feeds events naming the worker by national ID to every
// HTTP door, one event, an array, NDJSON and CSV: a valid number is keyed
// (the message carries worker_key and is keyed by it), an invalid one is
// rejected with the identity validator's code on national_id.number (CSV:
// the national_id column), an unsupported country on national_id.country.
func TestPostNationalID(t *testing.T) {
	key := testKeyer(t).Key("MY", "900101145678")
	tests := []struct {
		name   string
		event  string
		field  string // of the rejection; "" when accepted
		code   string
		csvRow string // the same event as a CSV row under nidHeader
	}{
		{name: "reference and national ID", event: nidEvent("n1", "drv-77", "MY", mykad),
			csvRow: "n1,drv-77,MY," + mykad},
		{name: "national ID alone", event: nidEvent("n2", "", "MY", mykad),
			csvRow: "n2,,MY," + mykad},
		{name: "lower-case country", event: nidEvent("n3", "drv-77", "my", mykad),
			csvRow: "n3,drv-77,my," + mykad},
		{name: "birth date not a date", event: nidEvent("n4", "drv-77", "MY", mykadBadDate),
			field: "national_id.number", code: identity.CodeBadBirthDate, csvRow: "n4,drv-77,MY," + mykadBadDate},
		{name: "place code never issued", event: nidEvent("n5", "drv-77", "MY", mykadBadPlace),
			field: "national_id.number", code: identity.CodeBadPlaceCode, csvRow: "n5,drv-77,MY," + mykadBadPlace},
		{name: "country not supported", event: nidEvent("n6", "drv-77", "ZZ", mykad),
			field: "national_id.country", code: identity.CodeUnsupportedCountry, csvRow: "n6,drv-77,ZZ," + mykad},
		{name: "empty number", event: nidEvent("n7", "drv-77", "MY", ""),
			field: "national_id.number", code: identity.CodeRequired, csvRow: ""},
		{name: "no worker at all", event: ev("n8", `"worker_ref":"drv-77",`, ""),
			field: "worker_ref", code: "required", csvRow: "n8,,,"},
	}
	const nidHeader = "event_id,worker_ref,national_id_country,national_id,occurred_at,currency,gross\n"
	csvTail := ",2026-10-03T08:15:00+08:00,MYR,23.50\n"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			single := newIngestServer(t)
			rec := single.post(t, "application/json", tt.event)
			arr := newIngestServer(t)
			arec := arr.post(t, "application/json", array(tt.event))
			nd := newIngestServer(t)
			nrec := nd.post(t, "application/x-ndjson", ndjson(tt.event))
			items := [][]byte{arec.Body.Bytes(), nrec.Body.Bytes()}
			if tt.field == "" {
				if rec.Code != http.StatusAccepted {
					t.Fatalf("one event = %d %s, want 202", rec.Code, rec.Body)
				}
				for _, s := range []*ingestServer{single, arr, nd} {
					if len(s.pub.msgs) != 1 {
						t.Fatalf("produced %d messages, want 1", len(s.pub.msgs))
					}
					m := s.pub.msgs[0]
					var v map[string]any
					if err := json.Unmarshal(m.Value, &v); err != nil {
						t.Fatal(err)
					}
					if v["worker_key"] != key || v["national_id"] != nil || string(m.Key) != key {
						t.Errorf("message %s keyed %s, want worker_key %s, no national_id, keyed by it", m.Value, m.Key, key)
					}
				}
				for _, b := range items {
					if !bytes.Contains(b, []byte(`"accepted":1`)) {
						t.Errorf("batch answer %s, want 1 accepted", b)
					}
				}
			} else {
				got := decode[struct{ Details []gateway.Detail }](t, rec)
				if rec.Code != http.StatusBadRequest || !hasFieldDetail(got.Details, tt.field, tt.code) {
					t.Errorf("one event = %d %s, want 400 with %s on %s", rec.Code, rec.Body, tt.code, tt.field)
				}
				for _, b := range items {
					var ans batchAnswer
					if err := json.Unmarshal(b, &ans); err != nil {
						t.Fatal(err)
					}
					if ans.Rejected != 1 || ans.Items[0].StatusCode != http.StatusBadRequest ||
						!hasFieldDetail(ans.Items[0].Details, "[0]."+tt.field, tt.code) {
						t.Errorf("batch answer %s, want item 0 rejected with %s on [0].%s", b, tt.code, tt.field)
					}
				}
				for _, s := range []*ingestServer{single, arr, nd} {
					if len(s.pub.msgs) != 0 {
						t.Errorf("a rejected event was produced")
					}
				}
			}
			if tt.csvRow == "" {
				return
			}
			up := newIngestServer(t)
			urec := up.send(t, http.MethodPost, "/v1/earnings.csv", "text/csv", strings.NewReader(nidHeader+tt.csvRow+csvTail))
			sum := decode[struct {
				Accepted, Rejected int
				RejectionsURL      string `json:"rejections_url"`
			}](t, urec)
			if tt.field == "" {
				if sum.Accepted != 1 || len(up.pub.msgs) != 1 || string(up.pub.msgs[0].Key) != key {
					t.Errorf("CSV upload = %s, want the row accepted and keyed by the worker key", urec.Body)
				}
				return
			}
			if sum.Rejected != 1 {
				t.Fatalf("CSV upload = %s, want the row rejected", urec.Body)
			}
			rj := up.send(t, http.MethodGet, sum.RejectionsURL, "", nil)
			column := map[string]string{"national_id.number": "national_id", "national_id.country": "national_id_country"}[tt.field]
			if column == "" {
				column = tt.field
			}
			if !strings.Contains(rj.Body.String(), ","+tt.code+","+column+",") {
				t.Errorf("rejected rows = %s, want %s on %s", rj.Body, tt.code, column)
			}
		})
	}
}

// TestNationalIDNeverLeaves sends national IDs, valid and not, by every
// JSON door, with and without an Idempotency-Key, with Kafka failing half
// the time: the number, as written or normalised, appears in no Kafka
// message, answer or log line.
func TestNationalIDNeverLeaves(t *testing.T) {
	var logs syncBuffer
	fail := false
	s := newIngestServer(t, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	numbers := []string{mykad, mykadBadDate, mykadBadPlace}
	var answers []string
	for i, n := range numbers {
		for _, body := range []struct{ ct, body string }{
			{"application/json", nidEvent(fmt.Sprint("p", i), "drv-77", "MY", n)},
			{"application/json", array(nidEvent(fmt.Sprint("pa", i), "drv-77", "MY", n), nidEvent(fmt.Sprint("pb", i), "", "XX", n))},
			{"application/x-ndjson", ndjson(nidEvent(fmt.Sprint("pn", i), "drv-77", "MY", n), `{"event_id":"broken","national_id":{"number":"`+n+`"}`)},
		} {
			fail = !fail
			s.pub.fail = nil
			if fail {
				s.pub.fail = failAll
			}
			rec := s.post(t, body.ct, body.body, "Idempotency-Key", "k-"+string(rune('a'+i))+body.ct)
			answers = append(answers, rec.Body.String())
			rec = s.post(t, body.ct, body.body)
			answers = append(answers, rec.Body.String())
		}
	}
	var produced []string
	for _, m := range s.pub.msgs {
		produced = append(produced, string(m.Key), string(m.Value))
	}
	if len(produced) == 0 {
		t.Fatal("nothing was produced")
	}
	for _, n := range numbers {
		for _, form := range []string{n, strings.ReplaceAll(n, "-", "")} {
			for what, texts := range map[string][]string{"Kafka": produced, "answers": answers, "logs": {logs.String()}} {
				for _, text := range texts {
					if strings.Contains(text, form) {
						t.Errorf("%s hold the national ID %s: %.300s", what, form, text)
					}
				}
			}
		}
	}
}

// TestPartitionKeyOfRegisteredWorker checks that an event naming its worker
// by worker_ref alone is keyed by the worker key of the reference's
// registration when there is one, found in the registrations or learnt
// from a registration made through the API, and otherwise by platform and
// reference; the message's value does not change.
func TestPartitionKeyOfRegisteredWorker(t *testing.T) {
	keyer := testKeyer(t)
	sealer, err := identity.NewSealer(identity.SealerConfig{Keys: map[byte][]byte{1: []byte(strings.Repeat("s", 32))}, KeyID: 1})
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	store := &memWorkers{hashes: map[string][32]byte{}, sealed: map[string][]byte{}}
	s := newIngestServer(t, func(c *httpapi.Config) {
		c.Workers, c.Schemes = store, catalog
		c.Identity = httpapi.Identity{Keyer: keyer, Sealer: sealer}
	})
	known := strings.Repeat("a", 64)
	store.regs = append(store.regs, registration("demo", "drv-known", known))

	rec := s.post(t, "application/json", array(ev("k1", "drv-77", "drv-known"), ev("k2", "drv-77", "drv-new")))
	if rec.Code != http.StatusOK || len(s.pub.msgs) != 2 {
		t.Fatalf("POST = %d %s", rec.Code, rec.Body)
	}
	if k := string(s.pub.msgs[0].Key); k != known {
		t.Errorf("registered reference keyed %q, want its worker key", k)
	}
	if k := string(s.pub.msgs[1].Key); k != "demo/drv-new" {
		t.Errorf("unregistered reference keyed %q, want demo/drv-new", k)
	}
	if bytes.Contains(s.pub.msgs[0].Value, []byte(known)) {
		t.Errorf("the looked-up key went into the value: %s", s.pub.msgs[0].Value)
	}
	lookups := store.keyLookups

	// Registering drv-new through the API teaches the key at once, though
	// the miss above is remembered for a while.
	reg := s.send(t, http.MethodPost, "/v1/workers", "application/json", strings.NewReader(
		`{"worker_ref":"drv-new","national_id":{"country":"MY","number":"`+mykad+`"},"scheme_id":"my-gig","start_date":"2026-10-01"}`))
	if reg.Code != http.StatusCreated {
		t.Fatalf("register = %d %s", reg.Code, reg.Body)
	}
	rec = s.post(t, "application/json", array(ev("k3", "drv-77", "drv-known"), ev("k4", "drv-77", "drv-new")))
	if rec.Code != http.StatusOK || len(s.pub.msgs) != 4 {
		t.Fatalf("POST = %d %s", rec.Code, rec.Body)
	}
	if k := string(s.pub.msgs[3].Key); k != keyer.Key("MY", "900101145678") {
		t.Errorf("newly registered reference keyed %q, want its worker key", k)
	}
	if store.keyLookups != lookups {
		t.Errorf("%d more lookups, want the cache to answer", store.keyLookups-lookups)
	}

	// A national ID with the reference: the registered worker's is keyed
	// as the registration; another is rejected, nothing produced.
	rec = s.post(t, "application/json", array(nidEvent("k5", "drv-new", "MY", mykad), nidEvent("k6", "drv-known", "MY", mykad)))
	got := decode[batchAnswer](t, rec)
	if rec.Code != http.StatusOK || got.Accepted != 1 || got.Rejected != 1 || len(s.pub.msgs) != 5 {
		t.Fatalf("POST = %d %s, want k5 accepted and k6 rejected", rec.Code, rec.Body)
	}
	if k := string(s.pub.msgs[4].Key); k != keyer.Key("MY", "900101145678") {
		t.Errorf("k5 keyed %q, want the registered worker key", k)
	}
	if it := got.Items[1]; it.StatusCode != http.StatusBadRequest || !hasFieldDetail(it.Details, "[1].national_id", "worker_mismatch") {
		t.Errorf("k6 = %+v, want 400 worker_mismatch on [1].national_id", it)
	}
	if strings.Contains(rec.Body.String(), "5678") {
		t.Errorf("the answer names the national ID: %s", rec.Body)
	}
}

// failAll makes every Publish call fail as a whole.
func failAll([]kafka.Message) error { return errors.New("broker unavailable") }

func registration(platform, ref, key string) postgres.Registration {
	return postgres.Registration{PlatformID: platform, WorkerRef: ref, WorkerKey: key, SchemeID: "my-gig", Change: "start",
		Effective: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
}
