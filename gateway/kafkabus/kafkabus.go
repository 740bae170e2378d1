// Package kafkabus carries events over Kafka with segmentio/kafka-go: topic
// set-up, a producer that waits for every in-sync replica, and a consumer
// whose offsets live in PostgreSQL beside the data they cover.
//
// Keys are hashed with murmur2, the partitioner of the Java client and
// librdkafka, so a platform producing straight to a topic and the HTTP API
// put one worker's events on the same partition.
package kafkabus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Topic names.
const (
	TopicEarnings    = "earnings"
	TopicEarningsDLQ = "earnings.dlq"
	TopicDeductions  = "deductions"
)

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name              string
	Partitions        int // default 6
	ReplicationFactor int // default -1: the broker's default
}

// EnsureTopics creates the topics that do not exist yet. Topics that exist are
// left as they are.
func EnsureTopics(ctx context.Context, brokers []string, specs []TopicSpec) error {
	if len(brokers) == 0 {
		return errors.New("ensure topics: no brokers")
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafka.CreateTopicsRequest{}
	for _, s := range specs {
		req.Topics = append(req.Topics, kafka.TopicConfig{
			Topic:             s.Name,
			NumPartitions:     cmp.Or(s.Partitions, 6),
			ReplicationFactor: cmp.Or(s.ReplicationFactor, -1),
		})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for name, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
	}
	return nil
}

// Ping reports whether a broker answers a metadata request.
func Ping(ctx context.Context, brokers []string) error {
	if len(brokers) == 0 {
		return errors.New("no brokers")
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 3 * time.Second}
	_, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}})
	if err != nil {
		return fmt.Errorf("kafka metadata: %w", err)
	}
	return nil
}

// PartitionCount returns the number of partitions of topic.
func PartitionCount(ctx context.Context, brokers []string, topic string) (int, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, err
	}
	for _, t := range md.Topics {
		if t.Name == topic {
			if t.Error != nil {
				return 0, t.Error
			}
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("topic %s not found", topic)
}
