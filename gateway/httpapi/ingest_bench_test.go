package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/deploy/localkafka"
	"github.com/coverbridge/coverbridge/deploy/localpg"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// The ingest benchmarks measure HTTP ingest alone, the engine stopped: the
// real echo server on a loopback port, the kafka-go producer of
// gateway/kafkabus (acks=all, 2ms batch timeout) and the in-process broker of
// deploy/localkafka, all on this machine, clients included.
//
//	go test -run '^$' -bench 'Ingest' -benchtime 400x ./gateway/httpapi
//
// BenchmarkIngestBatch sends 500-event JSON arrays from 16 concurrent
// clients and reports events/s and the request latency. Its variants put
// PostgreSQL (a durable cluster of the benchmark's own: fsync on,
// synchronous commit) on the ingest path, to measure what the accepted-events
// index would cost there:
//
//   - recorded-lookup: the design kept, one indexed read of the engine's
//     earning_events per batch (RecordedHashes), so a retry of recorded
//     events answers duplicate;
//   - index-insert: the design not taken, every accepted event also written
//     to an accepted-events table, one INSERT per batch, before answering;
//   - worker-keys: what serve configures, the recorded lookup and the
//     worker-key cache over the registrations of every worker the batches
//     name, so every message is keyed by its worker key;
//   - national-id: the Kafka-only configuration with every event naming its
//     worker by national ID as well, validated and keyed at the door.
//
// BenchmarkIngestSingle posts single events at a fixed rate (1,000 a second
// by default, COVERBRIDGE_BENCH_RATE) for b.N requests and reports the
// latency percentiles.

// ingestRig is a running API on a local broker.
type ingestRig struct {
	base   string
	client *http.Client
	stop   func()
}

var benchSeq atomic.Int64

