package kafkatest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// containerImage is the Kafka image started when containers are asked for. It runs in
// KRaft mode, without ZooKeeper.
const containerImage = "confluentinc/confluent-local:7.5.0"

const (
	publicPort = "9093/tcp"
	// starterPath is where the start script is copied once the published port is
	// known; the container's command waits for it.
	starterPath = "/usr/sbin/coverbridge_start.sh"
	// starter advertises the published address to clients and the container's own
	// name to the broker itself, then runs the image's normal start-up.
	starter = `#!/bin/bash
source /etc/confluent/docker/bash-config
export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://%s,BROKER://%s:9092"
sed -i '/KAFKA_ZOOKEEPER_CONNECT/d' /etc/confluent/docker/configure
echo 'kafka-storage format --ignore-formatted -t "$(kafka-storage random-uuid)" -c /etc/kafka/kafka.properties' >> /etc/confluent/docker/configure
echo '' > /etc/confluent/docker/ensure
/etc/confluent/docker/configure
/etc/confluent/docker/launch
`
)

// dockerAnswers reports why no Docker engine can be used, or nil.
func dockerAnswers(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	return p.Health(ctx) // closes the provider
}

func startContainer(ctx context.Context) (brokers []string, kind string, stop func() error, err error) {
	c, err := testcontainers.Run(ctx, containerImage,
		testcontainers.WithExposedPorts(publicPort),
		testcontainers.WithEnv(map[string]string{
			"KAFKA_LISTENERS":                                "PLAINTEXT://0.0.0.0:9093,BROKER://0.0.0.0:9092,CONTROLLER://0.0.0.0:9094",
			"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":           "BROKER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
			"KAFKA_INTER_BROKER_LISTENER_NAME":               "BROKER",
			"KAFKA_CONTROLLER_LISTENER_NAMES":                "CONTROLLER",
			"KAFKA_CONTROLLER_QUORUM_VOTERS":                 "1@localhost:9094",
			"KAFKA_PROCESS_ROLES":                            "broker,controller",
			"KAFKA_NODE_ID":                                  "1",
			"KAFKA_BROKER_ID":                                "1",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
			"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS":             "1",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
			"KAFKA_LOG_FLUSH_INTERVAL_MESSAGES":              strconv.Itoa(math.MaxInt),
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":         "0",
			"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                "false",
			"KAFKA_NUM_PARTITIONS":                           "6",
		}),
		testcontainers.WithEntrypoint("sh"),
		testcontainers.WithCmd("-c", "while [ ! -f "+starterPath+" ]; do sleep 0.1; done; bash "+starterPath),
		testcontainers.WithLifecycleHooks(testcontainers.ContainerLifecycleHooks{
			PostStarts: []testcontainers.ContainerHook{func(ctx context.Context, c testcontainers.Container) error {
				if err := wait.ForMappedPort(publicPort).WaitUntilReady(ctx, c); err != nil {
					return err
				}
				addr, err := c.PortEndpoint(ctx, publicPort, "")
				if err != nil {
					return err
				}
				inspect, err := c.Inspect(ctx)
				if err != nil {
					return err
				}
				script := fmt.Sprintf(starter, addr, inspect.Config.Hostname)
				if err := c.CopyToContainer(ctx, []byte(script), starterPath, 0o755); err != nil {
					return err
				}
				return wait.ForLog(".*Transitioning from RECOVERY to RUNNING.*").AsRegexp().
					WithStartupTimeout(2*time.Minute).WaitUntilReady(ctx, c)
			}},
		}),
	)
	if err != nil {
		if c != nil {
			_ = c.Terminate(context.Background())
		}
		return nil, "", nil, fmt.Errorf("start %s container: %w", containerImage, err)
	}
	addr, err := c.PortEndpoint(ctx, publicPort, "")
	if err != nil {
		_ = c.Terminate(context.Background())
		return nil, "", nil, fmt.Errorf("%s container address: %w", containerImage, err)
	}
	return []string{addr}, containerImage + " container at " + addr,
		func() error { return c.Terminate(context.Background()) }, nil
}
