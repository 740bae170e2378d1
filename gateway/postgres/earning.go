package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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

// rejectedEarning returns the latest rejection of an event.
func (db *DB) rejectedEarning(ctx context.Context, platformID, eventID string) (RecordedEarning, error) {
	rj := Rejection{PlatformID: platformID, EventID: eventID}
	r := RecordedEarning{Status: "rejected", Rejection: &rj}
	err := db.Pool.QueryRow(ctx, `
		SELECT code, message, field, source_offset, rejected_at FROM rejected_events
		WHERE platform_id = $1 AND event_id = $2 ORDER BY id DESC LIMIT 1`,
		platformID, eventID).Scan(&rj.Code, &rj.Message, &rj.Field, &rj.Offset, &r.RecordedAt)
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
