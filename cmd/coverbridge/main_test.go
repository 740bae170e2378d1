package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// migrated returns the URL of a fresh, migrated database.
func migrated(t *testing.T) string {
	t.Helper()
	url := pgtest.New(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--database-url", url}, &out, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	return url
}

func TestMigrateCommand(t *testing.T) {
	url := migrated(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--database-url", url}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "applied 0 migrations") {
		t.Errorf("second migrate printed %q, want nothing applied", out.String())
	}
}

func TestPeriodsClose(t *testing.T) {
	ctx := context.Background()
	url := migrated(t)
	var out bytes.Buffer
	for range 2 {
		out.Reset()
		if err := run(ctx, []string{"periods", "close", "--scheme", "my-sess", "--period", "2026-10", "--database-url", url}, &out, &out); err != nil {
			t.Fatalf("periods close: %v\n%s", err, out.String())
		}
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM scheme_periods WHERE scheme_id = 'my-sess' AND period = '2026-10' AND status = 'closed'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("closed rows = %d, %v; want 1", n, err)
	}
	for _, args := range [][]string{
		{"periods", "close", "--scheme", "nope", "--period", "2026-10", "--database-url", url},
		{"periods", "close", "--scheme", "my-sess", "--period", "2026-13", "--database-url", url},
		{"periods", "close", "--scheme", "my-sess", "--database-url", url},
		{"periods", "open"},
	} {
		err := run(ctx, args, &out, &out)
		if _, ok := err.(usageError); !ok {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}
