package localpg_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/deploy/localpg"
)

// template is a data directory made once by TestMain, copied by tests that do not
// exercise initdb.
var template string

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("LOCALPG_PARENT_DATA_DIR") == "" && !testing.Short() {
		dir, err := os.MkdirTemp("", "localpg-template-*")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err == nil {
			template = filepath.Join(dir, "data")
			err = localpg.Init(context.Background(), localpg.Config{DataDir: template, Fast: true})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "localpg template:", err)
			os.Exit(1)
		}
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// dataDir returns a data directory path inside a fresh temporary directory that the
// server's account can traverse.
func dataDir(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	for d := base; d != os.TempDir() && d != filepath.Dir(d); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(base, "pg")
}

func start(t *testing.T, cfg localpg.Config) *localpg.Cluster {
	t.Helper()
	cfg.Fast = true
	cfg.Logf = t.Logf
	c, err := localpg.Start(context.Background(), cfg)
	if errors.Is(err, localpg.ErrNoBinaries) {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
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

func count(t *testing.T, url string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM note").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
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

// alive reports whether pid is a running process (not a zombie waiting to be reaped).
func alive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	i := strings.LastIndexByte(string(st), ')')
	return i < 0 || i+2 >= len(st) || st[i+2] != 'Z'
}

func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestStartStopKeepsDataAndPort(t *testing.T) {
	for _, attached := range []bool{false, true} {
		t.Run(fmt.Sprintf("attached=%v", attached), func(t *testing.T) {
			t.Parallel()
			dir := dataDir(t)
			began := time.Now()
			c := start(t, localpg.Config{DataDir: dir, Attached: attached})
			t.Logf("first start (initdb included): %s", time.Since(began))
			ctx := context.Background()
			if err := c.CreateDatabase(ctx, "app"); err != nil {
				t.Fatal(err)
			}
			url := c.URL("app")
			if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/app?sslmode=disable", c.Port()); url != want {
				t.Fatalf("URL = %s, want %s", url, want)
			}
			conn := connect(t, url)
			exec1(t, conn, "CREATE TABLE note (body text NOT NULL)")
			exec1(t, conn, "INSERT INTO note VALUES ('kept')")
			conn.Close(ctx)
			if err := c.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := c.Stop(); err != nil {
				t.Fatalf("second Stop: %v", err)
			}

			began = time.Now()
			c2 := start(t, localpg.Config{DataDir: dir, Attached: attached})
			t.Logf("second start: %s", time.Since(began))
			if c2.Port() != c.Port() {
				t.Errorf("port changed from %d to %d", c.Port(), c2.Port())
			}
			if n := count(t, c2.URL("app")); n != 1 {
				t.Fatalf("rows after restart = %d, want 1", n)
			}
		})
	}
}

func TestRestartKeepsCommittedData(t *testing.T) {
	for _, attached := range []bool{false, true} {
		t.Run(fmt.Sprintf("attached=%v", attached), func(t *testing.T) {
			t.Parallel()
			c := start(t, localpg.Config{DataDir: dataDir(t), Template: template, Attached: attached})
			conn := connect(t, c.URL("postgres"))
			exec1(t, conn, "CREATE TABLE note (body text NOT NULL)")
			for i := range 100 {
				exec1(t, conn, "INSERT INTO note VALUES ($1)", strconv.Itoa(i))
			}
			port := c.Port()
			began := time.Now()
			if err := c.Restart(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Logf("restart (immediate stop, recovery, start): %s", time.Since(began))
			if c.Port() != port {
				t.Fatalf("port changed from %d to %d", port, c.Port())
			}
			// The old connection was cut by the crash.
			if err := conn.Ping(context.Background()); err == nil {
				t.Error("connection survived the restart")
			}
			if n := count(t, c.URL("postgres")); n != 100 {
				t.Fatalf("rows after restart = %d, want 100", n)
			}
		})
	}
}

func TestStalePIDFile(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	c := start(t, localpg.Config{DataDir: dir, Template: template})
	conn := connect(t, c.URL("postgres"))
	exec1(t, conn, "CREATE TABLE note (body text NOT NULL)")
	exec1(t, conn, "INSERT INTO note VALUES ('before the kill')")
	conn.Close(context.Background())

	// Kill the server the hard way, as when the machine or container goes down.
	pid := postmasterPID(t, dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "postmaster exit", func() bool { return !alive(pid) })

	// The pid file now names a process id that a later boot may give to an unrelated
	// process; PostgreSQL refuses to start then. Simulate that with a live process.
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	pidPath := filepath.Join(dir, "postmaster.pid")
	b, err := os.ReadFile(pidPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 2)
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(sleeper.Process.Pid)+"\n"+lines[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	// Backends notice the postmaster's death on their own; wait until the last one
	// has released the shared memory before starting again.
	eventually(t, 10*time.Second, "backends exit", func() bool { return len(serverProcesses(t, dir)) == 0 })

	c2 := start(t, localpg.Config{DataDir: dir})
	if n := count(t, c2.URL("postgres")); n != 1 {
		t.Fatalf("rows after recovery = %d, want 1", n)
	}
}

// serverProcesses lists the postgres processes working in dir.
func serverProcesses(t *testing.T, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestServerLeftRunningIsTakenOver(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	c := start(t, localpg.Config{DataDir: dir, Template: template})
	old := postmasterPID(t, dir)
	// A second Start on the same data directory, as after the owning process was
	// killed without stopping its detached server.
	c2 := start(t, localpg.Config{DataDir: dir})
	if alive(old) {
		t.Errorf("old server %d still running", old)
	}
	if c2.Port() != c.Port() {
		t.Errorf("port changed from %d to %d", c.Port(), c2.Port())
	}
	connect(t, c2.URL("postgres"))
}

func TestMissingBinaries(t *testing.T) {
	t.Parallel()
	_, err := localpg.Start(context.Background(), localpg.Config{DataDir: dataDir(t), BinDir: t.TempDir()})
	if !errors.Is(err, localpg.ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	if !strings.Contains(err.Error(), "apt-get install postgresql") || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("error does not say what to install: %v", err)
	}
}

func TestNonEmptyDirWithoutCluster(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stray"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := localpg.Start(context.Background(), localpg.Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v, want a not-empty error", err)
	}
}

// TestAttachedServerDiesWithParent kills a process that started an attached server
// with SIGKILL and expects the server to go away with it.
func TestAttachedServerDiesWithParent(t *testing.T) {
	if dir := os.Getenv("LOCALPG_PARENT_DATA_DIR"); dir != "" {
		runParent(dir)
		return
	}
	t.Parallel()
	dir := dataDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestAttachedServerDiesWithParent$")
	cmd.Env = append(os.Environ(), "LOCALPG_PARENT_DATA_DIR="+dir, "LOCALPG_TEMPLATE="+template)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("parent did not report its server: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "server "))
	if err != nil || !alive(pid) {
		t.Fatalf("parent reported %q", line)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "server exit after its parent was killed", func() bool { return !alive(pid) })
	eventually(t, 15*time.Second, "backends exit", func() bool { return len(serverProcesses(t, dir)) == 0 })
}

func runParent(dir string) {
	c, err := localpg.Start(context.Background(), localpg.Config{DataDir: dir, Fast: true, Attached: true,
		Template: os.Getenv("LOCALPG_TEMPLATE")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b, _ := os.ReadFile(filepath.Join(c.DataDir(), "postmaster.pid"))
	fmt.Printf("server %s\n", strings.SplitN(string(b), "\n", 2)[0])
	select {} // until killed
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	tmpl := dataDir(t)
	began := time.Now()
	if err := localpg.Init(context.Background(), localpg.Config{DataDir: tmpl, Fast: true}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Init: %s", time.Since(began))
	if _, err := os.Stat(filepath.Join(tmpl, "postmaster.pid")); err == nil {
		t.Fatal("Init left a server running")
	}
	var clusters []*localpg.Cluster
	for range 2 {
		began := time.Now()
		c := start(t, localpg.Config{DataDir: dataDir(t), Template: tmpl, Attached: true})
		t.Logf("start from template: %s", time.Since(began))
		clusters = append(clusters, c)
	}
	conn := connect(t, clusters[0].URL("postgres"))
	exec1(t, conn, "CREATE TABLE note (body text NOT NULL)")
	conn2 := connect(t, clusters[1].URL("postgres"))
	if n := scalar(t, conn2, "SELECT count(*) FROM pg_tables WHERE tablename = 'note'"); n != 0 {
		t.Fatal("clusters copied from one template share data")
	}
	if st, err := os.Stat(clusters[1].DataDir()); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
}

func scalar(t *testing.T, conn *pgx.Conn, sql string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUnreachableDataDirAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the data directory to another account")
	}
	t.Parallel()
	private := t.TempDir() // mode 0700, owned by root
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := localpg.Start(context.Background(), localpg.Config{DataDir: filepath.Join(private, "pg")})
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+private) {
		t.Fatalf("err = %v, want one naming %s", err, private)
	}
}
