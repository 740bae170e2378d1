// Package engine turns consumed earnings messages into ledger writes. It is
// the kafkabus.Handler of the "earnings" topic: each batch of one partition is
// decoded with the platforms' wire format and applied to the store in one
// transaction, together with the partition's next offset, so a redelivered
// batch changes nothing.
package engine

import (
	"cmp"
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// Store is where the engine records what it consumed.
type Store interface {
	// ClaimPartition returns a fencing epoch and the next offset (-1: none).
	ClaimPartition(ctx context.Context, p postgres.Partition) (epoch, next int64, err error)
	// RecordEarnings applies a batch; postgres.ErrFenced when the epoch is stale.
	RecordEarnings(ctx context.Context, b postgres.EarningBatch) (postgres.BatchResult, error)
}

// Config configures New.
type Config struct {
	Store  Store        // required
	Logger *slog.Logger // default slog.Default()
}

// Engine applies batches of earnings messages.
type Engine struct {
	store Store
	log   *slog.Logger
}

// New returns an engine.
func New(cfg Config) *Engine {
	return &Engine{store: cfg.Store, log: cmp.Or(cfg.Logger, slog.Default())}
}

var (
	consumed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "coverbridge_events_consumed_total",
		Help: "Earnings messages consumed by the engine, by outcome (recorded, duplicate, rejected).",
	}, []string{"outcome"})
)

// ClaimPartition implements kafkabus.Handler.
func (e *Engine) ClaimPartition(ctx context.Context, c kafkabus.Claim) (int64, int64, error) {
	return e.store.ClaimPartition(ctx, partition(c))
}

// HandleBatch implements kafkabus.Handler.
func (e *Engine) HandleBatch(ctx context.Context, c kafkabus.Claim, msgs []kafka.Message) error {
	b := postgres.EarningBatch{Partition: partition(c), Next: msgs[len(msgs)-1].Offset + 1}
	for _, m := range msgs {
		ev, err := feed.Decode(m.Value)
		if err != nil {
			b.Rejections = append(b.Rejections, rejection(m, err))
			continue
		}
		payload := feed.Canonical(ev)
		b.Events = append(b.Events, postgres.IncomingEvent{Earning: ev, Payload: payload, Hash: feed.Hash(ev), Offset: m.Offset})
	}
	res, err := e.store.RecordEarnings(ctx, b)
	if errors.Is(err, postgres.ErrFenced) {
		return kafkabus.ErrFenced
	}
	if err != nil {
		return err
	}
	consumed.WithLabelValues("recorded").Add(float64(res.Recorded))
	consumed.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	consumed.WithLabelValues("rejected").Add(float64(len(b.Rejections) + res.Conflicts))
	return nil
}

func partition(c kafkabus.Claim) postgres.Partition {
	return postgres.Partition{Group: c.Group, Topic: c.Topic, Partition: c.Partition, Generation: c.Generation, Epoch: c.Epoch}
}

// rejection describes a message that could not be decoded. The platform and
// event ids are taken from the message when it is JSON enough to have them.
func rejection(m kafka.Message, err error) postgres.Rejection {
	r := postgres.Rejection{Code: gateway.ErrorCode(err), Message: gateway.ErrorMessage(err), Payload: m.Value, Offset: m.Offset}
	var ge *gateway.Error
	if errors.As(err, &ge) && len(ge.Details) > 0 {
		r.Field = ge.Details[0].Field
		r.Message = ge.Details[0].Message
	}
	r.PlatformID, r.EventID = feed.Identify(m.Value)
	return r
}
