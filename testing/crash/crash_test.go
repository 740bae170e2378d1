// Package crash proves that the deduction engine's effect is exactly once.
// A generated stream of earnings with redeliveries, conflicting duplicates,
// reversals and out-of-order times is produced to an in-process broker while
// several "coverbridge serve --roles engine" processes consume it; they are
// killed with SIGKILL at random moments and PostgreSQL is crashed once. The
// ledger must then equal a reference computed from the same stream with the
// plan engine alone, the relay (which runs in the engines, and dies with
// them) must have published every recorded event to "deductions" and every
// rejection to the dead-letter topic, and replaying the whole topic must
// change nothing.
//
// The test runs a short stream by default (inside "make test"); "make
// crash-test" runs the full one:
//
//	go test -count=1 -v ./testing/crash -args -crash.full
package crash

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/deploy/localkafka"
	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

var (
	fullRun = flag.Bool("crash.full", false, "run the full stream: 216,000 messages (over 200,000 distinct events), 12 kills (also COVERBRIDGE_CRASH_FULL=1)")
	seed    = flag.Uint64("crash.seed", 20260401, "seed of the stream and of the kill schedule")
)

func TestMain(m *testing.M) {
	flag.Parse()
	var dir string
	if !testing.Short() {
		var err error
		if dir, err = os.MkdirTemp("", "coverbridge-crash-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if binary, err = buildBinary(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	pgtest.Main(m, func() {
		if dir != "" {
			os.RemoveAll(dir)
		}
	})
}

// plan is the size of one run.
type plan struct {
	name     string
	messages int
	workers  int
	months   int
	engines  int
	kills    int
	window   int   // most messages produced ahead of the engines
	batches  []int // engine batch sizes, varied between starts
	deadline time.Duration
}

var (
	shortPlan = plan{name: "short", messages: 20_000, workers: 5_000, months: 3, engines: 2, kills: 3,
		window: 4_000, batches: []int{200, 1000, 50}, deadline: 90 * time.Second}
	fullPlan = plan{name: "full", messages: 216_000, workers: 5_000, months: 3, engines: 2, kills: 12,
		window: 15_000, batches: []int{500, 2000, 100, 5000}, deadline: 5 * time.Minute}
)

const (
	group      = "crash-engine"
	partitions = 6
	// idleInTx is how long the engines' sessions may idle in a transaction.
	idleInTx = 5 * time.Second
)

