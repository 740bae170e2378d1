package localkafka_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/deploy/localkafka"
)

func start(t *testing.T, cfg localkafka.Config) *localkafka.Broker {
	t.Helper()
	cfg.Logf = t.Logf
	b, err := localkafka.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func createTopic(t *testing.T, addr, topic string, partitions int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Errors[topic]; err != nil {
		t.Fatal(err)
	}
}

func partitions(t *testing.T, addr, topic string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	resp, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].Error != nil {
		t.Fatalf("metadata for %s: %+v", topic, resp.Topics)
	}
	return len(resp.Topics[0].Partitions)
}

func produce(t *testing.T, addr, topic string, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// consume reads n messages with a consumer group, committing each after reading it.
func consume(t *testing.T, addr, topic, group string, n int) map[string]string {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        []string{addr},
		GroupID:        group,
		Topic:          topic,
		StartOffset:    kafka.FirstOffset,
		MaxWait:        50 * time.Millisecond,
		CommitInterval: 0, // synchronous commits
	})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := map[string]string{}
	for len(got) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(got), n, err)
		}
		got[string(m.Key)] = string(m.Value)
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

func messages(n int) []kafka.Message {
	ms := make([]kafka.Message, n)
	for i := range ms {
		ms[i] = kafka.Message{Key: []byte("worker-" + strconv.Itoa(i)), Value: []byte(fmt.Sprintf("event %d", i))}
	}
	return ms
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	t.Parallel()
	began := time.Now()
	b := start(t, localkafka.Config{})
	t.Logf("broker started in %s", time.Since(began))
	addrs := b.Addrs()
	if len(addrs) != 1 {
		t.Fatalf("Addrs = %v, want one address", addrs)
	}
	createTopic(t, addrs[0], "earnings", 6)
	if n := partitions(t, addrs[0], "earnings"); n != 6 {
		t.Fatalf("partitions = %d, want 6", n)
	}
	produce(t, addrs[0], "earnings", messages(50)...)
	got := consume(t, addrs[0], "earnings", "engine", 50)
	for i := range 50 {
		if v := got["worker-"+strconv.Itoa(i)]; v != fmt.Sprintf("event %d", i) {
			t.Errorf("worker-%d = %q", i, v)
		}
	}

	// A second reader in the same group resumes after the committed offsets.
	produce(t, addrs[0], "earnings", kafka.Message{Key: []byte("late"), Value: []byte("after commit")})
	if got := consume(t, addrs[0], "earnings", "engine", 1); got["late"] != "after commit" || len(got) != 1 {
		t.Fatalf("after restart of the group got %v, want only the late message", got)
	}
}

func TestFixedPortAndDefaultPartitions(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	b := start(t, localkafka.Config{Port: port, Partitions: 3, AutoCreateTopics: true})
	if want := "127.0.0.1:" + strconv.Itoa(port); b.Addrs()[0] != want {
		t.Fatalf("Addrs = %v, want %s", b.Addrs(), want)
	}
	// With auto-creation on, producing to an unknown topic creates it with the
	// default partition count.
	w := &kafka.Writer{Addr: kafka.TCP(b.Addrs()[0]), Topic: "auto", RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, AllowAutoTopicCreation: true}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err := w.WriteMessages(ctx, kafka.Message{Value: []byte("x")})
		if err == nil {
			break
		}
		// The first write may race the topic's creation.
		if !errors.Is(err, kafka.UnknownTopicOrPartition) && !errors.Is(err, kafka.LeaderNotAvailable) || ctx.Err() != nil {
			t.Fatal(err)
		}
	}
	if n := partitions(t, b.Addrs()[0], "auto"); n != 3 {
		t.Fatalf("partitions = %d, want 3", n)
	}
}

func TestAutoCreateOffByDefault(t *testing.T) {
	t.Parallel()
	b := start(t, localkafka.Config{})
	w := &kafka.Writer{Addr: kafka.TCP(b.Addrs()[0]), Topic: "missing", RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, AllowAutoTopicCreation: true, MaxAttempts: 1}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("x")}); err == nil {
		t.Fatal("write to a missing topic succeeded")
	}
}

func TestDataDirKeepsRecordsAndOffsets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := localkafka.Start(localkafka.Config{DataDir: dir, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addrs()[0]
	createTopic(t, addr, "earnings", 2)
	produce(t, addr, "earnings", messages(4)...)
	consume(t, addr, "earnings", "engine", 4)
	produce(t, addr, "earnings", kafka.Message{Key: []byte("pending"), Value: []byte("not yet consumed")})
	b.Close()

	b2 := start(t, localkafka.Config{DataDir: dir})
	if n := partitions(t, b2.Addrs()[0], "earnings"); n != 2 {
		t.Fatalf("partitions after reopen = %d, want 2", n)
	}
	got := consume(t, b2.Addrs()[0], "earnings", "engine", 1)
	if got["pending"] != "not yet consumed" || len(got) != 1 {
		t.Fatalf("after reopen got %v, want only the pending message", got)
	}
}
