package pgtest_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/testing/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m)
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec1(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func scalar[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		<-tick.C
	}
}

func alive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	i := strings.LastIndexByte(string(st), ')')
	return i < 0 || i+2 >= len(st) || st[i+2] != 'Z'
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestNewGivesIsolatedEmptyDatabases(t *testing.T) {
	t.Parallel()
	began := time.Now()
	a := pgtest.New(t)
	t.Logf("first database (server start included): %s", time.Since(began))
	began = time.Now()
	b := pgtest.New(t)
	t.Logf("second database: %s", time.Since(began))
	if a == b {
		t.Fatalf("two calls gave the same URL %s", a)
	}
	ca, cb := connect(t, a), connect(t, b)
	if n := scalar[int](t, ca, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"); n != 0 {
		t.Fatalf("new database has %d tables", n)
	}
	exec1(t, ca, "CREATE TABLE note (body text NOT NULL)")
	exec1(t, ca, "INSERT INTO note VALUES ('only in a')")
	if n := scalar[int](t, cb, "SELECT count(*) FROM pg_tables WHERE tablename = 'note'"); n != 0 {
		t.Fatal("a table created in one database is visible in the other")
	}
	if db := scalar[string](t, ca, "SELECT current_database()"); !strings.HasPrefix(db, "test_testnewgivesisolatedemptydatabases") {
		t.Errorf("database name %q does not name the test", db)
	}
}

func TestNewInParallel(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, pgtest.New(t))
			exec1(t, conn, "CREATE TABLE note (n int NOT NULL)")
			exec1(t, conn, "INSERT INTO note VALUES ($1)", i)
			if n := scalar[int](t, conn, "SELECT sum(n) FROM note"); n != i {
				t.Fatalf("sum = %d, want %d", n, i)
			}
		})
	}
}

func TestClusterRestartKeepsData(t *testing.T) {
	t.Parallel()
	began := time.Now()
	c := pgtest.Cluster(t)
	t.Logf("own cluster started in %s", time.Since(began))
	ctx := context.Background()
	if err := c.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, c.URL("app"))
	exec1(t, conn, "CREATE TABLE note (body text NOT NULL)")
	exec1(t, conn, "INSERT INTO note VALUES ('committed before the crash')")
	began = time.Now()
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("crash and restart: %s", time.Since(began))
	conn = connect(t, c.URL("app"))
	if n := scalar[int](t, conn, "SELECT count(*) FROM note"); n != 1 {
		t.Fatalf("rows after restart = %d, want 1", n)
	}
	// The shared server was not disturbed.
	connect(t, pgtest.New(t))
}

// helper starts this test binary in the given helper mode and returns it with its
// standard output.
func helper(t *testing.T, mode string, env ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelper$", "-test.v")
	cmd.Env = append(append(os.Environ(), "PGTEST_HELPER="+mode), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, bufio.NewReader(out)
}

// field reads lines until one starts with key and returns the rest of it.
func field(t *testing.T, r *bufio.Reader, key string) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("helper ended before reporting %s: %v", key, err)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+" "); ok {
			return v
		}
	}
}

// serverOf reports the postmaster process id and the directory of a local server URL
// by asking the server itself.
func serverOf(t *testing.T, url string) (pid int, dataDir string) {
	t.Helper()
	conn := connect(t, url)
	dataDir = scalar[string](t, conn, "SHOW data_directory")
	b, err := os.ReadFile(dataDir + "/postmaster.pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ = strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	conn.Close(context.Background())
	return pid, dataDir
}

func TestKilledBinaryTakesItsServerAlong(t *testing.T) {
	if os.Getenv("DATABASE_URL") != "" {
		t.Skip("the shared server comes from DATABASE_URL")
	}
	t.Parallel()
	cmd, out := helper(t, "wait")
	pid, dataDir := serverOf(t, field(t, out, "url"))
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "server exit after SIGKILL of the test binary", func() bool { return !alive(pid) })
	if !exists(dataDir) {
		t.Fatal("directory already gone; expected it to be left for the next run")
	}
	// The next binary to start a cluster removes the directory left behind.
	cmd2, out2 := helper(t, "new")
	field(t, out2, "url")
	if err := cmd2.Wait(); err != nil {
		t.Fatal(err)
	}
	if exists(dataDir) {
		t.Errorf("%s left behind after the next run", dataDir)
	}
}

func TestSignalTearsDown(t *testing.T) {
	if os.Getenv("DATABASE_URL") != "" {
		t.Skip("the shared server comes from DATABASE_URL")
	}
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd, out := helper(t, "wait")
		pid, dataDir := serverOf(t, field(t, out, "url"))
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, out)
		err := cmd.Wait()
		// A process started with the signal ignored (a background job of a
		// non-interactive shell ignores SIGINT) exits with 128+signal instead.
		ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ok || !(ws.Signaled() && ws.Signal() == sig || ws.Exited() && ws.ExitStatus() == 128+int(sig)) {
			t.Errorf("%v: helper ended with %v, want death by the signal", sig, err)
		}
		if alive(pid) {
			t.Errorf("%v: server %d still running", sig, pid)
		}
		if exists(dataDir) {
			t.Errorf("%v: %s left behind", sig, dataDir)
		}
	}
}

func TestDatabaseURLServer(t *testing.T) {
	t.Parallel()
	// The shared server of this binary plays the part of a server given in
	// DATABASE_URL to another binary.
	admin := pgtest.New(t)
	cmd, out := helper(t, "new", "DATABASE_URL="+admin)
	url := field(t, out, "url")
	name := field(t, out, "dropped")
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, strings.TrimSuffix(strings.SplitN(strings.TrimPrefix(admin, "postgres://"), "/", 2)[0], "/")) {
		t.Errorf("database %s is not on the DATABASE_URL server %s", url, admin)
	}
	conn := connect(t, admin)
	if n := scalar[int](t, conn, "SELECT count(*) FROM pg_database WHERE datname = $1", name); n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

// TestHelper does the work of a child process started by the tests above; it is
// skipped otherwise.
func TestHelper(t *testing.T) {
	switch os.Getenv("PGTEST_HELPER") {
	case "":
		t.Skip("runs in a child process")
	case "wait":
		fmt.Printf("url %s\n", pgtest.New(t))
		<-make(chan struct{}) // until killed or signalled
	case "new":
		var url string
		t.Run("sub", func(t *testing.T) {
			url = pgtest.New(t)
			fmt.Printf("url %s\n", url)
		})
		name := strings.SplitN(url[strings.LastIndexByte(url, '/')+1:], "?", 2)[0]
		fmt.Printf("dropped %s\n", name)
	}
}
