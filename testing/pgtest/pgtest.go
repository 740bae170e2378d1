// Package pgtest gives each test an isolated, empty PostgreSQL database on a server
// shared by the whole test binary.
//
// The server is chosen once per test binary, on first use:
//
//  1. DATABASE_URL, when set: databases are created on that server (its user must
//     be allowed to CREATE DATABASE).
//  2. A PostgreSQL container started with testcontainers-go, when
//     COVERBRIDGE_TESTCONTAINERS=1 and a Docker engine answers.
//  3. A throwaway cluster created with the PostgreSQL server binaries of this machine
//     (package localpg, durability traded for speed), in a temporary directory on
//     /dev/shm when it has 1 GiB free and TMPDIR is unset, else in os.TempDir. It is
//     copied from a template data directory that the first test binary makes with
//     initdb and leaves there (coverbridge-pgtemplate-uid<N>) for the next ones.
//  4. Otherwise the test fails, saying what to install.
//
// Use it from TestMain so that the server is stopped and its directory removed when
// the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.New(t) // postgres://…/test_something_…?sslmode=disable
//		…
//	}
//
// A package that also uses kafkatest passes its teardown along:
// pgtest.Main(m, kafkatest.Close).
//
// A cluster never outlives its test binary. Main stops it after the tests, and on
// SIGINT or SIGTERM before exiting. When the binary dies without running Main's
// teardown (killed with SIGKILL, a test panicked, go test -timeout expired), the
// kernel shuts the server down: it runs as a child of the test binary with a
// parent-death signal (see localpg.Config.Attached). The temporary directory left
// behind then is removed by the next test binary that uses pgtest. Containers are
// removed by the testcontainers reaper.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/deploy/localpg"
)

// Main runs the tests, then stops the shared server and every cluster still running,
// removes their files, runs teardown, and exits with the tests' exit code. On SIGINT
// or SIGTERM it does the same cleanup and then dies of the signal.
//
// Main installs a handler for SIGINT and SIGTERM: tests must not send these signals
// to their own process.
func Main(m *testing.M, teardown ...func()) {
	stop := onSignal(func() {
		Close()
		for _, f := range teardown {
			f()
		}
	})
	code := m.Run()
	stop()
	Close()
	for _, f := range teardown {
		f()
	}
	os.Exit(code)
}

// New creates an empty database for t on the shared server and returns its URL.
// Databases of different tests are isolated from each other; tests using New can run
// in parallel. The database is dropped when t ends (connections still open are cut),
// unless t failed: then it is kept for inspection until the server goes away.
func New(t testing.TB) string {
	t.Helper()
	srv, err := shared()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s on %s: %v", name, srv.kind, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: database %s kept for inspection", srv.url(name))
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := srv.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return srv.url(name)
}

