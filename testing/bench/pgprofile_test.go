package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// serverTimes adds up, per statement, the CPU time its PostgreSQL backend
// spent on it (from /proc/<pid>/schedstat: the backend serves only this
// connection, one statement at a time) and the time the engine waited for
// it. It is a pgx tracer; set COVERBRIDGE_BENCH_PGPROFILE=1 to have the
// engine process print it when it stops.
//
// Statements that pgx does not trace (the engine's COPY streams, sent on
// the connection's PgConn) show as "untraced, before" the next traced
// statement: the backend's CPU between the end of one traced statement and
// the start of the next.
type serverTimes struct {
	mu      sync.Mutex
	stats   map[string]*statementTime
	lastEnd map[uint32]time.Duration // per backend, its CPU at the end of its last traced statement
}

type statementTime struct {
	calls     int
	cpu, wall time.Duration
}

type traceStart struct {
	sql  string
	cpu  time.Duration
	wall time.Time
}

type traceKey struct{}

// backendCPU is the CPU time a backend has used so far.
func backendCPU(pid uint32) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/schedstat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	ns, _ := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns)
}

func (s *serverTimes) start(ctx context.Context, conn *pgx.Conn, sql string) context.Context {
	pid := conn.PgConn().PID()
	cpu := backendCPU(pid)
	s.mu.Lock()
	if last, ok := s.lastEnd[pid]; ok && cpu > last {
		s.add("untraced, before "+statementName(sql), cpu-last, 0)
	}
	s.mu.Unlock()
	return context.WithValue(ctx, traceKey{}, traceStart{sql: sql, cpu: cpu, wall: time.Now()})
}

func statementName(sql string) string {
	name := strings.Join(strings.Fields(sql), " ")
	if len(name) > 70 {
		name = name[:70]
	}
	return name
}

// add counts one statement; s.mu is held.
func (s *serverTimes) add(name string, cpu, wall time.Duration) {
	if s.stats == nil {
		s.stats = map[string]*statementTime{}
	}
	t := s.stats[name]
	if t == nil {
		t = &statementTime{}
		s.stats[name] = t
	}
	t.calls++
	t.cpu += cpu
	t.wall += wall
}

func (s *serverTimes) end(ctx context.Context, conn *pgx.Conn) {
	st, ok := ctx.Value(traceKey{}).(traceStart)
	if !ok {
		return
	}
	pid := conn.PgConn().PID()
	now := backendCPU(pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(statementName(st.sql), now-st.cpu, time.Since(st.wall))
	if s.lastEnd == nil {
		s.lastEnd = map[uint32]time.Duration{}
	}
	s.lastEnd[pid] = now
}

func (s *serverTimes) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	return s.start(ctx, conn, data.SQL)
}

func (s *serverTimes) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryEndData) {
	s.end(ctx, conn)
}

func (s *serverTimes) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	return s.start(ctx, conn, "COPY "+data.TableName.Sanitize())
}

func (s *serverTimes) TraceCopyFromEnd(ctx context.Context, conn *pgx.Conn, _ pgx.TraceCopyFromEndData) {
	s.end(ctx, conn)
}

// print writes the statements by CPU time, per event.
func (s *serverTimes) print(w io.Writer, events int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.stats))
	var total time.Duration
	for n, t := range s.stats {
		names = append(names, n)
		total += t.cpu
	}
	slices.SortFunc(names, func(a, b string) int { return int(s.stats[b].cpu - s.stats[a].cpu) })
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(max(events, 1)) }
	fmt.Fprintf(w, "PostgreSQL backend CPU per event, by statement (%d events, %.1f µs/event in all):\n", events, per(total))
	for _, n := range names {
		t := s.stats[n]
		fmt.Fprintf(w, "  %7.1f µs cpu %7.1f µs wait %7d calls  %s\n", per(t.cpu), per(t.wall), t.calls, n)
	}
}
