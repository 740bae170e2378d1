// Package localkafka runs an in-process broker that speaks the Kafka protocol (kfake
// from franz-go), for development and tests when no KAFKA_BROKERS is given.
//
// The broker lives inside this process and goes away with it. It keeps topics and
// committed offsets in memory unless Config.DataDir is set. It is a single broker:
// every replication factor is one, and acks=all is acknowledged once the record is
// stored.
package localkafka

import (
	"cmp"
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Config describes a local broker. The zero value is usable.
type Config struct {
	// Port is the TCP port on 127.0.0.1. Default 0: a free port chosen by the kernel.
	Port int
	// Partitions is the partition count of topics created without one, including
	// auto-created topics. Default 6.
	Partitions int
	// AutoCreateTopics lets clients create topics by asking for their metadata, as
	// auto.create.topics.enable does on a real broker. Default false: topics must be
	// created explicitly, as in production.
	AutoCreateTopics bool
	// DataDir, when set, keeps topics, records and committed offsets in this directory
	// between runs. Default "": everything is kept in memory.
	DataDir string
	// Logf receives the broker's warnings and errors. Default: discarded.
	Logf func(format string, args ...any)
}

// Broker is a running in-process broker.
type Broker struct {
	c     *kfake.Cluster
	addrs []string
}

// Start starts a broker listening on 127.0.0.1.
func Start(cfg Config) (*Broker, error) {
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(cmp.Or(cfg.Partitions, 6)),
		kfake.ClusterID("coverbridge-local"),
	}
	if cfg.Port != 0 {
		opts = append(opts, kfake.Ports(cfg.Port))
	}
	if cfg.AutoCreateTopics {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.Logf != nil {
		opts = append(opts, kfake.WithLogger(logger(cfg.Logf)))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("localkafka: start broker: %w", err)
	}
	return &Broker{c: c, addrs: c.ListenAddrs()}, nil
}

// Addrs returns the broker's host:port addresses, for KAFKA_BROKERS or a client's
// bootstrap list.
func (b *Broker) Addrs() []string { return append([]string(nil), b.addrs...) }

// Close stops the broker and closes client connections. It is safe to call more
// than once.
func (b *Broker) Close() { b.c.Close() }

// logger passes warnings and errors to a Logf function; the broker's per-request
// information is left out.
type logger func(format string, args ...any)

func (l logger) Logf(level kfake.LogLevel, format string, args ...any) {
	if level > kfake.LogLevelWarn || level == kfake.LogLevelNone {
		return
	}
	l("localkafka: "+level.String()+" "+format, args...)
}
