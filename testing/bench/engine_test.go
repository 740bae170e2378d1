// Package bench measures the deduction engine end to end on this machine:
// earnings already in Kafka (an in-process kfake broker, produced before the
// clock starts) become committed ledger entries in PostgreSQL (a durable
// cluster of the benchmark's own: fsync on, synchronous commit). The engine
// runs in a child process, the benchmark binary started again in engine
// mode, so that its peak RSS is its own and not the broker's.
//
// BenchmarkEngine runs the naive design first (one transaction per event,
// with the same dedupe, period states, balances and fenced offset: batch
// size 1) on a smaller stream, then batches of 500, 2,000 and 5,000 on the
// full stream, each on a fresh database and consumer group, and reports
// events/s, p50 and p99 batch latency, the engine's peak RSS and CPU per
// event, and the speed-up over the naive design:
//
//	go test -run '^$' -bench Engine -benchtime 1x ./testing/bench
//	COVERBRIDGE_BENCH_EVENTS=1000000 go test -run '^$' -bench Engine -benchtime 1x -timeout 60m ./testing/bench
//
// COVERBRIDGE_BENCH_EVENTS (default 200,000) sizes the stream,
// COVERBRIDGE_BENCH_NAIVE_EVENTS (default 5,000) the naive one,
// COVERBRIDGE_BENCH_BATCHES (default 500,2000,5000) the batch sizes, and
// COVERBRIDGE_BENCH_DATABASE_URL, when set, names a server to use instead of
// the benchmark's own cluster (its user must be allowed to CREATE DATABASE).
// The stream's 100,000 workers are registered with their platforms, as a
// platform's workers are; COVERBRIDGE_BENCH_UNREGISTERED=1 leaves them
// unregistered, every entry in suspense.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/deploy/localkafka"
	"github.com/coverbridge/coverbridge/deploy/localpg"
	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
	"github.com/coverbridge/coverbridge/testing/meter"
)

const partitions = 6

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runEngine())
	}
	code := m.Run()
	env.close()
	os.Exit(code)
}

// BenchmarkEngine measures the naive design and then each batch size, side
// by side in one run.
func BenchmarkEngine(b *testing.B) {
	events := envInt(b, "COVERBRIDGE_BENCH_EVENTS", 200_000)
	naiveEvents := envInt(b, "COVERBRIDGE_BENCH_NAIVE_EVENTS", 5_000)
	batches := []int{500, 2000, 5000}
	if s := os.Getenv("COVERBRIDGE_BENCH_BATCHES"); s != "" {
		batches = batches[:0]
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				b.Fatalf("COVERBRIDGE_BENCH_BATCHES: %q is not a batch size", f)
			}
			batches = append(batches, n)
		}
	}
	e := env.get(b)
	naiveTopic := e.topic(b, naiveEvents)
	topic := e.topic(b, events)

	var naive float64
	b.Run(fmt.Sprintf("naive/batch=1/events=%d", naiveEvents), func(b *testing.B) {
		for range b.N {
			r := e.run(b, naiveTopic, naiveEvents, 1)
			r.report(b)
			naive = r.rate()
		}
	})
	for _, size := range batches {
		b.Run(fmt.Sprintf("batch=%d/events=%d", size, events), func(b *testing.B) {
			for range b.N {
				r := e.run(b, topic, events, size)
				r.report(b)
				if naive > 0 {
					b.ReportMetric(r.rate()/naive, "x-naive")
				}
			}
		})
	}
}

// envInt reads a positive integer setting of the benchmark.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// environment is the broker and the database server shared by every run of
// the benchmark binary.
type environment struct {
	once    sync.Once
	err     error
	dir     string
	broker  *localkafka.Broker
	cluster *localpg.Cluster
	admin   string // URL of the server's postgres database
	runs    int

	mu     sync.Mutex
	topics map[int]string // a produced stream per length
}

var env environment

func (e *environment) get(b *testing.B) *environment {
	b.Helper()
	e.once.Do(func() { e.err = e.start() })
	if e.err != nil {
		b.Fatal(e.err)
	}
	return e
}

