package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// containerImage is the PostgreSQL image started when containers are asked for.
const containerImage = "postgres:16-alpine"

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

func startContainer(ctx context.Context) (*server, error) {
	c, err := testcontainers.Run(ctx, containerImage,
		testcontainers.WithExposedPorts("5432/tcp"),
		testcontainers.WithEnv(map[string]string{"POSTGRES_HOST_AUTH_METHOD": "trust"}),
		testcontainers.WithCmd("postgres", "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=200"),
		// The image's entrypoint starts a temporary server to initialise the cluster
		// first; the second "ready" line is the real one.
		testcontainers.WithWaitStrategy(
			wait.ForLog("database system is ready to accept connections").WithOccurrence(2).WithStartupTimeout(2*time.Minute),
			wait.ForListeningPort("5432/tcp"),
		),
	)
	if err != nil {
		if c != nil {
			_ = c.Terminate(context.Background())
		}
		return nil, fmt.Errorf("start %s container: %w", containerImage, err)
	}
	hostPort, err := c.PortEndpoint(ctx, "5432/tcp", "")
	if err != nil {
		_ = c.Terminate(context.Background())
		return nil, fmt.Errorf("%s container address: %w", containerImage, err)
	}
	u := &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: hostPort, Path: "/postgres", RawQuery: "sslmode=disable"}
	return &server{
		kind:  containerImage + " container at " + hostPort,
		admin: u,
		stop:  func() error { return c.Terminate(context.Background()) },
	}, nil
}
