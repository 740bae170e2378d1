// Package postgres is Coverbridge's system of record: the pgx connection pool,
// the embedded schema migrations and the stores that read and write the
// ledger. Every method that changes state runs in one transaction.
package postgres

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a pool of connections to one Coverbridge database.
type DB struct {
	Pool *pgxpool.Pool
}

// Config configures Open.
type Config struct {
	URL      string // required: a postgres:// URL
	MaxConns int32  // default 8
	// IdleInTransaction is how long a session may stay in an open
	// transaction between statements before PostgreSQL ends it; default 1
	// minute, unless the URL sets idle_in_transaction_session_timeout. A
	// process frozen in the middle of a batch would otherwise keep its
	// partition's offset row locked, and the partition's next owner would
	// wait for it as long as it stays frozen.
	IdleInTransaction time.Duration
}

// Open connects to the database and checks that it answers.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	} else {
		pc.MaxConns = 8
	}
	if _, set := pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		ms := cmp.Or(cfg.IdleInTransaction, time.Minute).Milliseconds()
		pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(ms, 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close releases every connection.
func (db *DB) Close() { db.Pool.Close() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// inTx runs fn in one transaction, committing when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.Pool, fn)
}
