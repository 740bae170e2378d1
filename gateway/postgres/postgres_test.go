package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open returns a migrated database of its own.
func open(t *testing.T) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if last := ms[len(ms)-1].Version; err != nil || v != last {
		t.Fatalf("schema version = %d, %v; want %d", v, err, last)
	}
	applied, err := db.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, %v; want nothing", applied, err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations rows = %d, %v; want %d", n, err, len(ms))
	}
}

func event(id, value string) postgres.IncomingEvent {
	e := gateway.Earning{
		EventID: id, PlatformID: "demo", WorkerRef: "drv-77", Kind: gateway.KindEarning, Orders: 1,
		OccurredAt: time.Date(2026, 10, 3, 0, 15, 0, 0, time.UTC), Gross: gateway.MustParseMoney("MYR", value),
	}
	payload := []byte(`{"event_id":"` + id + `","value":"` + value + `"}`)
	return postgres.IncomingEvent{Earning: e, Payload: payload, Hash: sha256.Sum256(payload)}
}

func claim(t *testing.T, db *postgres.DB, partition int) postgres.Partition {
	t.Helper()
	p := postgres.Partition{Group: "g", Topic: "earnings", Partition: partition, Generation: 1}
	epoch, _, err := db.ClaimPartition(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	p.Epoch = epoch
	return p
}

func count(t *testing.T, db *postgres.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// write applies one batch of events to partition p.
func write(db *postgres.DB, p postgres.Partition, next int64, w postgres.BatchWrites) error {
	return db.InBatch(context.Background(), p, next, func(tx *postgres.BatchTx) error {
		_, err := tx.Write(context.Background(), w)
		return err
	})
}

// TestInBatchFenced checks that a process that lost its partition to a newer
// owner cannot write, and that the newer owner resumes where the old one
// committed.
func TestInBatchFenced(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	old := claim(t, db, 1)
	if err := write(db, old, 1, postgres.BatchWrites{Events: []postgres.IncomingEvent{event("a", "1.00")}}); err != nil {
		t.Fatal(err)
	}
	newer := claim(t, db, 1)
	if newer.Epoch <= old.Epoch {
		t.Fatalf("epoch did not grow: %d then %d", old.Epoch, newer.Epoch)
	}
	err := write(db, old, 2, postgres.BatchWrites{Events: []postgres.IncomingEvent{event("b", "2.00")}})
	if !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("stale owner: err = %v, want ErrFenced", err)
	}
	if n := count(t, db, "earning_events"); n != 1 {
		t.Errorf("earning_events = %d rows, want 1: the fenced batch was applied", n)
	}
	_, next, err := db.ClaimPartition(ctx, postgres.Partition{Group: "g", Topic: "earnings", Partition: 1})
	if err != nil || next != 1 {
		t.Errorf("next = %d, %v; want 1", next, err)
	}
}

// TestRecordedSeesWrites checks that a batch sees the events and entries that
// earlier batches recorded.
func TestRecordedSeesWrites(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	p := claim(t, db, 0)
	e1 := event("e1", "10.00")
	entry := postgres.LedgerEntry{PlatformID: "demo", EventID: "e1", WorkerID: "w", SchemeID: "my-gig", PlanID: "s83",
		PlanVersion: 1, Period: "2026-10", BookedPeriod: "2026-10", Kind: postgres.EntryDeduction, Currency: "MYR",
		Worker: 13, Gross: 1000, Base: 1000}
	if err := write(db, p, 1, postgres.BatchWrites{Events: []postgres.IncomingEvent{e1}, Entries: []postgres.LedgerEntry{entry}}); err != nil {
		t.Fatal(err)
	}
	err := db.InBatch(ctx, p, 2, func(tx *postgres.BatchTx) error {
		keys := []postgres.EventKey{{PlatformID: "demo", EventID: "e1"}, {PlatformID: "demo", EventID: "e2"}}
		got, err := tx.Recorded(ctx, keys)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[keys[0]] != e1.Hash {
			t.Errorf("Recorded = %v, want e1 only", got)
		}
		entries, err := tx.Entries(ctx, keys[:1])
		if err != nil {
			return err
		}
		if len(entries) != 1 || entries[0].Worker != 13 || entries[0].SchemeID != "my-gig" {
			t.Errorf("Entries = %+v", entries)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	balances, err := db.PeriodBalances(ctx, "demo")
	if err != nil || len(balances) != 1 || balances[0].Worker != 13 || balances[0].Entries != 1 {
		t.Errorf("balances = %+v, %v", balances, err)
	}
}

func TestLedgerIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	p := claim(t, db, 0)
	entry := postgres.LedgerEntry{PlatformID: "demo", EventID: "e1", WorkerID: "w", SchemeID: "s", PlanID: "p",
		PlanVersion: 1, Period: "2026-10", BookedPeriod: "2026-10", Kind: postgres.EntryDeduction, Currency: "MYR", Worker: 5}
	if err := write(db, p, 1, postgres.BatchWrites{Entries: []postgres.LedgerEntry{entry}}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`UPDATE ledger_entries SET worker_minor = 0`, `DELETE FROM ledger_entries`, `TRUNCATE ledger_entries`} {
		if _, err := db.Pool.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", stmt, err)
		}
	}
	if n := count(t, db, "ledger_entries"); n != 1 {
		t.Errorf("ledger rows = %d, want 1", n)
	}
}

func TestRejectionsStoredOncePerMessage(t *testing.T) {
	db := open(t)
	p := claim(t, db, 2)
	w := postgres.BatchWrites{Rejections: []postgres.Rejection{
		{PlatformID: "demo", EventID: "x", Code: "invalid", Message: "gross is required", Field: "gross", Payload: []byte(`{}`), Offset: 7},
	}}
	for range 2 {
		if err := write(db, p, 8, w); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, "rejected_events"); n != 1 {
		t.Errorf("rejected_events rows = %d, want 1", n)
	}
	r, err := db.Earning(context.Background(), "demo", "x")
	if err != nil || r.Status != "rejected" || r.Rejection.Field != "gross" {
		t.Errorf("Earning(x) = %+v, %v; want rejected on gross", r, err)
	}
}

func TestPlatformsAndPeriods(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	p := postgres.Platform{ID: "acme", Name: "Acme", Country: "MY", Currency: "MYR", ActiveFrom: time.Now(),
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}, {SchemeID: "my-sess", PlanID: "2"}}}
	if err := db.CreatePlatform(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePlatform(ctx, p); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("second create: %v, want conflict", err)
	}
	bad := p
	bad.ID = "Bad Id"
	if err := db.CreatePlatform(ctx, bad); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("bad id: %v, want invalid", err)
	}
	list, err := db.Platforms(ctx)
	if err != nil || len(list) != 1 || len(list[0].Schemes) != 2 || list[0].Schemes[1].PlanID != "2" {
		t.Fatalf("Platforms = %+v, %v", list, err)
	}
	for range 2 {
		if err := db.ClosePeriod(ctx, "my-gig", "2026-10"); err != nil {
			t.Fatal(err)
		}
	}
	pt := claim(t, db, 0)
	err = db.InBatch(ctx, pt, 1, func(tx *postgres.BatchTx) error {
		closed, err := tx.Closed(ctx, []postgres.SchemePeriod{{SchemeID: "my-gig", Period: "2026-10"}, {SchemeID: "my-gig", Period: "2026-11"}})
		if err != nil {
			return err
		}
		if !closed[postgres.SchemePeriod{SchemeID: "my-gig", Period: "2026-10"}] || len(closed) != 1 {
			t.Errorf("Closed = %v, want only 2026-10", closed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
