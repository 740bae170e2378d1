package httpapi_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

const csvHeader = "event_id,worker_ref,occurred_at,currency,gross,tips\n"

func csvRow(id, gross string) string {
	return fmt.Sprintf("%s,drv-77,2026-10-03T08:15:00+08:00,MYR,%s,\n", id, gross)
}

type uploadAnswer struct {
	UploadID      string `json:"upload_id"`
	Rows          int
	Accepted      int
	Duplicates    int
	Rejected      int
	RejectionsURL string `json:"rejections_url"`
}

func TestUploadCSV(t *testing.T) {
	s := newIngestServer(t)
	if rec := s.post(t, "application/json", ev("ord-0")); rec.Code != http.StatusAccepted {
		t.Fatal(rec.Body)
	}
	body := csvHeader +
		csvRow("ord-1", "23.50") +
		csvRow("ord-2", "23.505") + // too many decimals
		csvRow("ord-1", "23.5") + // the same event again
		csvRow("ord-0", "23.50") + // accepted before
		csvRow("ord-0", "9.00") + // conflicts with an earlier event
		"ord-3,drv-77,2026-10-03T08:15:00+08:00,SGD,1.00,\n" + // not the platform's currency
		csvRow("ord-4", "1.00")
	rec := s.send(t, http.MethodPost, "/v1/earnings.csv", "text/csv", strings.NewReader(body))
	got := decode[uploadAnswer](t, rec)
	if rec.Code != http.StatusOK || got.Rows != 7 || got.Accepted != 2 || got.Duplicates != 2 || got.Rejected != 3 || len(got.UploadID) != 32 {
		t.Fatalf("upload = %d %s", rec.Code, rec.Body)
	}
	if ids := s.pub.produced(); strings.Join(ids, ",") != "ord-0,ord-1,ord-4" {
		t.Errorf("produced %v, want ord-0 (before), ord-1, ord-4", ids)
	}
	// The rejected rows, as written, with the reason.
	rec = s.send(t, http.MethodGet, got.RejectionsURL, "", nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("rejections = %d %s", rec.Code, rec.Body)
	}
	records, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"event_id", "worker_ref", "occurred_at", "currency", "gross", "tips", "error_line", "error_code", "error_field", "error_message"},
		{"ord-2", "drv-77", "2026-10-03T08:15:00+08:00", "MYR", "23.505", "", "3", "too_many_decimals", "gross"},
		{"ord-3", "drv-77", "2026-10-03T08:15:00+08:00", "SGD", "1.00", "", "7", "wrong_currency", "currency"},
		{"ord-0", "drv-77", "2026-10-03T08:15:00+08:00", "MYR", "9.00", "", "6", "conflict", "event_id"},
	}
	if len(records) != len(want) {
		t.Fatalf("rejections:\n%v\nwant %d records", records, len(want))
	}
	for i, w := range want {
		if i > 0 && (records[i][len(w)] == "" || strings.Join(records[i][:len(w)], ",") != strings.Join(w, ",")) {
			t.Errorf("rejection %d = %v, want %v and a message", i, records[i], w)
		}
	}
	// The summary can be read again.
	rec = s.send(t, http.MethodGet, "/v1/earnings.csv/"+got.UploadID, "", nil)
	if again := decode[uploadAnswer](t, rec); rec.Code != http.StatusOK || again != got {
		t.Errorf("summary = %d %s, want %+v", rec.Code, rec.Body, got)
	}
	// Another platform's upload is not found, nor a malformed id.
	for _, path := range []string{"/v1/earnings.csv/" + strings.Repeat("0", 32) + "/rejections", "/v1/earnings.csv/..%2F..%2Fetc/rejections"} {
		if rec := s.send(t, http.MethodGet, path, "", nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
	req := httptest.NewRequest(http.MethodGet, got.RejectionsURL, nil)
	asPlatform(req, "other")
	other := httptest.NewRecorder()
	s.h.ServeHTTP(other, req)
	if other.Code != http.StatusNotFound {
		t.Errorf("another platform's GET of the rejections = %d, want 404", other.Code)
	}
}

func TestUploadCSVRefused(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		status                  int
		code, field             string
	}{
		{"wrong content type", "application/json", csvHeader + csvRow("ord-1", "1.00"), 415, "unsupported_media_type", ""},
		{"empty file", "text/csv", "", 400, "invalid", ""},
		{"unknown column", "text/csv", "event_id,worker_ref,occurred_at,currency,gross,bonus\n", 400, "invalid", "bonus"},
		{"missing column", "text/csv", "event_id,worker_ref,occurred_at,currency\n", 400, "invalid", "gross"},
		{"too large", "text/csv", csvHeader + strings.Repeat(csvRow("ord-1", "1.00"), 100), 413, "too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIngestServer(t, func(c *httpapi.Config) { c.MaxUploadBytes = 4 << 10 })
			rec := s.send(t, http.MethodPost, "/v1/earnings.csv", tt.contentType, strings.NewReader(tt.body))
			e := decode[errorAnswer](t, rec)
			if rec.Code != tt.status || e.Code != tt.code {
				t.Fatalf("upload = %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.code)
			}
			if tt.field != "" && (len(e.Details) == 0 || e.Details[0].Field != tt.field) {
				t.Errorf("details = %+v, want field %s", e.Details, tt.field)
			}
			if tt.name != "too large" && len(s.pub.msgs) != 0 {
				t.Errorf("a refused upload produced %d messages", len(s.pub.msgs))
			}
		})
	}
}

