// Package pipeline measures the whole gateway on this machine: platforms
// post earnings over HTTP, the API makes them durable in Kafka (an
// in-process kfake broker), and the engine records them exactly once in
// PostgreSQL (a durable cluster of the benchmark's own: fsync on,
// synchronous commit). One `coverbridge serve --roles api,engine` process
// does both, as a small deployment would.
//
// BenchmarkPipeline offers a fixed load, open loop: 500-event batches from
// three platforms plus single-event posts from a fourth, at the rates set
// below, for a set time. Each request's latency counts from the moment it
// was due to be sent, so a stalled server is not hidden by a client that
// waits for it. Every second it reads the engine's consumer lag from
// /metrics. After the load it waits for the engine to drain, then checks
// that the ledger holds every accepted event once. It reports:
//
//   - events/s offered and accepted, and the engine's rate while the load
//     ran and in all (load plus drain);
//   - p50 and p99 latency of the batch and of the single-event posts;
//   - the lag: its peak, its mean over the first and the last third of the
//     load (growing when the last is larger), and the drain time.
//
// Run it with:
//
//	make bench-pipeline        # 5 minutes at 20,000 events/s
//	go test -run '^$' -bench Pipeline -benchtime 1x -timeout 30m ./testing/pipeline
//
// COVERBRIDGE_PIPELINE_DURATION (default 30s) is how long the load runs,
// COVERBRIDGE_PIPELINE_RATE (default 20000) the events a second in all,
// and COVERBRIDGE_PIPELINE_SINGLES (default 1000) how many of them come as
// single-event posts.
package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
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
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coverbridge/coverbridge/deploy/localkafka"
	"github.com/coverbridge/coverbridge/deploy/localpg"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/testing/meter"
)

// binary is the coverbridge binary TestMain builds.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coverbridge-pipeline-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "coverbridge")
	build := exec.Command("go", "build", "-o", binary, "github.com/coverbridge/coverbridge/cmd/coverbridge")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build coverbridge:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	batchSize  = 500
	workers    = 5_000 // per platform
	partitions = 6
)

// batchPlatforms post batches; singlePlatform posts one event a request.
var (
	batchPlatforms = []string{"pipe-a", "pipe-b", "pipe-c"}
	singlePlatform = "pipe-s"
)

func BenchmarkPipeline(b *testing.B) {
	duration := envDuration(b, "COVERBRIDGE_PIPELINE_DURATION", 30*time.Second)
	rate := envInt(b, "COVERBRIDGE_PIPELINE_RATE", 20_000)
	singles := envInt(b, "COVERBRIDGE_PIPELINE_SINGLES", 1_000)
	if singles > rate {
		b.Fatalf("COVERBRIDGE_PIPELINE_SINGLES (%d) is more than COVERBRIDGE_PIPELINE_RATE (%d)", singles, rate)
	}
	for i := 0; i < b.N; i++ {
		run(b, duration, rate, singles)
	}
}

// gateway is a running coverbridge process and what it runs on.
type gateway struct {
	base    string
	dbURL   string
	cmd     *exec.Cmd
	done    chan error
	db      *pgxpool.Pool
	keys    map[string]string // platform → key
	cleanup []func()
}

