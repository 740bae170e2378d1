package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// TestFrozenBatchReleasesPartition freezes a batch between two statements,
// as a stopped or swapped-out process would, after it has taken its
// partition's offset row: PostgreSQL ends the idle session, so the next
// owner claims the partition instead of waiting for the frozen one, and the
// frozen batch is not applied.
func TestFrozenBatchReleasesPartition(t *testing.T) {
	ctx := context.Background()
	url := pgtest.New(t)
	frozen, err := postgres.Open(ctx, postgres.Config{URL: url, IdleInTransaction: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer frozen.Close()
	if _, err := frozen.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	p := claim(t, frozen, 0)
	locked := make(chan struct{})
	claimed := make(chan error, 1)
	go func() {
		<-locked
		_, _, err := other.ClaimPartition(ctx, postgres.Partition{Group: "g", Topic: "earnings", Partition: 0, Generation: 2})
		claimed <- err
	}()
	var whileFrozen bool
	err = frozen.InBatch(ctx, p, 1, func(tx *postgres.BatchTx) error {
		close(locked)
		select { // frozen until the next owner has the partition, or for 30s
		case err := <-claimed:
			if err != nil {
				t.Errorf("next owner's claim: %v", err)
			}
			whileFrozen = true
		case <-time.After(30 * time.Second):
		}
		_, err := tx.Write(ctx, postgres.BatchWrites{Events: []postgres.IncomingEvent{event("late", "1.00")}})
		return err
	})
	if !whileFrozen {
		t.Error("the next owner waited for the frozen batch")
	}
	if err == nil {
		t.Error("the frozen batch committed after its session was ended")
	}
	if n := count(t, other, "earning_events"); n != 0 {
		t.Errorf("earning_events = %d rows, want 0", n)
	}
}
