package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
)

// TestCloserClosesDuePeriods books events in October and November; with the
// clock at 15 November and three days' grace, October closes and November
// stays open; a second run changes nothing; a late October event then lands
// in November.
func TestCloserClosesDuePeriods(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.send(
		ev("grab", "oct", "d1", "2026-10-31T23:30:00+08:00", "100.00"),
		ev("grab", "nov", "d1", "2026-11-01T00:30:00+08:00", "100.00"),
	)
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{
		time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC), // October ended 31 Oct 16:00 UTC: still in grace
		now, now,
	} {
		c := engine.NewCloser(engine.CloserConfig{Store: f.db, Catalog: catalog, Grace: 72 * time.Hour, Now: func() time.Time { return at }})
		if err := c.CloseDue(ctx); err != nil {
			t.Fatal(err)
		}
		closed := f.scalar(`SELECT count(*) FROM scheme_periods WHERE status = 'closed'`)
		want := int64(1)
		if at.Before(now) {
			want = 0
		}
		if closed != want {
			t.Errorf("at %s: %d closed periods, want %d", at, closed, want)
		}
	}
	if n := f.scalar(`SELECT count(*) FROM scheme_periods WHERE scheme_id = 'my-gig' AND period = '2026-10' AND status = 'closed'`); n != 1 {
		t.Errorf("October closed rows = %d, want 1", n)
	}
	f.send(ev("grab", "late", "d1", "2026-10-20T10:00:00+08:00", "100.00"))
	if en := f.earning("grab", "late").Entries[0]; !en.Late || en.BookedPeriod != "2026-11" {
		t.Errorf("late October event = %+v, want booked late in 2026-11", en)
	}
}