func run(b *testing.B, duration time.Duration, rate, singles int) {
	g := start(b)
	defer g.stop(b)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, DisableCompression: true}}
	var (
		seq                 atomic.Int64
		accepted, rejected  atomic.Int64
		failed              atomic.Int64
		mu                  sync.Mutex
		batchLat, singleLat []time.Duration
		lagSamples          []int64
		inFlight            sync.WaitGroup
	)
	post := func(platform string, events int, due time.Time, lat *[]time.Duration) {
		defer inFlight.Done()
		body := eventsBody(platform, events, &seq, due)
		req, _ := http.NewRequest(http.MethodPost, g.base+"/v1/earnings", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+g.keys[platform])
		resp, err := client.Do(req)
		took := time.Since(due)
		if err != nil {
			failed.Add(int64(events))
			return
		}
		counts, err := answerCounts(resp.Body)
		resp.Body.Close()
		if err != nil || (resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusMultiStatus) {
			failed.Add(int64(events))
			return
		}
		accepted.Add(counts.accepted)
		rejected.Add(int64(events) - counts.accepted)
		mu.Lock()
		*lat = append(*lat, took)
		mu.Unlock()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var lagWG sync.WaitGroup
	lagWG.Add(1)
	go func() {
		defer lagWG.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if lag, err := consumerLag(client, g.base); err == nil {
					mu.Lock()
					lagSamples = append(lagSamples, lag)
					mu.Unlock()
				}
			}
		}
	}()

	// The load: batches every batchSize/(rate-singles) seconds, rotating
	// over the batch platforms, and singles every 1/singles seconds, each
	// sent when due whether or not earlier ones have answered.
	cpu := g.cpu(b)
	b.ResetTimer()
	begin := time.Now()
	end := begin.Add(duration)
	var loadWG sync.WaitGroup
	pace := func(every time.Duration, send func(due time.Time, n int)) {
		defer loadWG.Done()
		n := 0
		for due := begin; due.Before(end); due = due.Add(every) {
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			inFlight.Add(1)
			go send(due, n)
			n++
		}
	}
	if batchRate := rate - singles; batchRate > 0 {
		loadWG.Add(1)
		go pace(time.Duration(float64(time.Second)*batchSize/float64(batchRate)), func(due time.Time, n int) {
			post(batchPlatforms[n%len(batchPlatforms)], batchSize, due, &batchLat)
		})
	}
	if singles > 0 {
		loadWG.Add(1)
		go pace(time.Second/time.Duration(singles), func(due time.Time, _ int) { post(singlePlatform, 1, due, &singleLat) })
	}
	loadWG.Wait()
	inFlight.Wait()
	loadTime := time.Since(begin)
	recordedAtEnd := recorded(b, g.db)

	// Drain: wait until the engine has recorded every accepted event.
	want := accepted.Load()
	drainBegin := time.Now()
	for {
		n := recorded(b, g.db)
		if n >= want {
			break
		}
		if time.Since(drainBegin) > 10*time.Minute {
			b.Fatalf("the engine recorded %d of %d accepted events in 10 minutes of drain", n, want)
		}
		time.Sleep(time.Second)
	}
	drain := time.Since(drainBegin)
	b.StopTimer()
	used := g.cpu(b).minus(cpu)
	cancel()
	lagWG.Wait()

	// Exactly once: every accepted event in the ledger, once.
	if n := recorded(b, g.db); n != want {
		b.Fatalf("earning_events holds %d events, %d were accepted", n, want)
	}
	var dupes int64
	if err := g.db.QueryRow(context.Background(), `SELECT count(*) - count(DISTINCT (platform_id, event_id)) FROM ledger_entries`).Scan(&dupes); err != nil {
		b.Fatal(err)
	}
	if dupes != 0 {
		b.Fatalf("%d events are in the ledger twice", dupes)
	}
	if failed.Load() > 0 || rejected.Load() > 0 {
		b.Errorf("%d events failed to post and %d were rejected", failed.Load(), rejected.Load())
	}

	offered := float64(rate)
	b.ReportMetric(offered, "offered_events/s")
	b.ReportMetric(float64(accepted.Load())/loadTime.Seconds(), "accepted_events/s")
	b.ReportMetric(float64(recordedAtEnd)/loadTime.Seconds(), "recorded_during_load_events/s")
	b.ReportMetric(float64(want)/(loadTime+drain).Seconds(), "recorded_events/s")
	b.ReportMetric(drain.Seconds(), "drain_s")
	report := func(name string, lat []time.Duration) {
		if len(lat) == 0 {
			return
		}
		slices.Sort(lat)
		b.ReportMetric(ms(lat[len(lat)/2]), name+"_p50_ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), name+"_p99_ms")
	}
	perEvent := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(want) }
	b.ReportMetric(perEvent(used.gateway), "gateway_cpu_µs/event")
	b.ReportMetric(perEvent(used.postgres), "pg_cpu_µs/event")
	b.ReportMetric(perEvent(used.bench), "load_and_broker_cpu_µs/event")
	b.ReportMetric(2e6/(perEvent(used.gateway)+perEvent(used.postgres)+perEvent(used.bench)), "cpu_bound_events/s")
	report("batch", batchLat)
	report("single", singleLat)
	if n := len(lagSamples); n >= 3 {
		third := n / 3
		b.ReportMetric(float64(slices.Max(lagSamples)), "lag_peak")
		b.ReportMetric(mean(lagSamples[:third]), "lag_first_third")
		b.ReportMetric(mean(lagSamples[n-third:]), "lag_last_third")
	}
	b.Logf("offered %d events/s for %s: accepted %d, recorded %d at the end of the load, drained in %s; lag samples %v",
		rate, loadTime.Round(time.Millisecond), want, recordedAtEnd, drain.Round(time.Millisecond), lagSamples)
}

