package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// TestRecordedAfter walks a partition's recorded events with every read
// size: each event comes once, in offset order, with all its entries, even
// when a read ends inside an event's entries or an event has more entries
// than a read takes; events of other partitions never come.
func TestRecordedAfter(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	p, other := claim(t, db, 3), claim(t, db, 4)
	schemes := []string{"kr-ei", "my-gig", "my-sess"}
	var want []string // event:entries, in offset order
	var evs, others []postgres.IncomingEvent
	var entries, otherEntries []postgres.LedgerEntry
	for i := range 9 {
		id := fmt.Sprintf("e%d", i)
		ev := event(id, "10.00")
		ev.Offset = int64(10 + 2*i) // offsets with gaps, as rejections leave
		evs = append(evs, ev)
		n := 1 + i%3 // one to three entries
		for _, s := range schemes[:n] {
			entries = append(entries, postgres.LedgerEntry{PlatformID: "demo", EventID: id, WorkerID: "ref:demo:drv-77", SchemeID: s,
				PlanID: "p", PlanVersion: 1, Period: "2026-10", BookedPeriod: "2026-10", Kind: postgres.EntryDeduction,
				Currency: "MYR", Worker: int64(i), Partition: 3, Offset: ev.Offset, Registered: true})
		}
		want = append(want, fmt.Sprintf("%s:%d", id, n))
		o := event("o"+id, "10.00")
		o.Offset = ev.Offset
		others = append(others, o)
		otherEntries = append(otherEntries, postgres.LedgerEntry{PlatformID: "demo", EventID: "o" + id, WorkerID: "ref:demo:drv-77",
			SchemeID: "my-gig", PlanID: "p", PlanVersion: 1, Period: "2026-10", BookedPeriod: "2026-10", Kind: postgres.EntryDeduction,
			Currency: "MYR", Partition: 4, Offset: o.Offset, Registered: true})
	}
	if err := write(db, p, 100, postgres.BatchWrites{Events: evs, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	if err := write(db, other, 100, postgres.BatchWrites{Events: others, Entries: otherEntries}); err != nil {
		t.Fatal(err)
	}
	for limit := 1; limit <= 20; limit++ {
		var got []string
		after := int64(-1)
		for range 30 {
			batch, full, err := db.RecordedAfter(ctx, "earnings", 3, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range batch {
				got = append(got, fmt.Sprintf("%s:%d", e.EventID, len(e.Entries)))
				if e.RecordedAt.IsZero() || e.PlatformID != "demo" {
					t.Errorf("event %s read as %+v", e.EventID, e)
				}
				for _, en := range e.Entries {
					if en.EventID != e.EventID || en.Offset != e.Offset {
						t.Errorf("event %s@%d holds entry %s@%d", e.EventID, e.Offset, en.EventID, en.Offset)
					}
				}
				after = e.Offset
			}
			if !full {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("read %d entries at a time: %v, want %v", limit, got, want)
		}
	}
}