func TestUploadCSVNationalID(t *testing.T) {
	s := newIngestServer(t)
	body := "national_id_country,national_id," + csvHeader +
		"MY,900101145678," + csvRow("ord-1", "1.00") +
		"MY,901301145678," + csvRow("ord-2", "1.00") // no 13th month
	rec := s.send(t, http.MethodPost, "/v1/earnings.csv", "text/csv", strings.NewReader(body))
	got := decode[uploadAnswer](t, rec)
	if rec.Code != http.StatusOK || got.Accepted != 1 || got.Rejected != 1 {
		t.Fatalf("upload = %d %s", rec.Code, rec.Body)
	}
	e, err := feed.Decode(s.pub.msgs[0].Value)
	if err != nil || len(e.WorkerKey) != 64 || string(s.pub.msgs[0].Key) != e.WorkerKey {
		t.Errorf("produced %s keyed %s, want the worker key as key", s.pub.msgs[0].Value, s.pub.msgs[0].Key)
	}
	rec = s.send(t, http.MethodGet, got.RejectionsURL, "", nil)
	if !strings.Contains(rec.Body.String(), "bad_birth_date") || strings.Contains(rec.Body.String(), "901301145678") {
		t.Errorf("rejections = %s, want bad_birth_date and no national ID", rec.Body)
	}
}

// countingPublisher counts messages and keeps none.
type countingPublisher struct{ n atomic.Int64 }

func (p *countingPublisher) Publish(_ context.Context, msgs ...kafka.Message) error {
	p.n.Add(int64(len(msgs)))
	return nil
}

// rowSource generates an earnings CSV file of n rows, every tenth rejected.
// Every 50,000 rows, at a point where the reader of the file waits for it,
// it calls pause.
type rowSource struct {
	n, i  int
	buf   []byte
	pause func()
}

func (r *rowSource) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.i <= r.n {
		if r.i == 0 {
			r.buf = append(r.buf, csvHeader...)
		} else {
			gross := "23.50"
			if r.i%10 == 0 {
				gross = "23.505"
			}
			r.buf = fmt.Appendf(r.buf, "ord-%d,drv-%d,2026-10-03T08:15:00+08:00,MYR,%s,\n", r.i, r.i%5000, gross)
			if r.i%50_000 == 0 && r.pause != nil {
				r.pause()
			}
		}
		r.i++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// TestUploadCSVConstantMemory streams a large file and checks that the heap
// does not grow with it.
func TestUploadCSVConstantMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams a 60 MB file")
	}
	pub := &countingPublisher{}
	s := newIngestServer(t, func(c *httpapi.Config) { c.Publisher, c.RecentEvents = pub, 10_000 })
	const rows = 1_000_000
	// The heap found live by a collection run while the upload waits for
	// the file: what the upload holds.
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	heap := func() uint64 {
		runtime.GC()
		metrics.Read(live)
		return live[0].Value.Uint64()
	}
	base := heap() // what earlier tests left
	var peak uint64
	pause := func() {
		if h := heap(); h > base {
			peak = max(peak, h-base)
		}
	}
	rec := s.send(t, http.MethodPost, "/v1/earnings.csv", "text/csv", &rowSource{n: rows, pause: pause})
	got := decode[uploadAnswer](t, rec)
	if rec.Code != http.StatusOK || got.Rows != rows || got.Accepted != rows*9/10 || got.Rejected != rows/10 || pub.n.Load() != rows*9/10 {
		t.Fatalf("upload = %d %s, %d produced", rec.Code, rec.Body, pub.n.Load())
	}
	t.Logf("live heap grew by at most %.1f MiB streaming %d rows", float64(peak)/(1<<20), rows)
	if peak > 16<<20 {
		t.Errorf("live heap grew by %d MiB streaming a 60 MB file, want under 16 MiB", peak>>20)
	}
}