func newIngestRig(b *testing.B, tune func(*httpapi.Config)) *ingestRig {
	b.Helper()
	broker, err := localkafka.Start(localkafka.Config{Partitions: 6})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := kafkabus.EnsureTopics(ctx, broker.Addrs(), []kafkabus.TopicSpec{{Name: kafkabus.TopicEarnings, Partitions: 6}}); err != nil {
		b.Fatal(err)
	}
	producer := kafkabus.NewProducer(kafkabus.ProducerConfig{Brokers: broker.Addrs()})
	cfg := httpapi.Config{
		Addr:      "127.0.0.1:0",
		Publisher: producer,
		Platforms: fakePlatforms{"demo": {ID: "demo", Currency: "MYR", ActiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if tune != nil {
		tune(&cfg)
	}
	srv := httpapi.New(cfg)
	if err := srv.Listen(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	r := &ingestRig{
		base:   "http://" + srv.Addr(),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}},
	}
	r.stop = func() {
		cancel()
		<-done
		producer.Close()
		broker.Close()
	}
	return r
}

// batchBody returns a JSON array of n new events.
func batchBody(n int) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		id := benchSeq.Add(1)
		fmt.Fprintf(&buf, `{"event_id":"b-%d","worker_ref":"drv-%d","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"},"exclusions":{"tips":{"currency":"MYR","value":"2.00"}},"category":{"sector":"ride_hailing","vehicle":"4w"},"region":"MY-14"}`, id, id%5000)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// nationalIDBatchBody is batchBody with each worker named by a MyKad
// number as well.
func nationalIDBatchBody(n int) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		id := benchSeq.Add(1)
		fmt.Fprintf(&buf, `{"event_id":"b-%d","worker_ref":"drv-%d","national_id":{"country":"MY","number":"900101-14-%04d"},"occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"},"exclusions":{"tips":{"currency":"MYR","value":"2.00"}},"category":{"sector":"ride_hailing","vehicle":"4w"},"region":"MY-14"}`, id, id%5000, id%5000)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func (r *ingestRig) post(body []byte) (time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, r.base+"/v1/earnings?platform_id=demo", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return 0, fmt.Errorf("POST = %d %s", resp.StatusCode, answer)
	}
	if bytes.Contains(answer, []byte(`"status":"rejected"`)) || bytes.Contains(answer, []byte(`"status":"failed"`)) {
		return 0, fmt.Errorf("an event was not accepted: %.300s", answer)
	}
	return time.Since(start), nil
}

func BenchmarkIngestBatch(b *testing.B) {
	b.Run("kafka", func(b *testing.B) { benchBatch(b, nil, nil) })
	b.Run("recorded-lookup", func(b *testing.B) {
		db, pgCPU := benchDB(b)
		benchBatch(b, func(c *httpapi.Config) { c.Recorded = db }, pgCPU)
	})
	b.Run("worker-keys", func(b *testing.B) {
		// What serve configures: the recorded-events lookup, and the
		// worker-key cache over registrations of every worker of the
		// stream, so each message is keyed by its worker key.
		db, pgCPU := benchDB(b)
		registerBenchWorkers(b, db)
		benchBatch(b, func(c *httpapi.Config) { c.Recorded, c.Workers = db, db }, pgCPU)
	})
	b.Run("national-id", func(b *testing.B) {
		// Every event names its worker by national ID as well: validated,
		// keyed (HMAC-SHA256) and dropped at the door.
		keyer, err := identity.NewKeyer(identity.KeyerConfig{Secret: bytes.Repeat([]byte("k"), 32)})
		if err != nil {
			b.Fatal(err)
		}
		benchBatchOf(b, func(c *httpapi.Config) { c.Identity.Keyer = keyer }, nil, nationalIDBatchBody)
	})
	b.Run("index-insert", func(b *testing.B) {
		db, pgCPU := benchDB(b)
		if _, err := db.Pool.Exec(context.Background(), `CREATE TABLE accepted_events (
			platform_id text NOT NULL, event_id text NOT NULL, payload_hash bytea NOT NULL,
			accepted_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (platform_id, event_id))`); err != nil {
			b.Fatal(err)
		}
		benchBatch(b, func(c *httpapi.Config) { c.Publisher = &indexingPublisher{next: c.Publisher, db: db} }, pgCPU)
	})
}

// benchBatch runs the batch benchmark on a rig tuned by tune; pgCPU, when
// not nil, returns the CPU time PostgreSQL has used so far.
func benchBatch(b *testing.B, tune func(*httpapi.Config), pgCPU func() time.Duration) {
	benchBatchOf(b, tune, pgCPU, batchBody)
}

// benchBatchOf is benchBatch with request bodies made by body.
func benchBatchOf(b *testing.B, tune func(*httpapi.Config), pgCPU func() time.Duration, body func(n int) []byte) {
	const batch, clients = 500, 16
	r := newIngestRig(b, tune)
	defer r.stop()
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = body(batch)
	}
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	cpu0 := processCPU()
	var pg0 time.Duration
	if pgCPU != nil {
		pg0 = pgCPU()
	}
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				d, err := r.post(bodies[i])
				if err != nil {
					errs <- err
					return
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N*batch)/elapsed.Seconds(), "events/s")
	// CPU of the whole process (clients, API, producer and broker) per
	// event: what the rate would be with the machine to itself.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*batch), "cpu-µs/event")
	if pgCPU != nil {
		b.ReportMetric(float64((pgCPU()-pg0).Microseconds())/float64(b.N*batch), "pg-cpu-µs/event")
	}
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// processCPU returns the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// registerBenchWorkers registers drv-0 to drv-4999, the references of
// batchBody, with platform demo.
func registerBenchWorkers(b *testing.B, db *postgres.DB) {
	b.Helper()
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO platforms (id, name, country, currency, active_from)
		VALUES ('demo', 'Demo', 'MY', 'MYR', '2026-01-01')`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO workers (worker_key, country, national_id)
		SELECT encode(sha256(('w' || i)::bytea), 'hex'), 'MY', '\x00' FROM generate_series(0, 4999) AS i;
		INSERT INTO registrations (platform_id, worker_ref, worker_key, scheme_id, change, effective, request_hash)
		SELECT 'demo', 'drv-' || i, encode(sha256(('w' || i)::bytea), 'hex'), 'my-gig', 'start', '2026-01-01', '\x00'
		FROM generate_series(0, 4999) AS i;
		ANALYZE registrations`); err != nil {
		b.Fatal(err)
	}
}

