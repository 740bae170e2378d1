// Package localpg runs a PostgreSQL cluster from the server binaries installed on this
// machine, for development and tests when no DATABASE_URL is given.
//
// Start creates the cluster with initdb when its data directory holds none, and starts
// it on 127.0.0.1 at a free port, or at the port it used last time (kept in a file in
// the data directory, so URLs stay stable between runs). PostgreSQL refuses to run as
// root: when this process is root, the data directory is given to an unprivileged
// account (default "postgres") and initdb, pg_ctl and postgres run as that account.
// The server listens on 127.0.0.1 only, trusts local connections (user "postgres",
// no password), and writes its log to server.log in the data directory.
//
// Two ways to run the server:
//
//   - Detached (the default): pg_ctl starts the server, which outlives this process
//     until Stop is called. A server left running by a process that was killed is
//     stopped and started again by the next Start on the same data directory.
//   - Attached (Config.Attached): the server is a child of this process, in its own
//     process group, and the kernel sends it SIGQUIT (immediate shutdown) when the
//     thread that started it dies, even if this process is killed with SIGKILL. Test
//     harnesses use this so that a cluster never outlives its test binary.
package localpg

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Config describes a local cluster. Only DataDir is required.
type Config struct {
	// DataDir is the cluster's data directory (PGDATA). It is created, and initialised
	// with initdb when it holds no PG_VERSION file. It is kept after Stop. Required.
	DataDir string
	// Port is the TCP port on 127.0.0.1. Default 0: the port stored in DataDir by the
	// previous run if it is free, otherwise a free port chosen by the kernel.
	Port int
	// User is the operating-system account that owns DataDir and runs the server when
	// this process runs as root. Ignored otherwise. Default "postgres".
	User string
	// Fast trades durability for speed, for throwaway test clusters: initdb --no-sync,
	// and the server runs with fsync=off and full_page_writes=off. An acknowledged
	// commit still survives Restart (a server crash); it may not survive an operating
	// system crash. Default false.
	Fast bool
	// Attached runs the server as a child of this process instead of through pg_ctl;
	// it is shut down (SIGQUIT) by the kernel if this process dies. Default false.
	Attached bool
	// Template is a data directory prepared earlier with Init and never started. When
	// DataDir holds no cluster, Template is copied into it instead of running initdb,
	// which is several times faster. It must come from the same PostgreSQL major
	// version. Default "": run initdb.
	Template string
	// BinDir is the directory holding initdb, pg_ctl and postgres. Default: the first
	// of PATH, /usr/lib/postgresql/<newest>/bin, /usr/pgsql-<newest>/bin and the
	// Homebrew prefixes that has all three.
	BinDir string
	// StartTimeout bounds how long Start and Restart wait for the server to accept
	// connections. Default 60s.
	StartTimeout time.Duration
	// Logf receives progress messages. Default: discarded.
	Logf func(format string, args ...any)
}

// Cluster is a running local PostgreSQL cluster. Its methods are safe for concurrent
// use.
type Cluster struct {
	cfg  Config
	bins binaries
	cred *syscall.Credential // nil unless this process is root

	mu      sync.Mutex
	port    int
	running bool
	child   *child // attached mode only
}

// ErrNoBinaries reports that the PostgreSQL server binaries were not found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: " +
	"install PostgreSQL server binaries (Debian: apt-get install postgresql) or set DATABASE_URL")

const (
	superuser = "postgres" // the cluster's superuser, created by initdb -U
	portFile  = "coverbridge.port"
	logFile   = "server.log"
)

// Start creates the cluster if needed and starts it. It returns once the server
// accepts connections.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c, err := newCluster(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.create(ctx); err != nil {
		return nil, err
	}
	if err := c.clearStalePID(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.startLocked(ctx, c.cfg.Port); err != nil {
		return nil, err
	}
	return c, nil
}

// Init creates the cluster in cfg.DataDir with initdb, unless it holds one already,
// without starting it. Such a directory can serve as Config.Template.
func Init(ctx context.Context, cfg Config) error {
	c, err := newCluster(cfg)
	if err != nil {
		return err
	}
	return c.initdb(ctx)
}

func newCluster(cfg Config) (*Cluster, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("localpg: Config.DataDir is required")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("localpg: data dir: %w", err)
	}
	cfg.DataDir = dir
	cfg.User = cmp.Or(cfg.User, "postgres")
	cfg.StartTimeout = cmp.Or(cfg.StartTimeout, 60*time.Second)
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	bins, err := findBinaries(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, bins: bins}
	if os.Geteuid() == 0 {
		if c.cred, err = credential(cfg.User); err != nil {
			return nil, err
		}
	}
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	return c, nil
}

