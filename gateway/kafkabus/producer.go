package kafkabus

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// ProducerConfig configures NewProducer.
type ProducerConfig struct {
	Brokers      []string      // required
	BatchSize    int           // messages per produce request; default 1000
	BatchTimeout time.Duration // how long a partial batch waits for more; default 2ms
}

// Producer writes messages to any topic, keyed, waiting for all in-sync
// replicas before it reports success.
type Producer struct {
	w *kafka.Writer
}

// NewProducer returns a producer; it connects lazily.
func NewProducer(cfg ProducerConfig) *Producer {
	return &Producer{w: &kafka.Writer{
		Addr:                   kafka.TCP(cfg.Brokers...),
		Balancer:               &kafka.Murmur2Balancer{Consistent: true},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              cmp.Or(cfg.BatchSize, 1000),
		BatchTimeout:           cmp.Or(cfg.BatchTimeout, 2*time.Millisecond),
		BatchBytes:             16 << 20,
		AllowAutoTopicCreation: false,
	}}
}

// Publish writes msgs and returns when every one of them is durable, or the
// first error. Each message names its topic.
func (p *Producer) Publish(ctx context.Context, msgs ...kafka.Message) error {
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("produce %d messages: %w", len(msgs), err)
	}
	return nil
}

// Close flushes and closes the producer.
func (p *Producer) Close() error { return p.w.Close() }