// cpuTimes is the CPU used so far by the coverbridge process (API and
// engine), the PostgreSQL server, and this process (the load and the
// broker).
type cpuTimes struct{ gateway, postgres, bench time.Duration }

func (a cpuTimes) minus(b cpuTimes) cpuTimes {
	return cpuTimes{a.gateway - b.gateway, a.postgres - b.postgres, a.bench - b.bench}
}

func (g *gateway) cpu(b *testing.B) cpuTimes {
	b.Helper()
	var t cpuTimes
	var err error
	if _, t.gateway, err = meter.ProcStat(g.cmd.Process.Pid, false); err != nil {
		b.Fatal(err)
	}
	var ok bool
	if t.postgres, ok = meter.ServerCPU(context.Background(), g.dbURL); !ok {
		b.Fatal("cannot read the PostgreSQL server's CPU")
	}
	t.bench = meter.ProcessCPU()
	return t
}

// start runs PostgreSQL, the broker and coverbridge, and creates the
// platforms and their keys.
func start(b *testing.B) *gateway {
	b.Helper()
	ctx := context.Background()
	g := &gateway{keys: map[string]string{}, done: make(chan error, 1)}
	broker, err := localkafka.Start(localkafka.Config{Partitions: partitions})
	if err != nil {
		b.Fatal(err)
	}
	g.cleanup = append(g.cleanup, broker.Close)
	dir, err := os.MkdirTemp("", "coverbridge-pipeline-pg-")
	if err != nil {
		b.Fatal(err)
	}
	g.cleanup = append(g.cleanup, func() { os.RemoveAll(dir) })
	// The server's account must be able to enter it when this runs as root.
	if err := os.Chmod(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	cluster, err := localpg.Start(ctx, localpg.Config{DataDir: filepath.Join(dir, "pg"), Attached: true})
	if err != nil {
		b.Fatalf("start PostgreSQL: %v", err)
	}
	g.cleanup = append(g.cleanup, func() { cluster.Stop() })
	admin, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{`ALTER SYSTEM SET max_wal_size = '8GB'`, `ALTER SYSTEM SET checkpoint_timeout = '30min'`, `SELECT pg_reload_conf()`} {
		if _, err := admin.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	admin.Close(ctx)
	if err := cluster.CreateDatabase(ctx, "pipeline"); err != nil {
		b.Fatal(err)
	}
	dbURL := cluster.URL("pipeline")
	g.dbURL = dbURL

	g.cmd = exec.Command(binary, "serve", "--roles", "api,engine", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--data-dir", dir, "--partitions", strconv.Itoa(partitions))
	g.cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "KAFKA_BROKERS="+strings.Join(broker.Addrs(), ","),
		"COVERBRIDGE_WORKER_KEY_SECRET=cGlwZWxpbmUtYmVuY2htYXJrLXdvcmtlci1rZXktc2VjcmV0LTMyYg==",
		"COVERBRIDGE_SEAL_KEY=cGlwZWxpbmUtYmVuY2gtc2VhbC1rZXktMzItYnl0ZXM=")
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the benchmark binary
	stderr, err := g.cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := g.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, `"api listening"`) {
				if i := strings.Index(line, `"addr":"`); i >= 0 {
					rest := line[i+len(`"addr":"`):]
					addr <- rest[:strings.IndexByte(rest, '"')]
				}
			} else if testing.Verbose() {
				fmt.Fprintln(os.Stderr, line)
			}
		}
		io.Copy(io.Discard, stderr)
		g.done <- g.cmd.Wait()
	}()
	select {
	case a := <-addr:
		g.base = "http://" + a
	case err := <-g.done:
		b.Fatalf("coverbridge exited before listening: %v", err)
	case <-time.After(2 * time.Minute):
		b.Fatal("coverbridge did not listen within 2 minutes")
	}

	if g.db, err = pgxpool.New(ctx, dbURL); err != nil {
		b.Fatal(err)
	}
	db := &postgres.DB{Pool: g.db}
	for _, id := range append(slices.Clone(batchPlatforms), singlePlatform) {
		p := postgres.Platform{ID: id, Name: id, Country: "MY", Currency: "MYR",
			ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			Schemes:    []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}},
			RateLimit:  100_000, RateBurst: 100_000}
		if err := db.CreatePlatform(ctx, p); err != nil {
			b.Fatal(err)
		}
		if g.keys[id], _, err = postgres.NewAccess(db, nil).IssueKey(ctx, postgres.NewKey{Role: access.RolePlatform, PlatformID: id}); err != nil {
			b.Fatal(err)
		}
	}
	return g
}