// create fills an empty data directory from the template, or with initdb.
func (c *Cluster) create(ctx context.Context) error {
	if c.cfg.Template == "" {
		return c.initdb(ctx)
	}
	if _, err := os.Stat(filepath.Join(c.cfg.DataDir, "PG_VERSION")); err == nil {
		return nil
	}
	if err := c.checkEmpty(); err != nil {
		return err
	}
	began := time.Now()
	if err := copyTree(c.cfg.Template, c.cfg.DataDir, c.cred); err != nil {
		return fmt.Errorf("localpg: copy template %s: %w", c.cfg.Template, err)
	}
	c.cfg.Logf("localpg: copied template %s to %s in %s", c.cfg.Template, c.cfg.DataDir, time.Since(began).Round(time.Millisecond))
	return nil
}

// DataDir returns the absolute path of the cluster's data directory.
func (c *Cluster) DataDir() string { return c.cfg.DataDir }

// Port returns the TCP port the server listens on.
func (c *Cluster) Port() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.port
}

// URL returns a connection URL for database db as the superuser, for example
// postgres://postgres@127.0.0.1:5432/db?sslmode=disable.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port())),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// LogFile returns the path of the server's log file.
func (c *Cluster) LogFile() string { return filepath.Join(c.cfg.DataDir, logFile) }

// CreateDatabase creates an empty database owned by the superuser.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("localpg: create database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Identifiers cannot be bound as parameters; Sanitize quotes the name.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("localpg: create database %s: %w", name, err)
	}
	return nil
}

// Stop shuts the server down in fast mode (open transactions are rolled back, a
// checkpoint is written) and waits until it has exited. The data directory is kept.
// Stopping a stopped cluster does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked("fast")
}

// Restart simulates a crash: it stops the server in immediate mode (no checkpoint,
// connections are cut) and starts it again on the same port, so that it replays its
// write-ahead log. Committed transactions survive.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stopLocked("immediate"); err != nil {
		return err
	}
	return c.startLocked(ctx, c.port)
}

// startLocked starts the server on port, or on the stored or a free port when port is
// 0, trying other free ports if a chosen one is taken before the server binds it.
func (c *Cluster) startLocked(ctx context.Context, port int) error {
	if c.running {
		return nil
	}
	for attempt := 1; ; attempt++ {
		p, picked, err := c.choosePort(port)
		if err != nil {
			return err
		}
		began := time.Now()
		err = c.launch(ctx, p)
		if err == nil {
			c.port = p
			c.running = true
			c.cfg.Logf("localpg: PostgreSQL ready on 127.0.0.1:%d (data %s) in %s", p, c.cfg.DataDir, time.Since(began).Round(time.Millisecond))
			if err := os.WriteFile(filepath.Join(c.cfg.DataDir, portFile), []byte(strconv.Itoa(p)+"\n"), 0o644); err != nil {
				c.cfg.Logf("localpg: remember port: %v", err)
			}
			return nil
		}
		if !picked || !errors.Is(err, errPortInUse) || attempt == 5 {
			return err
		}
		c.cfg.Logf("localpg: port %d was taken, trying another", p)
		port = 0
	}
}

var errPortInUse = errors.New("port in use")