// indexingPublisher writes every accepted event to an accepted-events table
// in PostgreSQL after Kafka took it, as an index written on the ingest path
// would.
type indexingPublisher struct {
	next httpapi.Publisher
	db   *postgres.DB
}

func (p *indexingPublisher) Publish(ctx context.Context, msgs ...kafka.Message) error {
	if err := p.next.Publish(ctx, msgs...); err != nil {
		return err
	}
	ids := make([]string, len(msgs))
	hashes := make([][]byte, len(msgs))
	for i, m := range msgs {
		h := sha256.Sum256(m.Value)
		ids[i], hashes[i] = hex.EncodeToString(h[:8]), h[:]
	}
	_, err := p.db.Pool.Exec(ctx, `INSERT INTO accepted_events (platform_id, event_id, payload_hash)
		SELECT 'demo', id, h FROM unnest($1::text[], $2::bytea[]) AS t(id, h) ON CONFLICT DO NOTHING`, ids, hashes)
	return err
}

// benchDB starts a durable PostgreSQL cluster of the benchmark's own (fsync
// on, synchronous commit), migrated, and returns it with a function that
// reads the CPU time its processes have used.
func benchDB(b *testing.B) (*postgres.DB, func() time.Duration) {
	b.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "coverbridge-ingest-bench-")
	if err != nil {
		b.Fatal(err)
	}
	// PostgreSQL runs as its own user when the benchmark runs as root.
	if err := os.Chmod(dir, 0o777); err != nil {
		b.Fatal(err)
	}
	cluster, err := localpg.Start(ctx, localpg.Config{DataDir: filepath.Join(dir, "data"), Attached: true})
	if err != nil {
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cluster.Stop()
		os.RemoveAll(dir)
	})
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE bench`); err != nil {
		b.Fatal(err)
	}
	conn.Close(ctx)
	db, err := postgres.Open(ctx, postgres.Config{URL: cluster.URL("bench"), MaxConns: 16})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	pidFile, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		b.Fatal(err)
	}
	postmaster, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	return db, func() time.Duration { return treeCPU(postmaster) }
}

// treeCPU returns the CPU time of a process, its live children and the
// children it has waited for, read from /proc.
func treeCPU(pid int) time.Duration {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	stat := func(p int) (ppid int, self, waited int64, ok bool) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return 0, 0, 0, false
		}
		// Fields after the command name, which ends with the last ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		if len(f) < 15 {
			return 0, 0, 0, false
		}
		num := func(i int) int64 { n, _ := strconv.ParseInt(f[i], 10, 64); return n }
		// f[1] is ppid; utime, stime, cutime, cstime are fields 14-17
		// of the line, 11-14 here.
		return int(num(1)), num(11) + num(12), num(13) + num(14), true
	}
	_, self, waited, ok := stat(pid)
	if !ok {
		return 0
	}
	total := self + waited
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == pid {
			continue
		}
		if ppid, s, _, ok := stat(p); ok && ppid == pid {
			total += s
		}
	}
	return time.Duration(total) * tick
}

// BenchmarkIngestSingle posts one event a request at a fixed rate, each
// request on its own schedule (a slow answer does not delay the next
// request), and reports the latency percentiles.
func BenchmarkIngestSingle(b *testing.B) {
	rate := 1000
	if v := os.Getenv("COVERBRIDGE_BENCH_RATE"); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil || rate <= 0 {
			b.Fatalf("COVERBRIDGE_BENCH_RATE=%q", v)
		}
	}
	r := newIngestRig(b, nil)
	defer r.stop()
	bodies := make([][]byte, b.N)
	for i := range bodies {
		id := benchSeq.Add(1)
		bodies[i] = fmt.Appendf(nil, `{"event_id":"s-%d","worker_ref":"drv-%d","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}`, id, id%5000)
	}
	// Warm the connections and the producer.
	for i := range 20 {
		if _, err := r.post(fmt.Appendf(nil, `{"event_id":"w-%d-%d","worker_ref":"w","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`, benchSeq.Add(1), i)); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, b.N)
	var failed atomic.Int64
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	b.ResetTimer()
	start := time.Now()
	for i := range bodies {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := r.post(bodies[i])
			if err != nil {
				failed.Add(1)
				return
			}
			lat[i] = d
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d posts failed", n, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}
