package engine

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// RelayStore is what the relay reads and where it keeps its position.
type RelayStore interface {
	TryLeader(ctx context.Context, name string) (release func(), ok bool, err error)
	RelayPartitions(ctx context.Context, topic string) ([]int, error)
	RelayPosition(ctx context.Context, stream string, partition int) (int64, error)
	AdvanceRelay(ctx context.Context, stream string, partition int, position int64) error
	RecordedAfter(ctx context.Context, topic string, partition int, after int64, limit int) (evs []postgres.RelayEvent, full bool, err error)
	RejectedAfter(ctx context.Context, topic string, partition int, after int64, limit int) ([]postgres.Rejection, error)
}

// Publisher writes messages to Kafka and returns once they are durable.
type Publisher interface {
	Publish(ctx context.Context, msgs ...kafka.Message) error
}

// RelayConfig configures NewRelay.
type RelayConfig struct {
	Store     RelayStore // required
	Publisher Publisher  // required
	// Topic is the consumed topic whose results are relayed; default "earnings".
	Topic string
	// Interval is the pause when there is nothing to publish; default 50ms.
	Interval time.Duration
	// Limit is the most messages published at once per partition; default 2000.
	Limit  int
	Logger *slog.Logger // default slog.Default()
}

// Relay publishes what the engine committed: every recorded event's outcome
// to "deductions" (key: event id) and every rejected message to
// "earnings.dlq" with the reason in headers. It reads the ledger in each
// partition's offset order and stores how far it got in PostgreSQL after
// publishing, so a crash republishes rather than loses. One relay runs at a
// time across processes (an advisory lock); others wait.
type Relay struct {
	cfg RelayConfig
	log *slog.Logger
}

var relayed = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "coverbridge_relay_published_total",
	Help: "Messages the relay published, by topic.",
}, []string{"topic"})

// NewRelay returns a relay; Run starts it.
func NewRelay(cfg RelayConfig) *Relay {
	cfg.Topic = cmp.Or(cfg.Topic, kafkabus.TopicEarnings)
	cfg.Interval = cmp.Or(cfg.Interval, 50*time.Millisecond)
	cfg.Limit = cmp.Or(cfg.Limit, 2000)
	return &Relay{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default())}
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		release, ok, err := r.cfg.Store.TryLeader(ctx, "relay:"+r.cfg.Topic)
		if err != nil && ctx.Err() == nil {
			r.log.Warn("relay: leader lock", "err", err)
		}
		if !ok {
			if !sleep(ctx, time.Second) {
				break
			}
			continue
		}
		r.log.Info("relay: publishing results", "topic", r.cfg.Topic)
		err = r.lead(ctx)
		release()
		if err != nil && ctx.Err() == nil {
			r.log.Warn("relay: stopped, retrying", "err", err)
			sleep(ctx, time.Second)
		}
	}
	return nil
}

// streamPartition names a relay position.
type streamPartition struct {
	stream    string
	partition int
}

// positions are the relay's positions as this leader last read or stored
// them: only the leader stores them, so they are read once per lead.
type positions map[streamPartition]int64

func (r *Relay) position(ctx context.Context, pos positions, stream string, partition int) (int64, error) {
	k := streamPartition{stream, partition}
	if p, ok := pos[k]; ok {
		return p, nil
	}
	p, err := r.cfg.Store.RelayPosition(ctx, stream, partition)
	if err == nil {
		pos[k] = p
	}
	return p, err
}

func (r *Relay) advance(ctx context.Context, pos positions, stream string, partition int, offset int64) error {
	if err := r.cfg.Store.AdvanceRelay(ctx, stream, partition, offset); err != nil {
		return fmt.Errorf("store relay position: %w", err)
	}
	pos[streamPartition{stream, partition}] = offset
	return nil
}

// lead publishes while this process holds the lock.
func (r *Relay) lead(ctx context.Context) error {
	pos := positions{}
	for {
		partitions, err := r.cfg.Store.RelayPartitions(ctx, r.cfg.Topic)
		if err != nil {
			return err
		}
		busy := false
		for _, p := range partitions {
			more, err := r.relayDeductions(ctx, pos, p)
			if err != nil {
				return err
			}
			moreRejected, err := r.relayRejections(ctx, pos, p)
			if err != nil {
				return err
			}
			busy = busy || more || moreRejected
		}
		if !busy && !sleep(ctx, r.cfg.Interval) {
			return nil
		}
	}
}

// relayDeductions publishes a partition's next recorded events; more
// reports that more may be waiting.
func (r *Relay) relayDeductions(ctx context.Context, pos positions, partition int) (more bool, err error) {
	after, err := r.position(ctx, pos, postgres.StreamDeductions, partition)
	if err != nil {
		return false, err
	}
	evs, full, err := r.cfg.Store.RecordedAfter(ctx, r.cfg.Topic, partition, after, r.cfg.Limit)
	if err != nil || len(evs) == 0 {
		return false, err
	}
	msgs := make([]kafka.Message, len(evs))
	for i, e := range evs {
		v, err := relayOutcome(e)
		if err != nil {
			return false, err
		}
		msgs[i] = kafka.Message{Topic: kafkabus.TopicDeductions, Key: []byte(e.EventID), Value: v,
			Headers: []kafka.Header{{Key: "platform_id", Value: []byte(e.PlatformID)}}}
	}
	if err := r.cfg.Publisher.Publish(ctx, msgs...); err != nil {
		return false, err
	}
	relayed.WithLabelValues(kafkabus.TopicDeductions).Add(float64(len(msgs)))
	if err := r.advance(ctx, pos, postgres.StreamDeductions, partition, evs[len(evs)-1].Offset); err != nil {
		return false, err
	}
	return full, nil
}

// relayRejections publishes a partition's next rejected messages; more
// reports that more may be waiting.
func (r *Relay) relayRejections(ctx context.Context, pos positions, partition int) (more bool, err error) {
	after, err := r.position(ctx, pos, postgres.StreamRejections, partition)
	if err != nil {
		return false, err
	}
	rs, err := r.cfg.Store.RejectedAfter(ctx, r.cfg.Topic, partition, after, r.cfg.Limit)
	if err != nil || len(rs) == 0 {
		return false, err
	}
	msgs := make([]kafka.Message, len(rs))
	for i, rj := range rs {
		msgs[i] = kafka.Message{Topic: kafkabus.TopicEarningsDLQ, Key: []byte(rj.PlatformID + "/" + rj.EventID), Value: rj.Payload,
			Headers: []kafka.Header{
				{Key: "reason_code", Value: []byte(rj.Code)},
				{Key: "reason", Value: []byte(rj.Message)},
				{Key: "field", Value: []byte(rj.Field)},
				{Key: "platform_id", Value: []byte(rj.PlatformID)},
				{Key: "event_id", Value: []byte(rj.EventID)},
				{Key: "source", Value: []byte(fmt.Sprintf("%s/%d@%d", r.cfg.Topic, partition, rj.Offset))},
			}}
	}
	if err := r.cfg.Publisher.Publish(ctx, msgs...); err != nil {
		return false, err
	}
	relayed.WithLabelValues(kafkabus.TopicEarningsDLQ).Add(float64(len(msgs)))
	if err := r.advance(ctx, pos, postgres.StreamRejections, partition, rs[len(rs)-1].Offset); err != nil {
		return false, err
	}
	return len(rs) == r.cfg.Limit, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
