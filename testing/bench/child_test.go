package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// childEnv, when set, makes the benchmark binary run the engine instead of
// the benchmarks: the same wiring as "coverbridge serve --roles engine",
// with the consumer's OnBatch hook writing one JSON line per batch to
// stdout.
const childEnv = "COVERBRIDGE_BENCH_ENGINE"

// batchLine is what the engine process reports per applied batch.
type batchLine struct {
	Partition int   `json:"p"`
	N         int   `json:"n"`
	Nanos     int64 `json:"ns"`  // time to apply the batch
	End       int64 `json:"end"` // when it was committed, Unix nanoseconds
}

// runEngine runs the engine until SIGTERM and returns the exit code.
// COVERBRIDGE_BENCH_CPUPROFILE names a file for a CPU profile of the run.
func runEngine() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := engineMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench engine:", err)
		return 1
	}
	return 0
}

func engineMain(ctx context.Context) error {
	if path := os.Getenv("COVERBRIDGE_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	batchSize, err := strconv.Atoi(os.Getenv("BENCH_BATCH_SIZE"))
	if err != nil {
		return fmt.Errorf("BENCH_BATCH_SIZE: %w", err)
	}
	pc, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	pc.MaxConns = 8
	var times *serverTimes
	if os.Getenv("COVERBRIDGE_BENCH_PGPROFILE") != "" {
		times = &serverTimes{}
		pc.ConnConfig.Tracer = times
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return err
	}
	db := &postgres.DB{Pool: pool}
	defer db.Close()
	var events atomic.Int64
	if times != nil {
		defer func() { times.print(os.Stderr, events.Load()) }()
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("BENCH_VERBOSE") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	consumer := kafkabus.NewConsumer(kafkabus.ConsumerConfig{
		Brokers:   strings.Split(os.Getenv("KAFKA_BROKERS"), ","),
		Group:     os.Getenv("BENCH_GROUP"),
		Topic:     os.Getenv("BENCH_TOPIC"),
		BatchSize: batchSize,
		BatchWait: 50 * time.Millisecond,
		Logger:    logger,
		OnBatch: func(c kafkabus.Claim, n int, d time.Duration, _ int64) {
			events.Add(int64(n))
			mu.Lock()
			defer mu.Unlock()
			enc.Encode(batchLine{Partition: c.Partition, N: n, Nanos: int64(d), End: time.Now().UnixNano()})
		},
	}, limit(engine.New(engine.Config{Store: db, Catalog: catalog, Logger: logger})))
	return consumer.Run(ctx)
}

// limited applies at most BENCH_INFLIGHT batches at once (default: no limit).
type limited struct {
	*engine.Engine
	sem chan struct{}
}

func limit(e *engine.Engine) kafkabus.Handler {
	n, _ := strconv.Atoi(os.Getenv("BENCH_INFLIGHT"))
	if n <= 0 {
		return e
	}
	return limited{e, make(chan struct{}, n)}
}

func (l limited) HandleBatch(ctx context.Context, c kafkabus.Claim, msgs []kafka.Message) error {
	l.sem <- struct{}{}
	defer func() { <-l.sem }()
	return l.Engine.HandleBatch(ctx, c, msgs)
}
