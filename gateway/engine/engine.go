// Package engine turns consumed earnings messages into ledger entries. It is
// the kafkabus.Handler of the "earnings" topic: each batch of one partition
// is decoded with the platforms' wire format, its deductions computed with
// the plan version in force at each event's time, and everything written to
// PostgreSQL in one transaction together with the partition's next offset.
// A redelivered batch therefore changes nothing, and a process that lost its
// partition cannot write.
//
// Within a batch, events are applied in offset order: one worker's events are
// on one partition (the Kafka key is the worker), so the running totals that
// thresholds and progressive amounts depend on see them in the order the
// platform sent them.
package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// Store is where the engine reads state and records what it consumed.
type Store interface {
	// ClaimPartition returns a fencing epoch and the next offset (-1: none).
	ClaimPartition(ctx context.Context, p postgres.Partition) (epoch, next int64, err error)
	// InBatch runs fn in one transaction that advances p to next; it
	// returns postgres.ErrFenced when the epoch is stale.
	InBatch(ctx context.Context, p postgres.Partition, next int64, fn func(*postgres.BatchTx) error) error
	// Platforms lists every platform and its schemes.
	Platforms(ctx context.Context) ([]postgres.Platform, error)
}

// Config configures New.
type Config struct {
	Store   Store            // required
	Catalog *gateway.Catalog // required: the scheme packs
	// Now is the clock that decides the open period of late events; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger // default slog.Default()
	// PlatformRefresh is how often the platform list is reloaded; default 10s.
	// An event from an unknown platform reloads it at once (at most once a second).
	PlatformRefresh time.Duration
	// StateCache is how many workers' running totals, and as many worker
	// references' registrations, the engine remembers between batches
	// instead of reading them again; default 100,000, negative: none.
	StateCache int
}

// Engine applies batches of earnings messages.
type Engine struct {
	cfg Config
	log *slog.Logger

	states *stateCache

	mu          sync.Mutex
	lookup      map[partitionKey]bool // partitions whose last batch had redeliveries
	platforms   map[string]*postgres.Platform
	loadedAt    time.Time
	lastMissing time.Time
}

// New returns an engine.
func New(cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PlatformRefresh = cmp.Or(cfg.PlatformRefresh, 10*time.Second)
	cfg.StateCache = cmp.Or(cfg.StateCache, 100_000)
	return &Engine{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()), states: newStateCache(cfg.StateCache, time.Hour, time.Now),
		lookup: map[partitionKey]bool{}}
}

// ClaimPartition implements kafkabus.Handler.
func (e *Engine) ClaimPartition(ctx context.Context, c kafkabus.Claim) (int64, int64, error) {
	return e.cfg.Store.ClaimPartition(ctx, partition(c))
}

// HandleBatch implements kafkabus.Handler.
func (e *Engine) HandleBatch(ctx context.Context, c kafkabus.Claim, msgs []kafka.Message) error {
	start := time.Now()
	p := partition(c)
	in := make([]postgres.IncomingEvent, 0, len(msgs))
	var bad []postgres.Rejection
	for _, m := range msgs {
		ev, err := decode(m.Value)
		if err != nil {
			bad = append(bad, rejection(m.Value, m.Offset, err))
			continue
		}
		// The hash is feed.Hash, taken from the canonical form at hand.
		payload := feed.Canonical(ev)
		in = append(in, postgres.IncomingEvent{Earning: ev, Payload: payload, Hash: sha256.Sum256(payload), Offset: m.Offset})
	}
	platforms, err := e.platformsFor(ctx, in)
	if err != nil {
		return err
	}
	// First with what the engine can assume or remembers; when that proves
	// wrong, again from reads. After a batch with redeliveries, the
	// partition's next batches look their events up until one has none:
	// redeliveries come in runs (a restarted or rewound consumer).
	pk := partitionKey{p.Topic, p.Partition}
	e.mu.Lock()
	r := reads{assumeNew: !e.lookup[pk], cache: e.states != nil}
	e.mu.Unlock()
	for {
		var res Result
		var update cacheUpdate
		var version uint32
		err = e.cfg.Store.InBatch(ctx, p, msgs[len(msgs)-1].Offset+1, func(tx *postgres.BatchTx) error {
			var err error
			res, update, err = e.apply(ctx, tx, p, in, bad, platforms, r)
			version = tx.Version()
			return err
		})
		switch {
		case errors.Is(err, postgres.ErrRecorded) && r.assumeNew:
			e.log.Debug("batch has redelivered events, computing it again", "partition", p.Partition)
			staleBatches.WithLabelValues("recorded").Inc()
			r.assumeNew = false
			continue
		case errors.Is(err, postgres.ErrStale) && r.cache:
			e.log.Debug("batch computed from stale running totals, computing it again", "partition", p.Partition, "err", err)
			staleBatches.WithLabelValues("state").Inc()
			e.states.forget()
			r.cache = false
			continue
		case errors.Is(err, postgres.ErrFenced):
			return kafkabus.ErrFenced
		case err != nil:
			return err
		}
		e.states.remember(update, version)
		e.mu.Lock()
		if r.assumeNew || res.Duplicates+res.Conflicts == 0 {
			delete(e.lookup, pk)
		} else {
			e.lookup[pk] = true
		}
		e.mu.Unlock()
		res.observe(len(msgs), time.Since(start))
		return nil
	}
}

type partitionKey struct {
	topic     string
	partition int
}

func partition(c kafkabus.Claim) postgres.Partition {
	return postgres.Partition{Group: c.Group, Topic: c.Topic, Partition: c.Partition, Generation: c.Generation, Epoch: c.Epoch}
}

// platformsFor returns the platform list, reloaded when it is stale or an
// event names a platform it lacks.
func (e *Engine) platformsFor(ctx context.Context, in []postgres.IncomingEvent) (map[string]*postgres.Platform, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	stale := e.platforms == nil || now.Sub(e.loadedAt) > e.cfg.PlatformRefresh
	if !stale && now.Sub(e.lastMissing) > time.Second {
		for _, ev := range in {
			if _, ok := e.platforms[ev.Earning.PlatformID]; !ok {
				stale, e.lastMissing = true, now
				break
			}
		}
	}
	if stale {
		list, err := e.cfg.Store.Platforms(ctx)
		if err != nil {
			return nil, err
		}
		m := make(map[string]*postgres.Platform, len(list))
		for i := range list {
			m[list[i].ID] = &list[i]
		}
		e.platforms, e.loadedAt = m, now
	}
	return e.platforms, nil
}

// rejection describes a message that cannot be applied. The platform and
// event ids are taken from the message when it is JSON enough to have them.
func rejection(payload []byte, offset int64, err error) postgres.Rejection {
	// What is kept of a refused message (rejected_events, the dead-letter
	// topic, GET /v1/rejections) never holds a national ID's number.
	r := postgres.Rejection{Code: gateway.ErrorCode(err), Message: gateway.ErrorMessage(err), Payload: feed.Redact(payload), Offset: offset}
	var ge *gateway.Error
	if errors.As(err, &ge) && len(ge.Details) > 0 {
		r.Field = ge.Details[0].Field
		r.Message = ge.Details[0].Message
		if ge.Details[0].Code != "" {
			r.Code = ge.Details[0].Code
		}
	}
	r.PlatformID, r.EventID = feed.Identify(payload)
	return r
}
