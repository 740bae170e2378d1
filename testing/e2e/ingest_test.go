package e2e

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/platforms/feed"
	"github.com/coverbridge/coverbridge/testing/kafkatest"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// ingestPlatform is the platform of TestIngestEndToEnd; its events are told
// apart from other tests' on the shared broker by it.
const ingestPlatform = "ingest-e2e"

// ingestEvent is a valid event of ingestPlatform, changed by the edits:
// pairs of old and new text.
func ingestEvent(id string, edits ...string) string {
	s := fmt.Sprintf(`{"event_id":%q,"worker_ref":"drv-7","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}`, id)
	for i := 0; i+1 < len(edits); i += 2 {
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return s
}

// apiCall sends a request with a key and returns the status, the headers
// and the body.
func apiCall(t *testing.T, method, url, key, contentType, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

type itemAnswer struct {
	Index      int
	EventID    string `json:"event_id"`
	Status     string
	StatusCode int `json:"status_code"`
	Code       string
	Details    []struct{ Field, Code string }
}

type batchAnswer struct {
	Accepted, Duplicates, Rejected, Failed int
	Items                                  []itemAnswer
}

// produced returns the event ids of ingestPlatform on the earnings topic, in
// no particular order, with repeats.
func produced(t *testing.T, brokers []string) []string {
	t.Helper()
	msgs, err := readAllMessages(brokers, "earnings")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range msgs {
		if p, id := feed.Identify(v); p == ingestPlatform {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestIngestEndToEnd sends batches, NDJSON and a CSV file with every kind of
// bad event to the API alone (engine stopped) on real PostgreSQL and Kafka,
// and checks each answer and that the topic holds the good events once each
// and nothing else. Then the engine records them, and a new API process,
// which has no memory of them, answers a retry from PostgreSQL.
func TestIngestEndToEnd(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.New(t)
	brokers := kafkatest.Brokers(t)
	env := []string{"DATABASE_URL=" + dbURL, "KAFKA_BROKERS=" + strings.Join(brokers, ",")}
	api := startServer(t, env, "--roles", "api", "--data-dir", t.TempDir())
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &postgres.DB{Pool: pool}
	if err := db.CreatePlatform(ctx, postgres.Platform{ID: ingestPlatform, Name: "Ingest", Country: "MY", Currency: "MYR",
		ActiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Schemes:    []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}}); err != nil {
		t.Fatal(err)
	}
	key, _, err := postgres.NewAccess(db, nil).IssueKey(ctx, postgres.NewKey{Role: access.RolePlatform, PlatformID: ingestPlatform})
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	// A batch with every kind of bad event between good ones.
	batch := "[" + strings.Join([]string{
		ingestEvent("ing-1"),
		ingestEvent("ing-bad-type", `"23.50"`, `23.50`),
		ingestEvent("ing-bad-missing", `"occurred_at":"2026-10-03T08:15:00+08:00",`, ""),
		ingestEvent("ing-bad-negative", `"23.50"`, `"-23.50"`),
		ingestEvent("ing-bad-currency", `"MYR"`, `"SGD"`),
		ingestEvent("ing-bad-decimals", `"23.50"`, `"23.505"`),
		ingestEvent("ing-bad-future", "2026-10-03T08:15:00+08:00", future),
		ingestEvent("ing-bad-early", "2026-10-03T08:15:00+08:00", "2025-12-31T00:00:00Z"),
		ingestEvent("ing-bad-worker", `"worker_ref":"drv-7",`, ""),
		ingestEvent("ing-bad-platform", `{`, `{"platform_id":"demo",`),
		ingestEvent("ing-2", `"drv-7"`, `"drv-8"`),
		ingestEvent("ing-1", `"23.50"`, `"23.5"`),  // the same event again
		ingestEvent("ing-1", `"23.50"`, `"99.00"`), // same id, other content
	}, ",") + "]"
	want := []struct {
		status      string
		code        int
		field, slug string
	}{
		{"accepted", 202, "", ""},
		{"rejected", 400, "[1].gross.value", "wrong_type"},
		{"rejected", 400, "[2].occurred_at", "required"},
		{"rejected", 400, "[3].gross", "negative"},
		{"rejected", 400, "[4].gross.currency", "wrong_currency"},
		{"rejected", 400, "[5].gross.value", "too_many_decimals"},
		{"rejected", 400, "[6].occurred_at", "in_future"},
		{"rejected", 400, "[7].occurred_at", "before_platform"},
		{"rejected", 400, "[8].worker_ref", "required"},
		{"rejected", 404, "[9].platform_id", "platform_mismatch"},
		{"accepted", 202, "", ""},
		{"duplicate", 200, "", ""},
		{"rejected", 409, "[12].event_id", "conflict"},
	}
	code, _, body := apiCall(t, http.MethodPost, api.base+"/v1/earnings", key, "application/json", batch, "Idempotency-Key", "batch-1")
	var got batchAnswer
	if err := json.Unmarshal(body, &got); err != nil || code != http.StatusOK || len(got.Items) != len(want) {
		t.Fatalf("batch = %d %s", code, body)
	}
	for i, w := range want {
		it := got.Items[i]
		if it.Status != w.status || it.StatusCode != w.code {
			t.Errorf("item %d = %+v, want %s %d", i, it, w.status, w.code)
			continue
		}
		if w.slug != "" && (len(it.Details) == 0 || it.Details[0].Field != w.field || it.Details[0].Code != w.slug) {
			t.Errorf("item %d details = %+v, want %s %s", i, it.Details, w.field, w.slug)
		}
	}
	if ids := produced(t, brokers); strings.Join(ids, ",") != "ing-1,ing-2" {
		t.Fatalf("the topic holds %v, want ing-1 and ing-2 once each", ids)
	}

	// The same key and body: the first answer. The same key, another body: 422.
	code2, h2, body2 := apiCall(t, http.MethodPost, api.base+"/v1/earnings", key, "application/json", batch, "Idempotency-Key", "batch-1")
	if code2 != code || string(body2) != string(body) || h2.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %d %s, want the first answer", code2, body2)
	}
	if code, _, body := apiCall(t, http.MethodPost, api.base+"/v1/earnings", key, "application/json", "["+ingestEvent("ing-3")+"]", "Idempotency-Key", "batch-1"); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "idempotency_mismatch") {
		t.Errorf("same key, other body = %d %s, want 422 idempotency_mismatch", code, body)
	}
	var keys int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE platform_id = $1 AND status = 200`, ingestPlatform).Scan(&keys); err != nil || keys != 1 {
		t.Errorf("idempotency_keys = %d, %v; want the one answer", keys, err)
	}
	// Without the key, a retry of the batch: the good events are duplicates.
	_, _, body = apiCall(t, http.MethodPost, api.base+"/v1/earnings", key, "application/json", batch)
	if err := json.Unmarshal(body, &got); err != nil || got.Accepted != 0 || got.Duplicates != 3 {
		t.Errorf("retry = %s, want no event accepted and 3 duplicates", body)
	}

	// NDJSON, and requests refused whole.
	ndjson := ingestEvent("ing-3") + "\n" + ingestEvent("ing-4", `"23.50"`, `"1.005"`) + "\n"
	if code, _, body := apiCall(t, http.MethodPost, api.base+"/v1/earnings", key, "application/x-ndjson", ndjson); code != http.StatusOK ||
		!strings.Contains(string(body), `"accepted":1`) || !strings.Contains(string(body), `"line":2`) {
		t.Errorf("NDJSON = %d %s", code, body)
	}
	for _, r := range []struct {
		contentType, body string
		status            int
	}{
		{"application/json", `[` + ingestEvent("ing-5") + `,{"event_id":`, 400},
		{"text/plain", ingestEvent("ing-5"), 415},
		{"application/json", "[" + strings.Repeat(ingestEvent("ing-5")+",", 10_000) + ingestEvent("ing-5") + "]", 413},
	} {
		if code, _, body := apiCall(t, http.MethodPost, api.base+"/v1/earnings", key, r.contentType, r.body); code != r.status {
			t.Errorf("POST %s %.40s… = %d %s, want %d", r.contentType, r.body, code, body, r.status)
		}
	}

	// A CSV file.
	file := "event_id,worker_ref,occurred_at,currency,gross\n" +
		"ing-6,drv-7,2026-10-03T08:15:00+08:00,MYR,10.00\n" +
		"ing-7,drv-7,2026-10-03T08:15:00+08:00,MYR,10.001\n" +
		"ing-1,drv-7,2026-10-03T08:15:00+08:00,MYR,23.50\n"
	code, _, body = apiCall(t, http.MethodPost, api.base+"/v1/earnings.csv", key, "text/csv", file)
	var sum struct {
		Rows, Accepted, Duplicates, Rejected int
		RejectionsURL                        string `json:"rejections_url"`
	}
	if err := json.Unmarshal(body, &sum); err != nil || code != http.StatusOK || sum.Rows != 3 || sum.Accepted != 1 || sum.Duplicates != 1 || sum.Rejected != 1 {
		t.Fatalf("CSV upload = %d %s", code, body)
	}
	code, _, body = apiCall(t, http.MethodGet, api.base+sum.RejectionsURL, key, "", "")
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || code != http.StatusOK || len(rows) != 2 || rows[1][0] != "ing-7" || rows[1][len(rows[1])-3] != "too_many_decimals" {
		t.Errorf("rejected rows = %d %q, %v", code, rows, err)
	}
	wantIDs := "ing-1,ing-2,ing-3,ing-6"
	if ids := produced(t, brokers); strings.Join(ids, ",") != wantIDs {
		t.Fatalf("the topic holds %v, want %s once each", ids, wantIDs)
	}

	// The engine records the events; a new API process, which remembers
	// nothing, answers a retry from what the engine recorded.
	eng := startEngine(t, env, "--consumer-group", "e2e-"+t.Name(), "--batch-wait", "5ms")
	waitFor(t, "the engine to record the platform's 4 events", 60*time.Second, func() (bool, error) {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM earning_events WHERE platform_id = $1`, ingestPlatform).Scan(&n)
		return n == 4, err
	})
	eng.stop(t)
	api.stop(t)
	api = startServer(t, env, "--roles", "api", "--data-dir", t.TempDir())
	_, _, body = apiCall(t, http.MethodPost, api.base+"/v1/earnings", key, "application/json", batch)
	if err := json.Unmarshal(body, &got); err != nil || got.Accepted != 0 || got.Duplicates != 3 || got.Items[12].StatusCode != 409 {
		t.Errorf("retry after a restart = %s, want 3 duplicates and the conflict", body)
	}
	if ids := produced(t, brokers); strings.Join(ids, ",") != wantIDs {
		t.Errorf("the topic holds %v after the retry, want %s", ids, wantIDs)
	}
	api.stop(t)
}

// startEngine runs "coverbridge serve --roles engine" and returns once it
// consumes.
func startEngine(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--roles", "engine", "--log-format", "json"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Msg string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "engine consuming" {
				select {
				case ready <- struct{}{}:
				default:
				}
			}
			if testing.Verbose() {
				t.Log(sc.Text())
			}
		}
		io.Copy(io.Discard, stderr)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case <-ready:
	case err := <-s.done:
		t.Fatalf("coverbridge engine exited before consuming: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("coverbridge engine did not start within 60s")
	}
	return s
}

// readAllMessages returns the value of every message of a topic.
func readAllMessages(brokers []string, topic string) ([][]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	parts, err := kafkabus.PartitionCount(ctx, brokers, topic)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for p := range parts {
		conn, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p)
		if err != nil {
			return nil, err
		}
		end, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			return nil, err
		}
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond})
		for off := int64(0); off < end; off++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				return nil, fmt.Errorf("read %s/%d: %w", topic, p, err)
			}
			out = append(out, m.Value)
		}
		r.Close()
	}
	return out, nil
}