func (e *environment) start() error {
	var err error
	if e.broker, err = localkafka.Start(localkafka.Config{Partitions: partitions}); err != nil {
		return err
	}
	e.topics = map[int]string{}
	if url := os.Getenv("COVERBRIDGE_BENCH_DATABASE_URL"); url != "" {
		e.admin = url
		return nil
	}
	if e.dir, err = os.MkdirTemp("", "coverbridge-bench-"); err != nil {
		return err
	}
	// The server's account must be able to enter it when this runs as root.
	if err := os.Chmod(e.dir, 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e.cluster, err = localpg.Start(ctx, localpg.Config{DataDir: filepath.Join(e.dir, "pg"), Attached: true})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	e.admin = e.cluster.URL("postgres")
	// Checkpoints sized for a bulk load; durability settings stay at their
	// defaults (fsync, synchronous_commit and full_page_writes on).
	conn, err := pgx.Connect(ctx, e.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range []string{`ALTER SYSTEM SET max_wal_size = '8GB'`, `ALTER SYSTEM SET checkpoint_timeout = '30min'`, `SELECT pg_reload_conf()`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func (e *environment) close() {
	if e.broker != nil {
		e.broker.Close()
	}
	if e.cluster != nil {
		if err := e.cluster.Stop(); err != nil {
			log.Print(err)
		}
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// topic returns a topic holding n generated earnings, producing it on first
// use.
func (e *environment) topic(b *testing.B, n int) string {
	b.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.topics[n]; ok {
		return t
	}
	name := fmt.Sprintf("earnings-bench-%d", n)
	ctx := context.Background()
	brokers := e.broker.Addrs()
	if err := kafkabus.EnsureTopics(ctx, brokers, []kafkabus.TopicSpec{{Name: name, Partitions: partitions}}); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	p := kafkabus.NewProducer(kafkabus.ProducerConfig{Brokers: brokers, BatchSize: 5000})
	defer p.Close()
	g := newGenerator(uint64(n))
	const chunk = 20_000
	msgs := make([]kafka.Message, 0, chunk)
	for i := 0; i < n; i += chunk {
		msgs = msgs[:0]
		for range min(chunk, n-i) {
			ev := g.next()
			msgs = append(msgs, kafka.Message{Topic: name, Key: feed.PartitionKey(ev), Value: feed.Canonical(ev)})
		}
		if err := p.Publish(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("produced %d events to %s in %s", n, name, time.Since(began).Round(time.Millisecond))
	e.topics[n] = name
	return name
}

// database creates an empty, migrated database with the platforms.
func (e *environment) database(b *testing.B) string {
	b.Helper()
	ctx := context.Background()
	e.runs++
	name := fmt.Sprintf("bench_%d_%d", os.Getpid(), e.runs)
	conn, err := pgx.Connect(ctx, e.admin)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn, err := pgx.Connect(ctx, e.admin)
		if err != nil {
			b.Log(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			b.Log(err)
		}
	})
	url := dbURL(e.admin, name)
	db, err := postgres.Open(ctx, postgres.Config{URL: url, MaxConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	for _, p := range benchPlatforms {
		if err := db.CreatePlatform(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	if os.Getenv("COVERBRIDGE_BENCH_UNREGISTERED") == "" {
		if err := registerWorkers(ctx, db); err != nil {
			b.Fatal(err)
		}
	}
	return url
}

// registerWorkers registers every worker of the stream with its platform
// from the start, as a platform's workers are: their entries carry their
// worker key and are not in suspense. (COVERBRIDGE_BENCH_UNREGISTERED=1
// leaves them unregistered: every entry in suspense.)
func registerWorkers(ctx context.Context, db *postgres.DB) error {
	workers := make([][]any, benchWorkers)
	regs := make([][]any, benchWorkers)
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for w := range benchWorkers {
		p := benchPlatforms[w%len(benchPlatforms)]
		key := workerKey(w)
		workers[w] = []any{key, p.Country, []byte(key)}
		regs[w] = []any{p.ID, workerRef(w), key, p.Schemes[0].SchemeID, "start", since, []byte(key)}
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"workers"}, []string{"worker_key", "country", "national_id"},
		pgx.CopyFromRows(workers)); err != nil {
		return fmt.Errorf("register workers: %w", err)
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"registrations"},
		[]string{"platform_id", "worker_ref", "worker_key", "scheme_id", "change", "effective", "request_hash"},
		pgx.CopyFromRows(regs)); err != nil {
		return fmt.Errorf("register workers: %w", err)
	}
	_, err := db.Pool.Exec(ctx, `ANALYZE workers; ANALYZE registrations`)
	return err
}

func workerRef(w int) string { return "w" + strconv.Itoa(w) }

func workerKey(w int) string { return fmt.Sprintf("%032x", uint64(w)*0x9e3779b97f4a7c15) }

// dbURL replaces the database of a postgres:// URL.
func dbURL(admin, name string) string {
	base, query, _ := strings.Cut(admin, "?")
	i := strings.LastIndexByte(base, '/')
	u := base[:i+1] + name
	if query != "" {
		u += "?" + query
	}
	return u
}

// result is one measured run.
type result struct {
	events    int
	batches   []time.Duration
	elapsed   time.Duration // first batch's start to last batch's end
	peakRSS   int64         // bytes, VmHWM of the engine process
	cpu       time.Duration // user and system time of the engine process
	pgCPU     time.Duration // of the PostgreSQL server, when it runs here
	brokerCPU time.Duration // of this process: the broker, and reading the engine's reports
	load      float64       // the machine's load average at the end
	ledger    int64
	startedIn time.Duration // from process start to its first batch
	// The last fifth of the stream: from the batch that took the count past
	// four fifths to the end, to show whether the rate holds.
	tail        time.Time
	tailEvents  int
	tailElapsed time.Duration
}

func (r result) rate() float64 { return float64(r.events) / r.elapsed.Seconds() }

func (r result) report(b *testing.B) {
	b.Helper()
	d := slices.Clone(r.batches)
	slices.Sort(d)
	pct := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(r.rate(), "events/s")
	if r.tailElapsed > 0 {
		b.ReportMetric(float64(r.tailEvents)/r.tailElapsed.Seconds(), "last-fifth-events/s")
	}
	b.ReportMetric(pct(0.50), "p50-batch-ms")
	b.ReportMetric(pct(0.99), "p99-batch-ms")
	b.ReportMetric(float64(r.peakRSS)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(r.cpu.Microseconds())/float64(r.events), "engine-cpu-µs/event")
	b.ReportMetric(float64(r.brokerCPU.Microseconds())/float64(r.events), "broker-cpu-µs/event")
	if r.pgCPU > 0 {
		b.ReportMetric(float64(r.pgCPU.Microseconds())/float64(r.events), "pg-cpu-µs/event")
		// What the cores could do alone: their time over the CPU time the
		// engine, PostgreSQL and the broker spend on an event.
		total := r.cpu + r.pgCPU + r.brokerCPU
		b.ReportMetric(float64(runtime.NumCPU())*float64(r.events)/total.Seconds(), "cpu-bound-events/s")
	}
	b.ReportMetric(0, "ns/op")
	b.Logf("%d events in %s (%d batches, engine ready in %s): %.0f events/s, p50 %.1f ms, p99 %.1f ms, peak RSS %.0f MB, CPU engine %s PostgreSQL %s broker %s, load average %.2f",
		r.events, r.elapsed.Round(time.Millisecond), len(r.batches), r.startedIn.Round(time.Millisecond), r.rate(),
		pct(0.5), pct(0.99), float64(r.peakRSS)/(1<<20), r.cpu.Round(time.Millisecond), r.pgCPU.Round(time.Millisecond),
		r.brokerCPU.Round(time.Millisecond), r.load)
}

// run consumes topic (n events) with a fresh engine process at the given
// batch size into a fresh database, and measures it.
func (e *environment) run(b *testing.B, topic string, n, batchSize int) result {
	b.Helper()
	b.StopTimer()
	url := e.database(b)
	group := fmt.Sprintf("bench-%d", e.runs)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"=1", "DATABASE_URL="+url,
		"KAFKA_BROKERS="+strings.Join(e.broker.Addrs(), ","), "BENCH_TOPIC="+topic, "BENCH_GROUP="+group,
		"BENCH_BATCH_SIZE="+strconv.Itoa(batchSize))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	pgBefore, pgOK := meter.ServerCPU(context.Background(), url)
	_, selfBefore, _ := meter.ProcStat(os.Getpid(), false)
	b.StartTimer()
	started := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	// The engine reports each batch; the run is over when every event is
	// in a committed batch.
	lines := make(chan batchLine, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l batchLine
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				lines <- l
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var r result
	var first, last time.Time
	deadline := time.After(time.Duration(max(n/500, 120)) * time.Second)
	for r.events < n {
		select {
		case l, ok := <-lines:
			if !ok {
				b.Fatalf("engine exited after %d of %d events", r.events, n)
			}
			d := time.Duration(l.Nanos)
			end := time.Unix(0, l.End)
			if first.IsZero() || end.Add(-d).Before(first) {
				first = end.Add(-d)
			}
			if end.After(last) {
				last = end
			}
			r.events += l.N
			r.batches = append(r.batches, d)
			if r.events >= n*4/5 && r.tail.IsZero() {
				r.tail = end
				r.tailEvents = n - r.events
			}
		case <-deadline:
			b.Fatalf("%d of %d events consumed within the deadline", r.events, n)
		}
	}
	b.StopTimer()
	r.elapsed, r.startedIn = last.Sub(first), first.Sub(started)
	r.tailElapsed = last.Sub(r.tail)
	if r.peakRSS, err = meter.PeakRSS(cmd.Process.Pid); err != nil {
		b.Fatal(err)
	}
	if _, r.cpu, err = meter.ProcStat(cmd.Process.Pid, false); err != nil {
		b.Fatal(err)
	}
	if pgAfter, ok := meter.ServerCPU(context.Background(), url); ok && pgOK {
		r.pgCPU = pgAfter - pgBefore
	}
	r.load = meter.LoadAverage()
	if _, selfAfter, err := meter.ProcStat(os.Getpid(), false); err == nil {
		r.brokerCPU = selfAfter - selfBefore
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("engine: %v", err)
	}

	// What the engine reported is what PostgreSQL holds.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var offsets, events, registered int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets),
		(SELECT count(*) FROM earning_events), (SELECT count(*) FROM ledger_entries),
		(SELECT count(*) FROM ledger_entries WHERE registered)`).Scan(&offsets, &events, &r.ledger, &registered); err != nil {
		b.Fatal(err)
	}
	if offsets != int64(n) || events != int64(n) || r.ledger != int64(n) {
		b.Fatalf("after %d events: offsets add up to %d, %d events recorded, %d ledger entries", n, offsets, events, r.ledger)
	}
	if want := int64(n); os.Getenv("COVERBRIDGE_BENCH_UNREGISTERED") != "" {
		if registered != 0 {
			b.Fatalf("%d of %d ledger entries registered, want none", registered, n)
		}
	} else if registered != want {
		b.Fatalf("%d of %d ledger entries registered, want all", registered, n)
	}
	return r
}

// benchPlatforms are the platforms of the generated stream: one percentage
// rule, one fixed monthly amount withheld progressively and one period-basis
// percentage with a threshold.
var benchPlatforms = []postgres.Platform{
	{ID: "ride-my", Name: "Ride MY", Country: "MY", Currency: "MYR", ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}},
	{ID: "food-my", Name: "Food MY", Country: "MY", Currency: "MYR", ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "1"}}},
	{ID: "deliv-kr", Name: "Delivery KR", Country: "KR", Currency: "KRW", ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Schemes: []postgres.PlatformScheme{{SchemeID: "kr-ei", PlanID: "platform-workers"}}},
}

// generator makes distinct earnings of 100,000 workers, month after month
// from January 2026, out of time order within each month, with ids in
// production order as a platform's order numbers are.
type generator struct {
	rng *rand.Rand
	seq int
}

func newGenerator(seed uint64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(seed, 42))}
}

const (
	benchWorkers     = 100_000
	eventsPerMonth   = 400_000
	benchGrossMinMYR = 300
)

func (g *generator) next() gateway.Earning {
	g.seq++
	month := (g.seq - 1) / eventsPerMonth
	start := time.Date(2026, time.Month(1+month%12), 1, 0, 0, 0, 0, time.UTC).AddDate(month/12, 0, 0)
	end := start.AddDate(0, 1, 0)
	w := g.rng.IntN(benchWorkers)
	p := benchPlatforms[w%len(benchPlatforms)]
	gross := int64(benchGrossMinMYR) + g.rng.Int64N(8000)
	if p.Currency == "KRW" {
		gross *= 10
	}
	return gateway.Earning{
		EventID: fmt.Sprintf("ord-%010d", g.seq), PlatformID: p.ID,
		WorkerRef: workerRef(w), WorkerKey: workerKey(w),
		OccurredAt: start.Add(time.Duration(g.rng.Int64N(int64(end.Sub(start))))).Truncate(time.Second),
		Gross:      gateway.Money{Amount: gross, Currency: p.Currency},
		Orders:     1, Kind: gateway.KindEarning,
	}
}