func (g *gateway) stop(b *testing.B) {
	if g.cmd != nil && g.cmd.Process != nil {
		g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.done:
		case <-time.After(30 * time.Second):
			g.cmd.Process.Kill()
			<-g.done
		}
	}
	if g.db != nil {
		g.db.Close()
	}
	for i := len(g.cleanup) - 1; i >= 0; i-- {
		g.cleanup[i]()
	}
}

// eventsBody returns a JSON array of n new events of platform (one object
// when n is 1), occurring shortly before due.
func eventsBody(platform string, n int, seq *atomic.Int64, due time.Time) string {
	var sb strings.Builder
	sb.Grow(n * 200)
	if n > 1 {
		sb.WriteByte('[')
	}
	at := due.Add(-time.Minute).UTC().Format(time.RFC3339)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		id := seq.Add(1)
		fmt.Fprintf(&sb, `{"event_id":"e-%d","worker_ref":"w-%d","occurred_at":%q,"gross":{"currency":"MYR","value":"%d.%02d"}}`,
			id, rand.IntN(workers), at, 5+rand.IntN(60), rand.IntN(100))
	}
	if n > 1 {
		sb.WriteByte(']')
	}
	return sb.String()
}

type counts struct{ accepted int64 }

// answerCounts reads how many events an answer accepted: the "accepted"
// count of a batch answer, or 1 for a single event's "accepted" status.
func answerCounts(r io.Reader) (counts, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return counts{}, err
	}
	s := string(body)
	if i := strings.Index(s, `"accepted":`); i >= 0 {
		rest := s[i+len(`"accepted":`):]
		j := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if j < 0 {
			j = len(rest)
		}
		n, err := strconv.ParseInt(rest[:j], 10, 64)
		return counts{accepted: n}, err
	}
	if strings.Contains(s, `"status":"accepted"`) {
		return counts{accepted: 1}, nil
	}
	return counts{}, fmt.Errorf("unexpected answer %.200s", s)
}

// consumerLag sums the engine's consumer lag over partitions, from
// /metrics.
func consumerLag(client *http.Client, base string) (int64, error) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var lag float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "coverbridge_engine_consumer_lag{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			lag += v
		}
	}
	return int64(lag), sc.Err()
}

// recorded counts the events the engine has recorded.
func recorded(b *testing.B, db *pgxpool.Pool) int64 {
	var n int64
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM earning_events`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mean(xs []int64) float64 {
	var s float64
	for _, x := range xs {
		s += float64(x)
	}
	return s / float64(len(xs))
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		b.Fatalf("%s: %q is not a count", name, s)
	}
	return n
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		b.Fatalf("%s: %q is not a duration", name, s)
	}
	return d
}
