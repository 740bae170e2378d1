package kafkabus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// ErrFenced is returned by a Handler when the partition has been claimed by
// another owner since this one claimed it; the consumer stops reading the
// partition.
var ErrFenced = errors.New("partition claimed by a newer owner")

// Claim identifies one partition owned by this process in one group
// generation. Epoch is the fencing token the Handler got from its store when
// it claimed the partition.
type Claim struct {
	Group      string
	Topic      string
	Partition  int
	Generation int32
	Epoch      int64
}

// Handler applies batches of messages. Implementations keep the next offset
// to read in the same transaction as the effects of a batch.
type Handler interface {
	// ClaimPartition records that this process now owns the partition and
	// returns the fencing epoch and the next offset to read, or -1 when none
	// is stored (read from the earliest offset).
	ClaimPartition(ctx context.Context, c Claim) (epoch int64, next int64, err error)
	// HandleBatch applies msgs (in offset order, one partition) and records
	// the offset after the last one, all or nothing. It returns ErrFenced
	// when c.Epoch is no longer the partition's owner.
	HandleBatch(ctx context.Context, c Claim, msgs []kafka.Message) error
}

// ConsumerConfig configures NewConsumer.
type ConsumerConfig struct {
	Brokers   []string      // required
	Group     string        // required: the consumer group id
	Topic     string        // required
	BatchSize int           // most messages per batch; default 2000
	BatchWait time.Duration // longest wait to fill a batch after its first message; default 50ms
	// SessionTimeout is how long the group waits for a silent member; default 10s.
	SessionTimeout time.Duration
	// RetryBackoff is the pause after a failed batch before it is retried; default 1s.
	RetryBackoff time.Duration
	Logger       *slog.Logger // default slog.Default()
	// OnBatch, when set, is called after every applied batch with its size,
	// duration and the partition's lag.
	OnBatch func(c Claim, n int, d time.Duration, lag int64)
}

// Consumer reads a topic as a member of a consumer group and hands batches,
// one partition at a time, to a Handler. Offsets come from the Handler's
// store, never from Kafka: the offsets committed to Kafka after each batch
// are a courtesy for monitoring tools.
type Consumer struct {
	cfg     ConsumerConfig
	handler Handler
	log     *slog.Logger
}

// NewConsumer returns a consumer; Run starts it.
func NewConsumer(cfg ConsumerConfig, h Handler) *Consumer {
	cfg.BatchSize = cmp.Or(cfg.BatchSize, 2000)
	cfg.BatchWait = cmp.Or(cfg.BatchWait, 50*time.Millisecond)
	cfg.SessionTimeout = cmp.Or(cfg.SessionTimeout, 10*time.Second)
	cfg.RetryBackoff = cmp.Or(cfg.RetryBackoff, time.Second)
	return &Consumer{cfg: cfg, handler: h, log: cmp.Or(cfg.Logger, slog.Default())}
}

// Run consumes until ctx ends. On return every partition worker has finished
// its current batch.
func (c *Consumer) Run(ctx context.Context) error {
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                c.cfg.Group,
		Brokers:           c.cfg.Brokers,
		Topics:            []string{c.cfg.Topic},
		SessionTimeout:    c.cfg.SessionTimeout,
		RebalanceTimeout:  c.cfg.SessionTimeout,
		HeartbeatInterval: c.cfg.SessionTimeout / 5,
		JoinGroupBackoff:  500 * time.Millisecond,
		// A join may wait for a member that died to be dropped (its session)
		// and then for the rebalance; kafka-go gives it Timeout plus the
		// rebalance timeout. With the default 5s a join on a busy machine
		// could give up first and join again as a new member, which the
		// coordinator then waits for in turn: the group never settled.
		Timeout:     3 * c.cfg.SessionTimeout,
		StartOffset: kafka.FirstOffset,
	})
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", c.cfg.Group, err)
	}
	stop := context.AfterFunc(ctx, func() { group.Close() })
	defer stop()
	for {
		gen, err := group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				group.Close()
				return nil
			}
			c.log.Warn("consumer group: join failed, retrying", "group", c.cfg.Group, "err", err)
			select {
			case <-ctx.Done():
				group.Close()
				return nil
			case <-time.After(c.cfg.RetryBackoff):
			}
			continue
		}
		c.log.Info("consumer group: generation started", "group", c.cfg.Group, "generation", gen.ID,
			"partitions", len(gen.Assignments[c.cfg.Topic]))
		for _, a := range gen.Assignments[c.cfg.Topic] {
			claim := Claim{Group: c.cfg.Group, Topic: c.cfg.Topic, Partition: a.ID, Generation: gen.ID}
			gen.Start(func(gctx context.Context) { c.consumePartition(gctx, gen, claim) })
		}
	}
}

