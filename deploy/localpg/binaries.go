package localpg

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// binaries are the paths of the PostgreSQL server programs.
type binaries struct {
	initdb, pgctl, postgres string
}

// findBinaries looks for initdb, pg_ctl and postgres together in binDir, or when it is
// empty on PATH and then in the places distributions install them off PATH.
func findBinaries(binDir string) (binaries, error) {
	if binDir != "" {
		if b, ok := binariesIn(binDir); ok {
			return b, nil
		}
		return binaries{}, ErrNoBinaries
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if b, ok := binariesIn(filepath.Dir(p)); ok {
			return b, nil
		}
	}
	for _, pattern := range []string{
		"/usr/lib/postgresql/*/bin",          // Debian, Ubuntu
		"/usr/pgsql-*/bin",                   // PGDG RPMs
		"/opt/homebrew/opt/postgresql@*/bin", // Homebrew, Apple silicon
		"/usr/local/opt/postgresql@*/bin",    // Homebrew, Intel
		"/opt/homebrew/opt/postgresql/bin",   //
		"/usr/local/opt/postgresql/bin",      //
		"/usr/local/pgsql/bin",               // built from source
	} {
		dirs, _ := filepath.Glob(pattern)
		slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) }) // newest first
		for _, d := range dirs {
			if b, ok := binariesIn(d); ok {
				return b, nil
			}
		}
	}
	return binaries{}, ErrNoBinaries
}

func binariesIn(dir string) (binaries, bool) {
	b := binaries{
		initdb:   filepath.Join(dir, "initdb"),
		pgctl:    filepath.Join(dir, "pg_ctl"),
		postgres: filepath.Join(dir, "postgres"),
	}
	for _, p := range []string{b.initdb, b.pgctl, b.postgres} {
		st, err := os.Stat(p)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return binaries{}, false
		}
	}
	return b, true
}

// versionOf extracts the major version from a path such as /usr/lib/postgresql/16/bin
// or /usr/pgsql-16/bin; 0 when there is none.
func versionOf(dir string) int {
	for _, part := range strings.Split(dir, "/") {
		if i := strings.LastIndexAny(part, "-@"); i >= 0 {
			part = part[i+1:]
		}
		if n, err := strconv.Atoi(part); err == nil {
			return n
		}
	}
	return 0
}
