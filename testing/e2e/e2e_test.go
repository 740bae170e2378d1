// Package e2e runs the coverbridge binary against real PostgreSQL and a real
// Kafka-protocol broker and checks what a platform sees.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/testing/kafkatest"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// binary is the coverbridge executable built for this test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coverbridge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "coverbridge")
	build := exec.Command("go", "build", "-race", "-o", binary, "github.com/coverbridge/coverbridge/cmd/coverbridge")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build coverbridge:", err)
		os.Exit(1)
	}
	pgtest.Main(m, kafkatest.Close, func() { os.RemoveAll(dir) })
}

// server is a running coverbridge process.
type server struct {
	cmd  *exec.Cmd
	base string // http://host:port
	done chan error
}

// startServer runs "coverbridge serve" with the given environment and
// returns once its API listens.
func startServer(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "api listening" {
				addr <- rec.Addr
			}
			if testing.Verbose() {
				t.Log(line)
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
	case a := <-addr:
		s.base = "http://" + a
	case err := <-s.done:
		t.Fatalf("coverbridge exited before listening: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("coverbridge did not start listening within 60s")
	}
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("coverbridge exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("coverbridge did not stop within 30s of SIGTERM")
	}
}

// apiKey is the platform key the requests of a test carry.
var apiKey string

// get sends a GET with apiKey.
func get(url string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	return http.DefaultClient.Do(req)
}

func post(t *testing.T, url, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: decode answer: %v", url, err)
	}
	return resp.StatusCode, out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() (bool, error)) {
	t.Helper()
	end := time.Now().Add(deadline)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s did not happen within %s", what, deadline)
		}
		<-tick.C
	}
}

func earning(id, value string) string {
	return fmt.Sprintf(`{"event_id":%q,"platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":%q}}`, id, value)
}