// choosePort returns the port to use and whether it was chosen here rather than asked
// for.
func (c *Cluster) choosePort(port int) (int, bool, error) {
	if port != 0 {
		return port, false, nil
	}
	if b, err := os.ReadFile(filepath.Join(c.cfg.DataDir, portFile)); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && portFree(p) {
			return p, true, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, false, fmt.Errorf("localpg: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, true, nil
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// serverArgs are the postgres options for port. With shell set they are quoted for
// the shell pg_ctl runs the server through.
func (c *Cluster) serverArgs(port int, shell bool) []string {
	sock := c.socketDir()
	if sock == "" && shell {
		sock = "''"
	}
	args := []string{
		"-p", strconv.Itoa(port),
		"-k", sock,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=200",
	}
	if c.cfg.Fast {
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off")
	}
	return args
}

// socketDir is where the server puts its Unix socket: the data directory, or none ("")
// when that path is too long for a socket address or would need shell quoting.
func (c *Cluster) socketDir() string {
	d := c.cfg.DataDir
	if len(d)+len("/.s.PGSQL.65535") >= 100 || strings.ContainsFunc(d, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-", r))
	}) {
		return ""
	}
	return d
}

// launch starts the server on port and waits until it accepts connections.
func (c *Cluster) launch(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	defer cancel()
	logPath := filepath.Join(c.cfg.DataDir, logFile)
	logStart := fileSize(logPath)
	var err error
	if c.cfg.Attached {
		err = c.startAttached(ctx, port, logPath)
	} else {
		// pg_ctl hands -o to a shell; serverArgs holds no characters needing quotes.
		_, err = c.run(ctx, c.bins.pgctl, "start", "-w", "-t", strconv.Itoa(int(c.cfg.StartTimeout/time.Second)),
			"-D", c.cfg.DataDir, "-l", logPath, "-o", strings.Join(c.serverArgs(port, true), " "))
	}
	if err == nil {
		return nil
	}
	tail := logTail(logPath, logStart)
	if strings.Contains(tail, "Address already in use") || strings.Contains(tail, "could not bind") {
		return fmt.Errorf("localpg: start on port %d: %w: %w", port, errPortInUse, err)
	}
	return fmt.Errorf("localpg: start on port %d: %w\n%s", port, err, tail)
}

func (c *Cluster) stopLocked(mode string) error {
	if !c.running {
		return nil
	}
	var err error
	switch {
	case c.child != nil:
		err = c.child.stop(mode)
		c.child = nil
	case c.serverPID() == 0:
		// The server is gone already: killed, or taken over by another Start.
	default:
		_, err = c.run(context.Background(), c.bins.pgctl, "stop", "-D", c.cfg.DataDir, "-m", mode, "-w", "-t", "60")
	}
	if err != nil {
		return fmt.Errorf("localpg: stop (%s): %w", mode, err)
	}
	c.running = false
	return nil
}

// prepareDir creates the data directory, owned by the server's account, and checks
// that the account can reach it.
func (c *Cluster) prepareDir() error {
	dir := c.cfg.DataDir
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("localpg: data dir: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("localpg: data dir: %w", err)
	}
	if c.cred == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("localpg: give data dir to %s: %w", c.cfg.User, err)
		}
	}
	return reachable(filepath.Dir(dir), c.cred, c.cfg.User)
}

// ErrUnreachable means the server's account cannot reach the data directory
// because an ancestor folder is closed to it (a home folder of mode 0700, say).
var ErrUnreachable = errors.New("localpg: data dir unreachable")

