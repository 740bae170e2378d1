package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
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
	if err != nil || v != len(ms) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(ms))
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
	epoch, next, err := db.ClaimPartition(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	p.Epoch = epoch
	if next != -1 && epoch == 1 {
		t.Fatalf("first claim: next = %d, want -1", next)
	}
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

// TestRecordEarningsExactlyOnce replays batches with redeliveries and a
// conflicting duplicate and checks one row per event id.
func TestRecordEarningsExactlyOnce(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	p := claim(t, db, 0)

	first := postgres.EarningBatch{Partition: p, Next: 3, Events: []postgres.IncomingEvent{
		event("e1", "10.00"), event("e2", "20.00"), event("e1", "10.00"),
	}}
	for i, e := range first.Events {
		first.Events[i].Offset = int64(i)
		_ = e
	}
	res, err := db.RecordEarnings(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recorded != 2 || res.Duplicates != 1 || res.Conflicts != 0 {
		t.Errorf("first batch = %+v, want 2 recorded, 1 duplicate", res)
	}

	// The same batch again (a redelivery after a crash before the Kafka
	// commit) records nothing new.
	res, err = db.RecordEarnings(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recorded != 0 || res.Duplicates != 3 {
		t.Errorf("replayed batch = %+v, want 0 recorded, 3 duplicates", res)
	}

	// Same id, other payload: a conflict, rejected, never applied.
	conflict := event("e2", "99.00")
	conflict.Offset = 3
	res, err = db.RecordEarnings(ctx, postgres.EarningBatch{Partition: p, Next: 4, Events: []postgres.IncomingEvent{conflict}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Conflicts != 1 || res.Rejected != 1 || res.Recorded != 0 {
		t.Errorf("conflict batch = %+v", res)
	}
	if n := count(t, db, "earning_events"); n != 2 {
		t.Errorf("earning_events rows = %d, want 2", n)
	}
	if n := count(t, db, "rejected_events"); n != 1 {
		t.Errorf("rejected_events rows = %d, want 1", n)
	}
	got, err := db.Earning(ctx, "demo", "e2")
	if err != nil || string(got.Payload) != `{"value": "20.00", "event_id": "e2"}` {
		t.Errorf("e2 = %s, %v; want the first payload", got.Payload, err)
	}
	offsets, err := db.Offsets(ctx, "g", "earnings")
	if err != nil || offsets[0] != 4 {
		t.Errorf("offsets = %v, %v; want partition 0 at 4", offsets, err)
	}
}

// TestRecordEarningsFenced checks that a process that lost its partition to
// a newer owner cannot write.
func TestRecordEarningsFenced(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	old := claim(t, db, 1)
	if _, err := db.RecordEarnings(ctx, postgres.EarningBatch{Partition: old, Next: 1, Events: []postgres.IncomingEvent{event("a", "1.00")}}); err != nil {
		t.Fatal(err)
	}
	newer := claim(t, db, 1)
	if newer.Epoch <= old.Epoch {
		t.Fatalf("epoch did not grow: %d then %d", old.Epoch, newer.Epoch)
	}
	_, err := db.RecordEarnings(ctx, postgres.EarningBatch{Partition: old, Next: 2, Events: []postgres.IncomingEvent{event("b", "2.00")}})
	if !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("stale owner: err = %v, want ErrFenced", err)
	}
	if _, err := db.Earning(ctx, "demo", "b"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("fenced batch was applied: %v", err)
	}
	// The newer owner resumes at the offset the old one committed.
	_, next, err := db.ClaimPartition(ctx, postgres.Partition{Group: "g", Topic: "earnings", Partition: 1})
	if err != nil || next != 1 {
		t.Errorf("next = %d, %v; want 1", next, err)
	}
}

func TestRejectionsStoredOncePerMessage(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	p := claim(t, db, 2)
	b := postgres.EarningBatch{Partition: p, Next: 8, Rejections: []postgres.Rejection{
		{PlatformID: "demo", EventID: "x", Code: "invalid", Message: "gross is required", Field: "gross", Payload: []byte(`{}`), Offset: 7},
	}}
	for range 2 {
		if _, err := db.RecordEarnings(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, "rejected_events"); n != 1 {
		t.Errorf("rejected_events rows = %d, want 1", n)
	}
}
