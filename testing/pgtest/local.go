package pgtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/coverbridge/coverbridge/deploy/localpg"
)

// Local clusters live in a temporary directory per test binary, on /dev/shm when it
// is roomy (a cluster on a memory file system starts several times faster), else in
// os.TempDir. They are copied from a template data directory made once with initdb
// and kept in the same place for later test binaries; a template that no longer
// starts (after a PostgreSQL upgrade, say) is rebuilt.

// rootDirPrefix starts the name of every binary's temporary directory; the process id
// follows, so that directories of dead binaries can be found and removed.
const rootDirPrefix = "coverbridge-pgtest-"

// baseDir is where temporary directories and the template go.
func baseDir() string {
	if os.Getenv("TMPDIR") == "" && roomy("/dev/shm", 1<<30) {
		return "/dev/shm"
	}
	return os.TempDir()
}

// roomy reports whether dir is a writable directory with at least n bytes free.
func roomy(dir string, n uint64) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return syscall.Access(dir, 0o2 /* W_OK */) == nil && st.Bavail*uint64(st.Bsize) >= n
}

func startLocal(ctx context.Context, root, dir string) (*localpg.Cluster, error) {
	cfg := localpg.Config{DataDir: dir, Fast: true, Attached: true, Logf: logf}
	tmpl, cached, err := template(ctx, root, true)
	if err != nil {
		return nil, err
	}
	cfg.Template = tmpl
	c, err := localpg.Start(ctx, cfg)
	if err == nil || !cached {
		return c, err
	}
	// Try again with a template of this binary's own, and drop the shared one if it
	// is of another PostgreSQL major version. Other binaries may be copying it, so it
	// is left alone when it might be fine.
	logf("pgtest: cluster from template %s failed (%v); making a new template", tmpl, err)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	own, _, err := template(ctx, root, false)
	if err != nil {
		return nil, err
	}
	if !sameVersion(tmpl, own) {
		logf("pgtest: removing template %s of another PostgreSQL version", tmpl)
		_ = os.RemoveAll(filepath.Dir(tmpl))
	}
	cfg.Template = own
	return localpg.Start(ctx, cfg)
}

func sameVersion(a, b string) bool {
	va, errA := os.ReadFile(filepath.Join(a, "PG_VERSION"))
	vb, errB := os.ReadFile(filepath.Join(b, "PG_VERSION"))
	return errA == nil && errB == nil && string(va) == string(vb)
}

var templateMu sync.Mutex

// template returns a data directory made by initdb and never started, and whether it
// is the one shared with other test binaries (rather than this binary's own). With
// share false it returns this binary's own.
func template(ctx context.Context, root string, share bool) (dir string, shared bool, err error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	// Per user: the template's files belong to the account that runs the server.
	cache := filepath.Join(filepath.Dir(root), "coverbridge-pgtemplate-uid"+strconv.Itoa(os.Geteuid()))
	if _, err := os.Stat(filepath.Join(cache, "data", "PG_VERSION")); err == nil && share {
		return filepath.Join(cache, "data"), true, nil
	}
	own := filepath.Join(root, "template")
	if _, err := os.Stat(filepath.Join(own, "data", "PG_VERSION")); err == nil {
		return filepath.Join(own, "data"), false, nil
	}
	if err := os.RemoveAll(own); err != nil {
		return "", false, err
	}
	if err := os.Mkdir(own, 0o755); err != nil {
		return "", false, err
	}
	if err := localpg.Init(ctx, localpg.Config{DataDir: filepath.Join(own, "data"), Fast: true, Logf: logf}); err != nil {
		return "", false, err
	}
	if !share {
		return filepath.Join(own, "data"), false, nil
	}
	// Share it; another binary may have been quicker, which is as good. The rename
	// is atomic: other binaries see a complete template or none.
	if err := os.Rename(own, cache); err == nil {
		return filepath.Join(cache, "data"), true, nil
	}
	return filepath.Join(own, "data"), false, nil
}

// rootDir returns this binary's temporary directory, creating it on first use.
func rootDir() (string, error) {
	state.Lock()
	defer state.Unlock()
	if state.closed {
		return "", errClosed
	}
	return rootDirLocked()
}

func rootDirLocked() (string, error) {
	if state.root != "" {
		return state.root, nil
	}
	base := baseDir()
	sweep(base)
	dir, err := os.MkdirTemp(base, rootDirPrefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return "", err
	}
	// The server's account must be able to enter it when the tests run as root.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	state.root = dir
	return dir, nil
}

// sweep removes the temporary directories of test binaries that died without
// cleaning up.
func sweep(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, rootDirPrefix+"*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), rootDirPrefix)
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || processAlive(pid) || serverInside(d) {
			continue
		}
		if err := os.RemoveAll(d); err == nil {
			logf("pgtest: removed %s, left by an earlier test run", d)
		}
	}
}

// serverInside reports whether a PostgreSQL server still runs on a data directory
// directly inside dir.
func serverInside(dir string) bool {
	pidFiles, _ := filepath.Glob(filepath.Join(dir, "*", "postmaster.pid"))
	for _, f := range pidFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0]); err == nil && processAlive(pid) {
			return true
		}
	}
	return false
}

// processAlive reports whether pid is a running process, not a zombie.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(st), ')')
	return i < 0 || i+2 >= len(st) || st[i+2] != 'Z'
}