// consumePartition reads one partition until the generation ends.
func (c *Consumer) consumePartition(ctx context.Context, gen *kafka.Generation, claim Claim) {
	log := c.log.With("topic", claim.Topic, "partition", claim.Partition, "generation", claim.Generation)
	var next int64
	for {
		var err error
		claim.Epoch, next, err = c.handler.ClaimPartition(ctx, claim)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("claim partition failed, retrying", "err", err)
		if !sleep(ctx, c.cfg.RetryBackoff) {
			return
		}
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   c.cfg.Brokers,
		Topic:     claim.Topic,
		Partition: claim.Partition,
		MinBytes:  1,
		MaxBytes:  16 << 20,
		MaxWait:   c.cfg.BatchWait,
		// The reader's queue is bounded so memory does not grow with lag.
		QueueCapacity: c.cfg.BatchSize,
	})
	defer r.Close()
	if next < 0 {
		next = kafka.FirstOffset
	}
	if err := r.SetOffset(next); err != nil {
		log.Error("set offset", "offset", next, "err", err)
		return
	}
	log.Debug("partition claimed", "epoch", claim.Epoch, "offset", next)
	batch := make([]kafka.Message, 0, c.cfg.BatchSize)
	for {
		var ok bool
		batch, ok = c.fetchBatch(ctx, r, batch[:0])
		if !ok {
			return
		}
		start := time.Now()
		// A batch that has begun is finished even if the generation ends:
		// it is one transaction, so finishing it is safe and saves a redo.
		for {
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			err := c.handler.HandleBatch(hctx, claim, batch)
			cancel()
			if err == nil {
				break
			}
			if errors.Is(err, ErrFenced) {
				log.Warn("partition fenced: a newer owner holds it")
				return
			}
			log.Error("apply batch failed, retrying", "messages", len(batch), "first_offset", batch[0].Offset, "err", err)
			if !sleep(ctx, c.cfg.RetryBackoff) {
				return
			}
		}
		last := batch[len(batch)-1]
		if c.cfg.OnBatch != nil {
			c.cfg.OnBatch(claim, len(batch), time.Since(start), r.Stats().Lag)
		}
		if err := gen.CommitOffsets(map[string]map[int]int64{claim.Topic: {claim.Partition: last.Offset + 1}}); err != nil {
			log.Debug("courtesy offset commit failed", "err", err)
		}
	}
}

// fetchBatch blocks for the first message, then collects more until the batch
// is full or BatchWait has passed. It returns false when ctx ends before a
// first message arrives.
func (c *Consumer) fetchBatch(ctx context.Context, r *kafka.Reader, batch []kafka.Message) ([]kafka.Message, bool) {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return batch, false
	}
	batch = append(batch, m)
	wctx, cancel := context.WithTimeout(ctx, c.cfg.BatchWait)
	defer cancel()
	for len(batch) < c.cfg.BatchSize {
		m, err := r.FetchMessage(wctx)
		if err != nil {
			break
		}
		batch = append(batch, m)
	}
	return batch, true
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
