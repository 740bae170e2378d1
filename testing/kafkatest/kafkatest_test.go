package kafkatest_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/testing/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

func TestRoundTripOnSharedBroker(t *testing.T) {
	t.Parallel()
	began := time.Now()
	brokers := kafkatest.Brokers(t)
	t.Logf("broker ready in %s: %v", time.Since(began), brokers)
	topic := kafkatest.Topic(t, "earnings")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: 6, ReplicationFactor: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Errors[topic]; err != nil {
		t.Fatal(err)
	}

	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
	}
	defer w.Close()
	if err := w.WriteMessages(ctx,
		kafka.Message{Key: []byte("drv-77"), Value: []byte("ord-1001")},
		kafka.Message{Key: []byte("drv-78"), Value: []byte("ord-1002")},
	); err != nil {
		t.Fatal(err)
	}

	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     brokers,
		GroupID:     topic + "-engine",
		Topic:       topic,
		StartOffset: kafka.FirstOffset,
		MaxWait:     50 * time.Millisecond,
	})
	defer r.Close()
	got := map[string]string{}
	for len(got) < 2 {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got[string(m.Key)] = string(m.Value)
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if got["drv-77"] != "ord-1001" || got["drv-78"] != "ord-1002" {
		t.Fatalf("got %v", got)
	}
}

func TestTopicNamesAreUniqueAndValid(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)
	seen := map[string]bool{}
	for range 3 {
		name := kafkatest.Topic(t, "earnings")
		if !valid.MatchString(name) {
			t.Errorf("invalid topic name %q", name)
		}
		if !strings.HasPrefix(name, "earnings-testtopicnamesareuniqueandvalid-") {
			t.Errorf("topic %q does not start with the prefix and test name", name)
		}
		if seen[name] {
			t.Errorf("topic %q given twice", name)
		}
		seen[name] = true
	}
	t.Run("with/odd name: é", func(t *testing.T) {
		if name := kafkatest.Topic(t, "dlq"); !valid.MatchString(name) {
			t.Errorf("invalid topic name %q", name)
		}
	})
}

func TestKafkaBrokersFromEnvironment(t *testing.T) {
	if os.Getenv("KAFKATEST_HELPER") == "1" {
		if got := strings.Join(kafkatest.Brokers(t), ","); got != "127.0.0.1:1,127.0.0.1:2" {
			t.Fatalf("Brokers = %s", got)
		}
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKafkaBrokersFromEnvironment$")
	cmd.Env = append(os.Environ(), "KAFKATEST_HELPER=1", "KAFKA_BROKERS=127.0.0.1:1, 127.0.0.1:2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
