package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/deploy/localpg"
)

func TestTemplateOfAnotherVersionIsReplaced(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	for _, d := range []string{base, filepath.Dir(base)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cache := filepath.Join(base, "coverbridge-pgtemplate-uid"+strconv.Itoa(os.Geteuid()))
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := localpg.Init(ctx, localpg.Config{DataDir: filepath.Join(cache, "data"), Fast: true}); err != nil {
		t.Fatal(err)
	}
	// As if made by an older PostgreSQL.
	if err := os.WriteFile(filepath.Join(cache, "data", "PG_VERSION"), []byte("9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, rootDirPrefix+"1-x")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := startLocal(ctx, root, filepath.Join(root, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("template of another version kept: %v", err)
	}
	if err := c.CreateDatabase(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
}

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	for _, test := range []string{"TestX", "TestX/sub case: é", string(make([]byte, 200))} {
		name := databaseName(test)
		if len(name) > 63 {
			t.Errorf("%q: name %q longer than 63 bytes", test, name)
		}
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				t.Errorf("%q: name %q has %q", test, name, r)
			}
		}
	}
	if first, second := databaseName("TestX"), databaseName("TestX"); first == second {
		t.Error("names repeat")
	}
}