// Cluster starts a cluster of t's own with localpg, for tests that stop, crash or
// restart PostgreSQL; other tests are not disturbed. It is stopped and removed when t
// ends. Create databases with CreateDatabase and connect with URL.
//
// It needs the PostgreSQL server binaries of this machine. When they are missing the
// test is skipped if DATABASE_URL or containers provide the other tests' server, and
// fails otherwise.
func Cluster(t testing.TB) *localpg.Cluster {
	t.Helper()
	dir, err := rootDir()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	root := dir
	dir = filepath.Join(root, "cluster-"+strconv.FormatInt(seq.Add(1), 10))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := startLocal(ctx, root, dir)
	if errors.Is(err, localpg.ErrNoBinaries) && (os.Getenv("DATABASE_URL") != "" || containersWanted()) {
		t.Skipf("pgtest: this test starts and stops its own PostgreSQL cluster and needs the server binaries: %v", err)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	state.Lock()
	state.clusters[c] = dir
	state.Unlock()
	t.Cleanup(func() {
		state.Lock()
		_, own := state.clusters[c]
		delete(state.clusters, c)
		state.Unlock()
		if !own { // already removed by Close
			return
		}
		if err := c.Stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c
}

// Close stops the shared server and the clusters of tests still running, and removes
// their files. Main calls it; later calls do nothing, and New and Cluster fail after
// it.
func Close() {
	state.Lock()
	defer state.Unlock()
	if state.closed {
		return
	}
	state.closed = true
	if state.srv != nil && state.srv.stop != nil {
		if err := state.srv.stop(); err != nil {
			log.Printf("pgtest: stop %s: %v", state.srv.kind, err)
		}
	}
	for c := range state.clusters {
		if err := c.Stop(); err != nil {
			log.Printf("pgtest: %v", err)
		}
	}
	clear(state.clusters)
	if state.root != "" {
		if err := os.RemoveAll(state.root); err != nil {
			log.Printf("pgtest: %v", err)
		}
	}
}

var state = struct {
	sync.Mutex
	srv      *server
	srvErr   error
	root     string // temporary directory of this binary's local clusters
	clusters map[*localpg.Cluster]string
	closed   bool
}{clusters: map[*localpg.Cluster]string{}}

var seq atomic.Int64

var errClosed = errors.New("pgtest.Close has run: the tests are being torn down")

// shared returns the shared server, starting it on first use.
func shared() (*server, error) {
	state.Lock()
	defer state.Unlock()
	if state.closed {
		return nil, errClosed
	}
	if state.srv == nil && state.srvErr == nil {
		began := time.Now()
		state.srv, state.srvErr = startServer()
		if state.srvErr == nil {
			logf("pgtest: %s ready in %s", state.srv.kind, time.Since(began).Round(time.Millisecond))
		}
	}
	return state.srv, state.srvErr
}

// server is where test databases are created.
type server struct {
	kind  string   // for messages
	admin *url.URL // connection for CREATE DATABASE
	stop  func() error
}

func (s *server) url(db string) string {
	u := *s.admin
	u.Path = "/" + db
	u.RawPath = ""
	return u.String()
}

func (s *server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.admin.String())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

func startServer() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		u, err := url.Parse(dsn)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, fmt.Errorf("DATABASE_URL must be a postgres:// URL, got %q", dsn)
		}
		if strings.Trim(u.Path, "/") == "" {
			u.Path = "/postgres"
		}
		return &server{kind: "DATABASE_URL server " + u.Host, admin: u}, nil
	}
	if containersWanted() {
		if err := dockerAnswers(ctx); err != nil {
			logf("pgtest: COVERBRIDGE_TESTCONTAINERS=1 but no Docker engine answers (%v); using local PostgreSQL binaries", err)
		} else {
			return startContainer(ctx)
		}
	}
	root, err := rootDirLocked()
	if err != nil {
		return nil, err
	}
	c, err := startLocal(ctx, root, filepath.Join(root, "shared"))
	if err != nil {
		if errors.Is(err, localpg.ErrNoBinaries) {
			return nil, fmt.Errorf("no PostgreSQL for the tests: install PostgreSQL server binaries "+
				"(Debian: apt-get install postgresql), or set DATABASE_URL to a server where the user may "+
				"CREATE DATABASE, or set COVERBRIDGE_TESTCONTAINERS=1 with a Docker engine running: %w", err)
		}
		return nil, err
	}
	u, _ := url.Parse(c.URL("postgres"))
	return &server{kind: "local PostgreSQL " + u.Host, admin: u, stop: c.Stop}, nil
}

// databaseName derives a unique, valid database name from a test name.
func databaseName(test string) string {
	var b strings.Builder
	b.WriteString("test_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	// The process id keeps binaries sharing a DATABASE_URL server apart.
	fmt.Fprintf(&b, "_%d_%d", os.Getpid(), seq.Add(1))
	return b.String()
}

func containersWanted() bool { return os.Getenv("COVERBRIDGE_TESTCONTAINERS") == "1" }

// logf reports progress when the tests run with -v.
func logf(format string, args ...any) {
	if testing.Verbose() {
		log.Printf(format, args...)
	}
}

// onSignal runs cleanup on SIGINT or SIGTERM and then lets the signal kill the
// process. The returned function uninstalls the handler.
func onSignal(cleanup func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			cleanup()
			// Die of the signal, as without the handler; if it was ignored when
			// the process started, exit with the shell's code for it.
			signal.Reset(s)
			_ = syscall.Kill(os.Getpid(), s.(syscall.Signal))
			<-time.After(time.Second)
			os.Exit(128 + int(s.(syscall.Signal)))
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
		})
	}
}