// TestCrash streams the events while engine processes are killed and
// PostgreSQL is crashed, then checks the ledger against the reference, then
// replays the whole topic and checks that nothing changed.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker, a PostgreSQL cluster and engine processes")
	}
	pl := shortPlan
	if *fullRun || os.Getenv("COVERBRIDGE_CRASH_FULL") == "1" {
		pl = fullPlan
	}
	began := time.Now()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(*seed, 1))

	// The broker lives in this process, so it outlives every engine.
	broker, err := localkafka.Start(localkafka.Config{Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	brokers := broker.Addrs()
	if err := kafkabus.EnsureTopics(ctx, brokers, []kafkabus.TopicSpec{
		{Name: kafkabus.TopicEarnings, Partitions: partitions},
		{Name: kafkabus.TopicEarningsDLQ, Partitions: partitions},
		{Name: kafkabus.TopicDeductions, Partitions: partitions},
	}); err != nil {
		t.Fatal(err)
	}

	// PostgreSQL of this test's own, to crash it.
	cluster := pgtest.Cluster(t)
	if err := cluster.CreateDatabase(ctx, "crash"); err != nil {
		t.Fatal(err)
	}
	dbURL := cluster.URL("crash")
	db, err := postgres.Open(ctx, postgres.Config{URL: dbURL, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range platforms {
		p.ActiveFrom = activeFrom
		if err := db.CreatePlatform(ctx, p.Platform); err != nil {
			t.Fatal(err)
		}
	}

	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	msgs := generate(streamConfig{seed: *seed, messages: pl.messages, workers: pl.workers, months: pl.months})
	ref, err := computeReference(catalog, msgs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s stream, seed %d: %d messages, %d events accepted (%d reversals), %d redeliveries, %d conflicting; %d kills, %d engines",
		pl.name, *seed, ref.messages, ref.accepted, ref.reversals, ref.duplicates, ref.conflictMessages(), pl.kills, pl.engines)

	eng := &engines{t: t, group: group, logDir: t.TempDir(), batches: pl.batches,
		env: []string{"DATABASE_URL=" + dbURL + "&idle_in_transaction_session_timeout=" + strconv.Itoa(int(idleInTx.Milliseconds())), "KAFKA_BROKERS=" + strings.Join(brokers, ","), "COVERBRIDGE_PARTITIONS=6"}}
	t.Cleanup(func() {
		if t.Failed() {
			eng.report()
		}
	})
	for i := range pl.engines {
		eng.start(i)
	}
	for i := range pl.engines {
		eng.waitReady(i)
	}
	w := &watcher{t: t, db: db, eng: eng, deadline: pl.deadline}

	// The producer streams while the engines consume, at most window
	// messages ahead of them.
	produced := make(chan error, 1)
	go func() { produced <- produce(ctx, brokers, msgs, pl.window, w) }()

	// Kills at random points of the stream; PostgreSQL crashes once, halfway.
	pgAt := int64(len(msgs)/2 + rng.IntN(len(msgs)/10))
	pgDone := false
	for i := range pl.kills {
		at := int64((float64(i) + 0.2 + 0.8*rng.Float64()) / float64(pl.kills+1) * float64(len(msgs)))
		if !pgDone && pgAt <= at {
			w.waitConsumed(pgAt)
			began := time.Now()
			if err := cluster.Restart(ctx); err != nil {
				t.Fatalf("restart PostgreSQL: %v", err)
			}
			t.Logf("PostgreSQL crashed and restarted at %d consumed (%s)", w.consumed(), time.Since(began).Round(time.Millisecond))
			pgDone = true
		}
		w.waitConsumed(at)
		if i == pl.kills/3 {
			// A zombie: an engine frozen past its session while the group
			// gives its partitions to another, then thawed. Whatever it
			// was writing must be fenced off or finish before the new
			// owner reads.
			// PostgreSQL ends the frozen engine's session once it has been
			// idle in its transaction for idleInTx, so the new owner need
			// not wait for the thaw: the group progresses meanwhile,
			// unless the engine froze while sending a COPY.
			v := rng.IntN(pl.engines)
			gen := w.generation()
			began := time.Now()
			eng.signal(v, syscall.SIGSTOP)
			w.waitGeneration(gen + 1)
			from := w.consumed()
			progressed := w.waitConsumedErr(from+200, 30*time.Second) == nil
			eng.signal(v, syscall.SIGCONT)
			t.Logf("engine %d frozen %s until the group moved on (generation %d) and progressed (%v: %d to %d consumed)",
				v, time.Since(began).Round(time.Millisecond), w.generation(), progressed, from, w.consumed())
		}
		victims := []int{rng.IntN(pl.engines)}
		if rng.IntN(4) == 0 { // now and then every engine at once
			victims = victims[:0]
			for j := range pl.engines {
				victims = append(victims, j)
			}
		}
		for _, v := range victims {
			eng.kill(v)
		}
		t.Logf("kill %d: SIGKILL %v at %d consumed", i+1, victims, w.consumed())
		for _, v := range victims {
			eng.start(v)
		}
		for _, v := range victims {
			eng.waitReady(v)
		}
	}
	if err := <-produced; err != nil {
		t.Fatalf("produce: %v", err)
	}
	if !pgDone {
		t.Fatal("the PostgreSQL crash was not scheduled")
	}
	ends := endOffsets(t, brokers)
	w.waitOffsets(ends)
	eng.check()
	t.Logf("stream consumed in %s", time.Since(began).Round(time.Second))
	counts := eng.logCounts(`"msg":"apply batch failed, retrying"`, `"msg":"partition fenced: a newer owner holds it"`,
		`"msg":"claim partition failed, retrying"`, `"msg":"consumer group: generation started"`)
	t.Logf("engine logs: %v", counts)
	verifyRelay(t, db, brokers)
	eng.stop()

	verify(t, db, ref)
	if t.Failed() {
		return
	}

	// Idempotent replay: the whole topic again, by a fresh process.
	before := digest(t, db)
	if err := db.ResetOffsets(ctx, group, kafkabus.TopicEarnings); err != nil {
		t.Fatal(err)
	}
	replayStart := time.Now()
	eng.start(0)
	eng.waitReady(0)
	w.waitOffsets(ends)
	eng.check()
	eng.stop()
	after := digest(t, db)
	for _, k := range sortedKeys(before) {
		if before[k] != after[k] {
			t.Errorf("replaying the topic changed %s: %s before, %s after", k, before[k], after[k])
		}
	}
	t.Logf("replay of %d messages in %s left the ledger unchanged: %v", len(msgs), time.Since(replayStart).Round(time.Millisecond), before)
	if n := eng.logCounts("DATA RACE")["DATA RACE"]; n > 0 {
		t.Errorf("the engines reported %d data races", n)
	}
}

// produce writes msgs to the earnings topic in order, keyed by worker, at
// most window messages ahead of what the engines have consumed.
func produce(ctx context.Context, brokers []string, msgs []message, window int, w *watcher) error {
	p := kafkabus.NewProducer(kafkabus.ProducerConfig{Brokers: brokers, BatchSize: 500})
	defer p.Close()
	const chunk = 500
	batch := make([]kafka.Message, 0, chunk)
	for i := 0; i < len(msgs); i += chunk {
		if err := w.waitConsumedErr(int64(i-window), w.deadline); err != nil {
			return err
		}
		batch = batch[:0]
		for _, m := range msgs[i:min(i+chunk, len(msgs))] {
			batch = append(batch, kafka.Message{Topic: kafkabus.TopicEarnings, Key: m.key, Value: m.value})
		}
		// One call at a time keeps each key's messages in production order.
		if err := p.Publish(ctx, batch...); err != nil {
			return err
		}
	}
	return nil
}

// endOffsets returns the end offset of each partition of the earnings topic.
func endOffsets(t *testing.T, brokers []string) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	var reqs []kafka.OffsetRequest
	for p := range partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	resp, err := client.ListOffsets(context.Background(), &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{kafkabus.TopicEarnings: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int]int64{}
	for _, po := range resp.Topics[kafkabus.TopicEarnings] {
		if po.Error != nil {
			t.Fatalf("end offset of partition %d: %v", po.Partition, po.Error)
		}
		ends[po.Partition] = po.LastOffset
	}
	return ends
}

// watcher reads the engines' progress from the offsets they store.
type watcher struct {
	t        *testing.T
	db       *postgres.DB
	eng      *engines
	deadline time.Duration
}

// offsets returns the stored next offset of every partition; a partition
// nothing was consumed from yet is absent or -1.
func (w *watcher) offsets() (map[int]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return w.db.Offsets(ctx, group, kafkabus.TopicEarnings)
}

// consumed is the number of messages consumed so far, as stored, or -1 when
// PostgreSQL does not answer.
func (w *watcher) consumed() int64 {
	offs, err := w.offsets()
	if err != nil {
		return -1
	}
	var n int64
	for _, o := range offs {
		n += max(o, 0)
	}
	return n
}

// waitConsumedErr waits until at least n messages are consumed; an error
// tells that they were not within the deadline.
func (w *watcher) waitConsumedErr(n int64, deadline time.Duration) error {
	end := time.Now().Add(deadline)
	for {
		if w.consumed() >= n {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%d messages consumed after %s, waiting for %d", w.consumed(), deadline, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *watcher) waitConsumed(n int64) {
	w.t.Helper()
	if err := w.waitConsumedErr(n, w.deadline); err != nil {
		w.eng.check()
		w.t.Fatal(err)
	}
	w.eng.check()
}

// generation is the latest consumer-group generation that claimed a
// partition, or -1 when PostgreSQL does not answer.
func (w *watcher) generation() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var g int
	if err := w.db.Pool.QueryRow(ctx, `SELECT coalesce(max(generation), 0) FROM consumer_offsets WHERE group_id = $1`, group).Scan(&g); err != nil {
		return -1
	}
	return g
}

// waitGeneration waits until a generation of at least g has claimed a
// partition.
func (w *watcher) waitGeneration(g int) {
	w.t.Helper()
	end := time.Now().Add(w.deadline)
	for w.generation() < g {
		w.eng.check()
		if time.Now().After(end) {
			w.t.Fatalf("no partition claimed by generation %d within %s", g, w.deadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOffsets waits until every partition's stored offset is its end.
func (w *watcher) waitOffsets(ends map[int]int64) {
	w.t.Helper()
	end := time.Now().Add(w.deadline)
	for {
		offs, err := w.offsets()
		done := err == nil
		for p, e := range ends {
			if offs[p] < e && e > 0 {
				done = false
			}
		}
		if done {
			return
		}
		w.eng.check()
		if time.Now().After(end) {
			w.t.Fatalf("stored offsets %v did not reach the topic's ends %v within %s (last error %v)", offs, ends, w.deadline, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// digest returns an MD5 of every row of the tables the engine writes, in a
// fixed order, with the row count.
func digest(t *testing.T, db *postgres.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, q := range map[string]string{
		"ledger_entries":           `SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r.id), '')) FROM ledger_entries r`,
		"worker_periods":           `SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r.worker_id, r.platform_id, r.scheme_id, r.plan_id, r.period), '')) FROM worker_periods r`,
		"earning_events":           `SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r.platform_id, r.event_id), '')) FROM earning_events r`,
		"platform_period_balances": `SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r.platform_id, r.scheme_id, r.period, r.source_partition), '')) FROM platform_period_balances r`,
		"rejected_events":          `SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r.id), '')) FROM rejected_events r`,
	} {
		var n int64
		var sum string
		if err := db.Pool.QueryRow(context.Background(), q).Scan(&n, &sum); err != nil {
			t.Fatalf("digest %s: %v", name, err)
		}
		out[name] = fmt.Sprintf("%d rows md5 %s", n, sum)
	}
	return out
}

// queryRows runs q and calls fn for each row.
func queryRows(t *testing.T, db *postgres.DB, q string, dest []any, fn func()) {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if _, err := pgx.ForEachRow(rows, dest, func() error { fn(); return nil }); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
