package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/identity"
	"github.com/coverbridge/coverbridge/reconciliation/books"
)

// keyCacheTTL is how long an API process remembers a key and a platform's
// access policy: a key revoked, or a signing secret issued, through another
// process (or the keys command) applies within it.
const keyCacheTTL = 5 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return usageError{"serve needs DATABASE_URL (or --database-url); use \"coverbridge dev\" for a local setup"}
	}
	if len(cfg.KafkaBrokers) == 0 {
		return usageError{"serve needs KAFKA_BROKERS (or --kafka-brokers); use \"coverbridge dev\" for a local setup"}
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, log, serveHooks{})
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("migrate", args, stderr)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return usageError{"migrate needs DATABASE_URL (or --database-url)"}
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migrations; schema version %d\n", len(applied), v)
	return nil
}

// serveHooks let dev mode add to serve.
type serveHooks struct {
	// migrated runs once the database is migrated, before any role starts.
	migrated func(ctx context.Context, db *postgres.DB) error
	// listening is called with the API's bound address once it accepts
	// connections.
	listening func(addr string)
}

// serve runs the configured roles until ctx ends or one of them fails.
func serve(ctx context.Context, cfg config, log *slog.Logger, hooks serveHooks) error {
	db, err := postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, MaxConns: int32(cfg.DBMaxConns)})
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "applied", applied)
	}
	if hooks.migrated != nil {
		if err := hooks.migrated(ctx, db); err != nil {
			return err
		}
	}
	// Closes accrue agents' commissions at the configured rates.
	if err := db.SetAgentCommissionRates(ctx, cfg.AgentCommission, cfg.AgentCommissionByScheme); err != nil {
		return err
	}
	topics := []kafkabus.TopicSpec{
		{Name: kafkabus.TopicEarnings, Partitions: cfg.Partitions},
		{Name: kafkabus.TopicEarningsDLQ, Partitions: cfg.Partitions},
		{Name: kafkabus.TopicDeductions, Partitions: cfg.Partitions},
	}
	if err := kafkabus.EnsureTopics(ctx, cfg.KafkaBrokers, topics); err != nil {
		return err
	}
	catalog, err := loadCatalog(ctx, cfg.SchemesDir, db)
	if err != nil {
		return err
	}
	for scheme := range cfg.SchemeGrace {
		if _, err := catalog.Scheme(scheme); err != nil {
			return usageError{fmt.Sprintf("--close-grace names scheme %q, which no loaded pack defines", scheme)}
		}
	}
	ids, err := newIdentity(cfg)
	if err != nil {
		return err
	}
	producer := kafkabus.NewProducer(kafkabus.ProducerConfig{Brokers: cfg.KafkaBrokers})
	defer producer.Close()

	// The reconciliation books: period close, statements, bank files,
	// advice and matching.
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog, Grace: cfg.CloseGrace, GraceByScheme: cfg.SchemeGrace, Logger: log})
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	if cfg.has(roleAPI) {
		// API keys, the signing secrets of platforms that sign (sealed
		// with the seal key) and the admin API.
		var sealer postgres.Sealer
		if ids.Sealer != nil {
			sealer = ids.Sealer
		}
		keys := postgres.NewAccess(db, sealer)
		api := httpapi.New(httpapi.Config{
			Keys:        keys,
			KeyCacheTTL: keyCacheTTL,
			Admin:       keys,
			Addr:        cfg.Addr,
			Publisher:   producer,
			Earnings:    db,
			Schemes:     catalog,
			Workers:     db,
			Agents:      db,
			Identity:    ids,
			// Ingestion: platform settings, Idempotency-Key answers and the
			// recorded events that tell a retry from a conflict.
			Platforms: db, Idempotency: db, Recorded: db,
			UploadDir: filepath.Join(cfg.DataDir, "uploads"),
			// Reconciliation: statements, advice, bank files, matching.
			Statements: db, Advice: keeper, Finance: keeper, FinanceStore: db, Reports: db,
			// Compliance: gaps, their workflow and notices.
			Gaps: db, GapRules: gapRules(cfg),
			// Worker coverage, coverage statistics and worker notices.
			Coverage: db, Notices: db,
			Logger: log,
			Ready: []httpapi.Check{
				{Name: "postgres", Ping: db.Ping},
				{Name: "kafka", Ping: func(ctx context.Context) error { return kafkabus.Ping(ctx, cfg.KafkaBrokers) }},
			},
		})
		if err := api.Listen(); err != nil {
			return err
		}
		log.Info("api listening", "addr", api.Addr())
		if hooks.listening != nil {
			hooks.listening(api.Addr())
		}
		g.Go(func() error { return api.Run(gctx) })
	}
	if cfg.has(roleEngine) {
		consumer := kafkabus.NewConsumer(kafkabus.ConsumerConfig{
			Brokers:   cfg.KafkaBrokers,
			Group:     cfg.ConsumerGroup,
			Topic:     kafkabus.TopicEarnings,
			BatchSize: cfg.BatchSize,
			BatchWait: cfg.BatchWait,
			Logger:    log,
			OnBatch: func(c kafkabus.Claim, _ int, _ time.Duration, lag int64) {
				engine.ConsumerLag.WithLabelValues(c.Topic, strconv.Itoa(c.Partition)).Set(float64(lag))
			},
		}, engine.New(engine.Config{Store: db, Catalog: catalog, Logger: log, StateCache: cmp.Or(cfg.EngineCache, -1)}))
		log.Info("engine consuming", "topic", kafkabus.TopicEarnings, "group", cfg.ConsumerGroup)
		g.Go(func() error { return consumer.Run(gctx) })
		relay := engine.NewRelay(engine.RelayConfig{Store: db, Publisher: producer, Logger: log})
		g.Go(func() error { return relay.Run(gctx) })
	}
	if cfg.has(roleScheduler) {
		// Period close: settle, levy, state; books owns the job body.
		jobs := []job{
			{name: "close-periods", spec: cfg.CloseSchedule, run: keeper.CloseDue},
			// Gap detection: within a minute of each matching run, and
			// hourly for what time alone changes (silent platforms, age);
			// once across replicas.
			{name: "detect-gaps", spec: "@every 1m", run: func(ctx context.Context) error {
				rep, ran, err := db.DetectGapsIfStale(ctx, gapRules(cfg), time.Now(), time.Hour)
				if ran {
					log.Info("gaps detected", "found", rep.Found, "opened", rep.Opened, "updated", rep.Updated, "cured", rep.Cured,
						"reopened", rep.Reopened, "took", rep.Duration)
				}
				return err
			}},
			{name: "prune-idempotency-keys", spec: "@every 1h", run: func(ctx context.Context) error {
				// Stored answers are replayed for 24 hours.
				_, err := db.PruneIdempotencyKeys(ctx, time.Now().Add(-24*time.Hour))
				return err
			}},
		}
		g.Go(func() error { return runSchedule(gctx, jobs, log) })
	}
	err = g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("stopped")
	return nil
}

// newIdentity builds the worker keyer and the national-ID sealer from the
// configured secrets; without them worker registration answers an error.
func newIdentity(cfg config) (httpapi.Identity, error) {
	var ids httpapi.Identity
	if cfg.WorkerKeySecret != nil {
		k, err := identity.NewKeyer(identity.KeyerConfig{Secret: cfg.WorkerKeySecret})
		if err != nil {
			return ids, usageError{fmt.Sprintf("--worker-key-secret: %v", err)}
		}
		ids.Keyer = k
	}
	if cfg.SealKey != nil {
		s, err := identity.NewSealer(identity.SealerConfig{Keys: map[byte][]byte{1: cfg.SealKey}, KeyID: 1})
		if err != nil {
			return ids, usageError{fmt.Sprintf("--seal-key: %v", err)}
		}
		ids.Sealer = s
	}
	return ids, nil
}
