package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/deploy/localkafka"
	"github.com/coverbridge/coverbridge/deploy/localpg"
)

// devDatabase is the database dev mode creates in its local cluster.
const devDatabase = "coverbridge"

// runDev runs every role in one process. Without DATABASE_URL it starts a
// local PostgreSQL cluster in the data folder; without KAFKA_BROKERS an
// embedded Kafka-protocol broker that keeps its topics in the same folder.
// Both are kept between runs, so an accepted event survives a restart.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("dev", args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	cfg.Roles = []string{roleAPI, roleEngine, roleScheduler}
	logf := func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }

	if cfg.DatabaseURL == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "postgres"))
		if err != nil {
			return err
		}
		log.Info("starting local PostgreSQL", "data_dir", dir)
		cluster, err := localpg.Start(ctx, localpg.Config{DataDir: dir, Logf: logf})
		if errors.Is(err, localpg.ErrUnreachable) {
			// As root, PostgreSQL runs as user postgres, which cannot enter
			// a folder such as /root: keep its data in a stable folder it
			// can reach instead.
			alt := reachableDataDir(dir)
			log.Warn("the data folder is closed to the postgres user; keeping PostgreSQL data elsewhere", "data_dir", alt)
			cluster, err = localpg.Start(ctx, localpg.Config{DataDir: alt, Logf: logf})
		}
		if err != nil {
			return fmt.Errorf("start local PostgreSQL: %w", err)
		}
		defer func() {
			log.Info("stopping local PostgreSQL")
			if err := cluster.Stop(); err != nil {
				log.Error("stop local PostgreSQL", "err", err)
			}
		}()
		if err := ensureDatabase(ctx, cluster.URL("postgres"), devDatabase); err != nil {
			return err
		}
		cfg.DatabaseURL = cluster.URL(devDatabase)
	}
	if len(cfg.KafkaBrokers) == 0 {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "kafka"))
		if err != nil {
			return err
		}
		broker, err := localkafka.Start(localkafka.Config{Partitions: cfg.Partitions, DataDir: dir, Logf: logf})
		if err != nil {
			return fmt.Errorf("start embedded Kafka broker: %w", err)
		}
		defer broker.Close()
		cfg.KafkaBrokers = broker.Addrs()
	}
	return serve(ctx, cfg, log, func(addr string) { printBanner(stdout, cfg, addr, log) })
}

func printBanner(w io.Writer, cfg config, addr string, _ *slog.Logger) {
	base := "http://" + addr
	fmt.Fprintf(w, `
Coverbridge is running (dev mode).
  API        %[1]s
  health     %[1]s/healthz   readiness %[1]s/readyz   metrics %[1]s/metrics
  PostgreSQL %[2]s
  Kafka      %[3]s
Post an event:
  curl -s -X POST %[1]s/v1/earnings -H 'Content-Type: application/json' \
    -d '{"event_id":"ord-1001","platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}'
Press Ctrl-C to stop (PostgreSQL and the broker stop with it).

`, base, cfg.DatabaseURL, cfg.KafkaBrokers)
}

// reachableDataDir is the stand-in for a data folder the postgres user cannot
// reach: one folder per original path under /var/tmp, so it is kept between
// runs of the same checkout.
func reachableDataDir(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join("/var/tmp", "coverbridge-"+hex.EncodeToString(sum[:6]), "postgres")
}

// ensureDatabase creates database name through the admin URL if it is missing.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to local PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
