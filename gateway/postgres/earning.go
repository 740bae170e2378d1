package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/coverbridge/coverbridge/gateway"
)

// RecordedEarning is an event as the engine left it: recorded with its
// ledger entries, or rejected with the reason.
type RecordedEarning struct {
	Status     string          // "recorded" or "rejected"
	Payload    json.RawMessage // the canonical event, when recorded
	RecordedAt time.Time
	Entries    []LedgerEntry // the event's deductions, one per scheme
	Rejection  *Rejection    // why it was rejected, when it was
}

// Earning returns what became of a platform's event, or a not_found error
// while the engine has not seen it.
func (db *DB) Earning(ctx context.Context, platformID, eventID string) (RecordedEarning, error) {
	r := RecordedEarning{Status: "recorded"}
	err := db.Pool.QueryRow(ctx, `
		SELECT payload, recorded_at FROM earning_events WHERE platform_id = $1 AND event_id = $2`,
		platformID, eventID).Scan(&r.Payload, &r.RecordedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return db.rejectedEarning(ctx, platformID, eventID)
	case err != nil:
		return r, fmt.Errorf("read event: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+entryColumns+` FROM ledger_entries l
		WHERE l.platform_id = $1 AND l.event_id = $2 ORDER BY l.scheme_id`, platformID, eventID)
	if err != nil {
		return r, fmt.Errorf("read deductions: %w", err)
	}
	r.Entries, err = pgx.CollectRows(rows, scanEntry)
	return r, err
}

const rejectionSQL = `
	SELECT code, message, field, source_offset, rejected_at FROM rejected_events
	WHERE platform_id = $1 AND event_id = $2 ORDER BY id DESC LIMIT 1`

// rejectedEarning returns the latest rejection of an event.
func (db *DB) rejectedEarning(ctx context.Context, platformID, eventID string) (RecordedEarning, error) {
	rj := Rejection{PlatformID: platformID, EventID: eventID}
	r := RecordedEarning{Status: "rejected", Rejection: &rj}
	err := db.Pool.QueryRow(ctx, rejectionSQL, platformID, eventID).Scan(&rj.Code, &rj.Message, &rj.Field, &rj.Offset, &r.RecordedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, gateway.Errorf(gateway.ENOTFOUND, "event %q has not been recorded (yet) for this platform", eventID)
	}
	if err != nil {
		return r, fmt.Errorf("read rejection: %w", err)
	}
	return r, nil
}

// CountEarnings returns how many events of a platform are recorded.
func (db *DB) CountEarnings(ctx context.Context, platformID string) (int64, error) {
	var n int64
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM earning_events WHERE platform_id = $1`, platformID).Scan(&n)
	return n, err
}

// EarningFilter selects a page of a platform's events for ListEarnings.
type EarningFilter struct {
	// From and To bound the time the engine recorded or rejected the event,
	// From included, To excluded; a zero time leaves that side open.
	From, To time.Time
	Status   string // "recorded", "rejected", or "" for both
	After    EarningCursor
	Limit    int // at most this many, at least 1
}

// EarningCursor is a place in the order ListEarnings returns: by the
// engine's time, recorded events before rejected messages of the same
// time, recorded events by id, rejected messages by the order they were
// stored. The zero cursor is before everything.
type EarningCursor struct {
	At       time.Time
	Rejected bool
	EventID  string // of a recorded event
	ID       int64  // of a rejected message
}

// ListedEarning is one event of a page, with its place in the order.
type ListedEarning struct {
	EventID string
	RecordedEarning
	Cursor EarningCursor
}

// ListEarnings returns a page of a platform's recorded events and rejected
// messages after f.After, in order. A message rejected and later sent
// again and recorded appears twice, once for each outcome.
func (db *DB) ListEarnings(ctx context.Context, platformID string, f EarningFilter) ([]ListedEarning, error) {
	var out []ListedEarning
	if f.Status != "rejected" {
		rec, err := db.listRecorded(ctx, platformID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, rec...)
	}
	if f.Status != "recorded" {
		rej, err := db.listRejected(ctx, platformID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, rej...)
	}
	slices.SortFunc(out, func(a, b ListedEarning) int { return a.Cursor.compare(b.Cursor) })
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	if err := db.addEntries(ctx, platformID, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c EarningCursor) compare(d EarningCursor) int {
	if n := c.At.Compare(d.At); n != 0 {
		return n
	}
	switch {
	case c.Rejected != d.Rejected && c.Rejected:
		return 1
	case c.Rejected != d.Rejected:
		return -1
	case c.Rejected:
		return cmp.Compare(c.ID, d.ID)
	}
	return strings.Compare(c.EventID, d.EventID)
}

// bounds returns the engine-time bounds of f and the time of its cursor
// as query parameters: infinite where f leaves a side open.
func (f EarningFilter) bounds() (from, to, after pgtype.Timestamptz) {
	at := func(t time.Time, open pgtype.InfinityModifier) pgtype.Timestamptz {
		if t.IsZero() {
			return pgtype.Timestamptz{InfinityModifier: open, Valid: true}
		}
		return pgtype.Timestamptz{Time: t, Valid: true}
	}
	return at(f.From, pgtype.NegativeInfinity), at(f.To, pgtype.Infinity), at(f.After.At, pgtype.NegativeInfinity)
}

const listRecordedSQL = `
	SELECT event_id, payload, recorded_at FROM earning_events
	WHERE platform_id = $1 AND recorded_at >= $2 AND recorded_at < $3 AND recorded_at >= $4
	  AND (recorded_at > $4 OR (NOT $5 AND event_id COLLATE "C" > $6))
	ORDER BY recorded_at, event_id COLLATE "C" LIMIT $7`

func (db *DB) listRecorded(ctx context.Context, platformID string, f EarningFilter) ([]ListedEarning, error) {
	from, to, after := f.bounds()
	// Recorded events of the cursor's time come before its rejected
	// messages: after one of those, none of that time is left.
	rows, err := db.Pool.Query(ctx, listRecordedSQL, platformID, from, to, after, f.After.Rejected, f.After.EventID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list recorded events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ListedEarning, error) {
		e := ListedEarning{RecordedEarning: RecordedEarning{Status: "recorded"}}
		err := row.Scan(&e.EventID, &e.Payload, &e.RecordedAt)
		e.Cursor = EarningCursor{At: e.RecordedAt, EventID: e.EventID}
		return e, err
	})
}

const listRejectedSQL = `
	SELECT id, event_id, code, message, field, source_offset, rejected_at FROM rejected_events
	WHERE platform_id = $1 AND rejected_at >= $2 AND rejected_at < $3 AND rejected_at >= $4
	  AND (rejected_at > $4 OR NOT $5 OR id > $6)
	ORDER BY rejected_at, id LIMIT $7`

func (db *DB) listRejected(ctx context.Context, platformID string, f EarningFilter) ([]ListedEarning, error) {
	from, to, after := f.bounds()
	// After a recorded event, every rejected message of its time is ahead.
	rows, err := db.Pool.Query(ctx, listRejectedSQL, platformID, from, to, after, f.After.Rejected, f.After.ID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list rejected messages: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ListedEarning, error) {
		rj := &Rejection{PlatformID: platformID}
		e := ListedEarning{RecordedEarning: RecordedEarning{Status: "rejected", Rejection: rj}}
		err := row.Scan(&e.Cursor.ID, &rj.EventID, &rj.Code, &rj.Message, &rj.Field, &rj.Offset, &e.RecordedAt)
		e.EventID, e.Cursor.At, e.Cursor.Rejected = rj.EventID, e.RecordedAt, true
		return e, err
	})
}

// addEntries reads the ledger entries of the recorded events of a page.
func (db *DB) addEntries(ctx context.Context, platformID string, page []ListedEarning) error {
	var ids []string
	at := map[string]int{}
	for i, e := range page {
		if e.Status == "recorded" {
			ids = append(ids, e.EventID)
			at[e.EventID] = i
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+entryColumns+`
		FROM unnest($2::text[]) AS k(event_id),
		LATERAL (SELECT * FROM ledger_entries l WHERE l.platform_id = $1 AND l.event_id = k.event_id `+probe+`) l
		ORDER BY l.event_id, l.scheme_id`, platformID, ids)
	if err != nil {
		return fmt.Errorf("read deductions: %w", err)
	}
	entries, err := pgx.CollectRows(rows, scanEntry)
	if err != nil {
		return fmt.Errorf("read deductions: %w", err)
	}
	for _, en := range entries {
		e := &page[at[en.EventID]]
		e.Entries = append(e.Entries, en)
	}
	return nil
}