// reachable reports an error naming the first ancestor of dir that the account cannot
// traverse.
func reachable(dir string, cred *syscall.Credential, name string) error {
	for d := dir; ; d = filepath.Dir(d) {
		var st syscall.Stat_t
		if err := syscall.Stat(d, &st); err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
		var bit uint32 = 0o001
		switch {
		case st.Uid == cred.Uid:
			bit = 0o100
		case st.Gid == cred.Gid || containsGID(cred.Groups, st.Gid):
			bit = 0o010
		}
		if st.Mode&bit == 0 {
			return fmt.Errorf("%w: user %s cannot enter %s (mode %#o): choose a data dir the user can reach, or run chmod o+x %s",
				ErrUnreachable, name, d, st.Mode&0o777, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func containsGID(gs []uint32, g uint32) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

func (c *Cluster) initdb(ctx context.Context) error {
	dir := c.cfg.DataDir
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return nil
	}
	if err := c.checkEmpty(); err != nil {
		return err
	}
	args := []string{"-D", dir, "-U", superuser, "--auth=trust", "-E", "UTF8", "--locale=C"}
	if c.cfg.Fast {
		args = append(args, "--no-sync")
	}
	began := time.Now()
	if _, err := c.run(ctx, c.bins.initdb, args...); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	c.cfg.Logf("localpg: initdb %s in %s", dir, time.Since(began).Round(time.Millisecond))
	return nil
}

func (c *Cluster) checkEmpty() error {
	entries, err := os.ReadDir(c.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("localpg: %s is not empty but holds no PostgreSQL cluster (no PG_VERSION); remove it or choose another data dir", c.cfg.DataDir)
	}
	return nil
}

// clearStalePID deals with a postmaster.pid left by an earlier run. If the server it
// names is still running on this data directory, it is stopped; if not, the file is
// removed (PostgreSQL itself refuses to start when the recorded process id has been
// reused by an unrelated process).
func (c *Cluster) clearStalePID(ctx context.Context) error {
	pidPath := filepath.Join(c.cfg.DataDir, "postmaster.pid")
	b, err := os.ReadFile(pidPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if pid > 0 && serverRunning(pid, c.cfg.DataDir) {
		// A server left running by an earlier process, for example one killed
		// before it could call Stop. Take over: stop it and start afresh.
		c.cfg.Logf("localpg: a server (pid %d) is still running on %s; stopping it", pid, c.cfg.DataDir)
		if _, err := c.run(ctx, c.bins.pgctl, "stop", "-D", c.cfg.DataDir, "-m", "fast", "-w", "-t", "60"); err != nil {
			return fmt.Errorf("localpg: stop the server left running on %s: %w", c.cfg.DataDir, err)
		}
		return nil
	}
	c.cfg.Logf("localpg: removing stale postmaster.pid (pid %d is not a server on this data dir)", pid)
	if err := os.Remove(pidPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("localpg: remove stale postmaster.pid: %w", err)
	}
	// The socket lock files name the same dead server.
	locks, _ := filepath.Glob(filepath.Join(c.cfg.DataDir, ".s.PGSQL.*.lock"))
	for _, l := range locks {
		if err := os.Remove(l); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("localpg: remove stale socket lock: %w", err)
		}
	}
	return nil
}

// serverPID returns the process id of the server running on the data directory, or 0.
func (c *Cluster) serverPID() int {
	b, err := os.ReadFile(filepath.Join(c.cfg.DataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if pid <= 0 || !serverRunning(pid, c.cfg.DataDir) {
		return 0
	}
	return pid
}

// serverRunning reports whether pid is a live process working in dataDir (the
// postmaster changes into its data directory).
func serverRunning(pid int, dataDir string) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// The state follows the parenthesised command name; Z is a zombie.
		if i := bytes.LastIndexByte(st, ')'); i >= 0 && i+2 < len(st) && st[i+2] == 'Z' {
			return false
		}
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		// No /proc (not Linux): trust the process id.
		_, statErr := os.Stat("/proc/self")
		return statErr != nil
	}
	if d, err := filepath.EvalSymlinks(dataDir); err == nil {
		dataDir = d
	}
	return cwd == dataDir
}

// run runs a PostgreSQL program as the server's account and returns its combined
// output.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	// The account may not be able to enter this process's working directory.
	cmd.Dir = filepath.Dir(c.cfg.DataDir)
	cmd.Env = c.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl start sends the server's output to the log file; should a server still
	// hold the pipe, WaitDelay stops Wait from waiting for it.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", filepath.Base(prog), args[0], err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}

// env is the environment for PostgreSQL programs: this process's, without the libpq
// variables that would redirect them, and with a HOME the account can read.
func (c *Cluster) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+filepath.Dir(c.cfg.DataDir), "LC_ALL=C")
}

// child is a server started in attached mode.
type child struct {
	pid  int
	done chan struct{} // closed when the process has exited
	err  error         // exit status, set before done is closed
}

func (c *Cluster) startAttached(ctx context.Context, port int, logPath string) error {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(c.bins.postgres, append([]string{"-D", c.cfg.DataDir}, c.serverArgs(port, false)...)...)
	cmd.Dir = c.cfg.DataDir
	cmd.Env = c.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: c.cred,
		// Ctrl-C in a terminal goes to this process, which decides how to stop the
		// server, not straight to the server.
		Setpgid: true,
		// Linux sends the signal when the thread that forked the server dies; the
		// thread is locked below and lives as long as the server.
		Pdeathsig: syscall.SIGQUIT,
	}
	ch := &child{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		ch.pid = cmd.Process.Pid
		started <- nil
		ch.err = cmd.Wait()
		close(ch.done)
	}()
	if err := <-started; err != nil {
		return err
	}
	if err := c.waitReady(ctx, port, ch.done); err != nil {
		_ = ch.stop("immediate")
		return err
	}
	c.child = ch
	return nil
}

// waitReady polls until the server accepts a connection on port, exits, or ctx ends.
func (c *Cluster) waitReady(ctx context.Context, port int, exited <-chan struct{}) error {
	url := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", superuser, port)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-exited:
			return errors.New("server exited during start-up")
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w (last error: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// stop signals the server (SIGINT for fast, SIGQUIT for immediate shutdown) and waits
// for it to exit, escalating to SIGKILL after a minute.
func (ch *child) stop(mode string) error {
	sig := syscall.SIGINT
	if mode == "immediate" {
		sig = syscall.SIGQUIT
	}
	select {
	case <-ch.done:
		return nil
	default:
	}
	if err := syscall.Kill(ch.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	select {
	case <-ch.done:
		return nil
	case <-time.After(time.Minute):
	}
	_ = syscall.Kill(ch.pid, syscall.SIGKILL)
	<-ch.done
	return fmt.Errorf("server did not stop within a minute and was killed")
}

func credential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("localpg: PostgreSQL refuses to run as root and user %q does not exist: "+
			"create it (Debian: apt-get install postgresql creates it; or useradd --system %s): %w", name, name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(n))
			}
		}
	}
	return cred, nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// logTail returns the server log written since offset from, at most the last 4 KiB.
func logTail(path string, from int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < from {
		return ""
	}
	b = b[from:]
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(bytes.TrimSpace(b))
}
