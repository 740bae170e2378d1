// Package kafkatest gives tests the addresses of a Kafka-protocol broker shared by the
// whole test binary, and unique topic names to isolate tests on it.
//
// The broker is chosen once per test binary, on first use:
//
//  1. KAFKA_BROKERS, when set (comma-separated host:port list).
//  2. A Kafka container started with testcontainers-go, when
//     COVERBRIDGE_TESTCONTAINERS=1 and a Docker engine answers.
//  3. Otherwise an in-process broker (package localkafka), which needs nothing
//     installed.
//
// Tests isolate themselves by topic (Topic) and consumer group, never by broker:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		brokers := kafkatest.Brokers(t)
//		topic := kafkatest.Topic(t, "earnings") // earnings-testsomething-1
//		…
//	}
//
// A package that also uses pgtest passes its teardown along:
// kafkatest.Main(m, pgtest.Close), or equivalently pgtest.Main(m, kafkatest.Close).
//
// The in-process broker dies with the test binary whatever the cause; containers are
// removed by Main and, if the binary is killed, by the testcontainers reaper.
package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/deploy/localkafka"
)

// Main runs the tests, then stops the shared broker, runs teardown, and exits with the
// tests' exit code. On SIGINT or SIGTERM it does the same cleanup and then dies of
// the signal.
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

// Brokers returns the bootstrap addresses of the shared broker, starting it on first
// use.
func Brokers(t testing.TB) []string {
	t.Helper()
	state.Lock()
	defer state.Unlock()
	if state.closed {
		t.Fatal("kafkatest: Close has run: the tests are being torn down")
	}
	if state.brokers == nil && state.err == nil {
		began := time.Now()
		state.brokers, state.kind, state.stop, state.err = start()
		if state.err == nil {
			logf("kafkatest: %s ready in %s", state.kind, time.Since(began).Round(time.Millisecond))
		}
	}
	if state.err != nil {
		t.Fatalf("kafkatest: %v", state.err)
	}
	return append([]string(nil), state.brokers...)
}

// Topic returns a topic name unique to this call in the test binary: prefix, the test's
// name and a sequence number, for example "earnings-testsomething-1". It does not
// create the topic.
func Topic(t testing.TB, prefix string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('-')
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= len(prefix)+1+60 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	// The process id keeps binaries sharing a KAFKA_BROKERS cluster apart.
	fmt.Fprintf(&b, "-%d-%d", os.Getpid(), seq.Add(1))
	return b.String()
}

// Close stops the shared broker. Main calls it; later calls do nothing, and Brokers
// fails after it.
func Close() {
	state.Lock()
	defer state.Unlock()
	if state.closed {
		return
	}
	state.closed = true
	if state.stop != nil {
		if err := state.stop(); err != nil {
			log.Printf("kafkatest: stop %s: %v", state.kind, err)
		}
	}
}

var state struct {
	sync.Mutex
	brokers []string
	kind    string
	stop    func() error
	err     error
	closed  bool
}

var seq atomic.Int64

func start() (brokers []string, kind string, stop func() error, err error) {
	if env := os.Getenv("KAFKA_BROKERS"); env != "" {
		for _, a := range strings.Split(env, ",") {
			if a = strings.TrimSpace(a); a != "" {
				brokers = append(brokers, a)
			}
		}
		if len(brokers) == 0 {
			return nil, "", nil, errors.New("KAFKA_BROKERS holds no address")
		}
		return brokers, "KAFKA_BROKERS " + strings.Join(brokers, ","), nil, nil
	}
	if os.Getenv("COVERBRIDGE_TESTCONTAINERS") == "1" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := dockerAnswers(ctx); err != nil {
			logf("kafkatest: COVERBRIDGE_TESTCONTAINERS=1 but no Docker engine answers (%v); using the in-process broker", err)
		} else {
			return startContainer(ctx)
		}
	}
	b, err := localkafka.Start(localkafka.Config{Logf: logf})
	if err != nil {
		return nil, "", nil, err
	}
	return b.Addrs(), "in-process broker " + strings.Join(b.Addrs(), ","), func() error { b.Close(); return nil }, nil
}

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