// TestEarningsEndToEnd posts events, a duplicate, a conflicting duplicate and
// malformed input over HTTP, and checks what lands in PostgreSQL.
func TestEarningsEndToEnd(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.New(t)
	brokers := kafkatest.Brokers(t)
	s := startServer(t, []string{"DATABASE_URL=" + dbURL, "KAFKA_BROKERS=" + strings.Join(brokers, ",")},
		"--consumer-group", "e2e-"+t.Name(), "--batch-wait", "5ms")
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &postgres.DB{Pool: pool}
	if err := db.CreatePlatform(ctx, postgres.Platform{ID: "demo", Name: "Demo", Country: "MY", Currency: "MYR",
		ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Schemes:    []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}}); err != nil {
		t.Fatal(err)
	}
	if apiKey, _, err = postgres.NewAccess(db, nil).IssueKey(ctx, postgres.NewKey{Role: access.RolePlatform, PlatformID: "demo"}); err != nil {
		t.Fatal(err)
	}

	for _, id := range []string{"ord-1", "ord-2", "ord-3"} {
		if code, body := post(t, s.base+"/v1/earnings", "application/json", earning(id, "23.50")); code != http.StatusAccepted || body["status"] != "accepted" {
			t.Fatalf("POST %s = %d %v", id, code, body)
		}
	}
	// A platform retry: same id, same content, differently spelled. The API
	// knows it accepted it and produces nothing.
	if code, body := post(t, s.base+"/v1/earnings", "application/json", earning("ord-1", "23.5")); code != http.StatusOK || body["status"] != "duplicate" {
		t.Fatalf("retry = %d %v, want 200 duplicate", code, body)
	}
	// Same id, other content: refused by the API, and by the engine when it
	// comes straight through Kafka.
	if code, body := post(t, s.base+"/v1/earnings", "application/json", earning("ord-2", "99.00")); code != http.StatusConflict || body["code"] != "conflict" {
		t.Fatalf("conflicting duplicate = %d %v, want 409 conflict", code, body)
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: kafkabus.TopicEarnings, Balancer: &kafka.Murmur2Balancer{Consistent: true}, RequiredAcks: kafka.RequireAll}
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("demo/drv-77"), Value: []byte(earning("ord-2", "99.00"))}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	bad := []struct {
		name, contentType, body string
		status                  int
		code, field             string
	}{
		{"malformed json", "application/json", `{"event_id":"ord-9",`, 400, "invalid", ""},
		{"missing worker", "application/json", strings.Replace(earning("ord-9", "1.00"), `"worker_ref":"drv-77",`, "", 1), 400, "invalid", "worker_ref"},
		{"money as number", "application/json", strings.Replace(earning("ord-9", "1.00"), `"1.00"`, `1.00`, 1), 400, "invalid", "gross.value"},
		{"too many decimals", "application/json", earning("ord-9", "1.005"), 400, "invalid", "gross.value"},
		{"wrong content type", "text/plain", earning("ord-9", "1.00"), 415, "unsupported_media_type", ""},
	}
	for _, b := range bad {
		code, body := post(t, s.base+"/v1/earnings", b.contentType, b.body)
		if code != b.status || body["code"] != b.code {
			t.Errorf("%s: %d %v, want %d %s", b.name, code, body, b.status, b.code)
			continue
		}
		if b.field != "" {
			details, _ := body["details"].([]any)
			if len(details) == 0 || details[0].(map[string]any)["field"] != b.field {
				t.Errorf("%s: details %v, want field %s", b.name, body["details"], b.field)
			}
		}
	}

	// Every accepted message is consumed: three events and one conflict.
	waitFor(t, "three events and one rejection in PostgreSQL", 30*time.Second, func() (bool, error) {
		var events, rejected int
		err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM earning_events), (SELECT count(*) FROM rejected_events)`).Scan(&events, &rejected)
		return events >= 3 && rejected >= 1, err
	})
	var rows, ids, rejected int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT event_id), (SELECT count(*) FROM rejected_events) FROM earning_events`).Scan(&rows, &ids, &rejected); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || ids != 3 || rejected != 1 {
		t.Errorf("earning_events %d rows for %d ids, %d rejections; want 3, 3, 1", rows, ids, rejected)
	}
	var reason, value string
	if err := pool.QueryRow(ctx, `SELECT code FROM rejected_events WHERE event_id = 'ord-2'`).Scan(&reason); err != nil || reason != "conflict" {
		t.Errorf("ord-2 rejection = %q, %v; want conflict", reason, err)
	}
	if err := pool.QueryRow(ctx, `SELECT payload->'gross'->>'value' FROM earning_events WHERE event_id = 'ord-2'`).Scan(&value); err != nil || value != "23.50" {
		t.Errorf("ord-2 gross = %q, %v; want the first content, 23.50", value, err)
	}

	resp, err := get(s.base + "/v1/earnings/ord-1?platform_id=demo")
	if err != nil {
		t.Fatal(err)
	}
	var view struct {
		Status string
		Event  struct {
			Gross struct{ Currency, Value string }
		}
		Withhold   struct{ Currency, Value string }
		Deductions []struct {
			SchemeID    string                 `json:"scheme_id"`
			WorkerShare struct{ Value string } `json:"worker_share"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&view)
	resp.Body.Close()
	// The Gig Workers Act takes 1.25% of 23.50, half up: 0.29.
	if resp.StatusCode != 200 || view.Status != "recorded" || view.Event.Gross.Value != "23.50" ||
		view.Withhold.Value != "0.29" || len(view.Deductions) != 1 || view.Deductions[0].SchemeID != "my-gig" {
		t.Errorf("GET ord-1 = %d %+v", resp.StatusCode, view)
	}
	// The platform's list holds the three events and the conflict, each
	// once, in the order the engine decided them.
	resp, err = get(s.base + "/v1/earnings?platform_id=demo")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Earnings []struct {
			EventID    string    `json:"event_id"`
			Status     string    `json:"status"`
			RecordedAt time.Time `json:"recorded_at"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	listed := map[string]int{}
	for i, e := range list.Earnings {
		listed[e.EventID+" "+e.Status]++
		if i > 0 && e.RecordedAt.Before(list.Earnings[i-1].RecordedAt) {
			t.Errorf("GET /v1/earnings lists %s before %s", list.Earnings[i-1].EventID, e.EventID)
		}
	}
	if len(list.Earnings) != 4 || listed["ord-1 recorded"] != 1 || listed["ord-2 recorded"] != 1 || listed["ord-2 rejected"] != 1 {
		t.Errorf("GET /v1/earnings = %+v, want ord-1, ord-2 and ord-3 recorded and the conflicting ord-2 rejected", list.Earnings)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/v1/earnings/nope?platform_id=demo": 404} {
		resp, err := get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err = get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`coverbridge_events_produced_total 3`, `coverbridge_events_consumed_total{outcome="recorded"} 3`, `coverbridge_http_requests_total`} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	// The relay publishes every outcome to "deductions" and the conflict to
	// the dead-letter topic, with the reason in headers.
	deductions := readTopic(t, brokers, "deductions", 3)
	var outcome struct {
		Status   string
		Withhold struct{ Value string }
	}
	if err := json.Unmarshal(deductions["ord-1"].Value, &outcome); err != nil || outcome.Status != "recorded" || outcome.Withhold.Value != "0.29" {
		t.Errorf("deductions[ord-1] = %s, %v", deductions["ord-1"].Value, err)
	}
	dlq := readTopic(t, brokers, "earnings.dlq", 1)
	m, ok := dlq["demo/ord-2"]
	if !ok || header(m, "reason_code") != "conflict" {
		t.Errorf("dead-letter messages = %v, want demo/ord-2 with reason_code conflict", dlq)
	}
	s.stop(t)
}

// readTopic waits until a topic holds n distinct keys and returns the last
// message of each key.
func readTopic(t *testing.T, brokers []string, topic string, n int) map[string]kafka.Message {
	t.Helper()
	var out map[string]kafka.Message
	waitFor(t, fmt.Sprintf("%d keys on %s", n, topic), 30*time.Second, func() (bool, error) {
		var err error
		out, err = readAll(brokers, topic)
		return len(out) >= n, err
	})
	return out
}

// readAll reads every message of a topic, keyed.
func readAll(brokers []string, topic string) (map[string]kafka.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	parts, err := kafkabus.PartitionCount(ctx, brokers, topic)
	if err != nil {
		return nil, err
	}
	out := map[string]kafka.Message{}
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
			out[string(m.Key)] = m
		}
		r.Close()
	}
	return out, nil
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
