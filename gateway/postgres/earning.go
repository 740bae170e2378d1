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

// IncomingEvent is one decoded earnings event from a partition.
type IncomingEvent struct {
	Earning gateway.Earning
	Payload []byte   // canonical JSON
	Hash    [32]byte // of Payload
	Offset  int64
}

// Rejection is one message that could not be applied, with the reason.
type Rejection struct {
	PlatformID string
	EventID    string
	Code       string
	Message    string
	Field      string
	Payload    []byte
	Offset     int64
}

// EarningBatch is what one consumed batch of one partition writes.
type EarningBatch struct {
	Partition  Partition
	Events     []IncomingEvent
	Rejections []Rejection
	Next       int64 // the offset after the batch's last message
}

// BatchResult counts what a batch did.
type BatchResult struct {
	Recorded   int // new events
	Duplicates int // same id, same payload as an event already recorded
	Conflicts  int // same id, other payload: rejected
	Rejected   int // rejections stored, conflicts included
}

// RecordEarnings applies one batch in one transaction: new events are
// recorded, redelivered ones dropped, conflicting ones and undecodable
// messages stored as rejections, and the partition's offset advanced. It
// returns ErrFenced, having changed nothing, when the partition has a newer
// owner.
func (db *DB) RecordEarnings(ctx context.Context, b EarningBatch) (BatchResult, error) {
	var res BatchResult
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		res = BatchResult{}
		// Advancing the offset first takes the partition's row lock, so two
		// owners of one partition never interleave.
		if err := advanceOffset(ctx, tx, b.Partition, b.Next); err != nil {
			return err
		}
		known, err := recordedHashes(ctx, tx, b.Events)
		if err != nil {
			return err
		}
		rejections := b.Rejections
		var fresh []IncomingEvent
		for _, ev := range b.Events {
			k := eventKey{ev.Earning.PlatformID, ev.Earning.EventID}
			h, seen := known[k]
			switch {
			case !seen:
				known[k] = ev.Hash
				fresh = append(fresh, ev)
			case h == ev.Hash:
				res.Duplicates++
			default:
				res.Conflicts++
				rejections = append(rejections, Rejection{
					PlatformID: k.platform, EventID: k.event, Code: gateway.ECONFLICT,
					Message: "an event with this id and a different content was already recorded",
					Field:   "event_id", Payload: ev.Payload, Offset: ev.Offset,
				})
			}
		}
		if err := insertEvents(ctx, tx, b.Partition.Topic, b.Partition.Partition, fresh); err != nil {
			return err
		}
		n, err := insertRejections(ctx, tx, b.Partition.Topic, b.Partition.Partition, rejections)
		if err != nil {
			return err
		}
		res.Recorded, res.Rejected = len(fresh), n
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrFenced) {
			return BatchResult{}, ErrFenced
		}
		return BatchResult{}, fmt.Errorf("record batch %s/%d@%d: %w", b.Partition.Topic, b.Partition.Partition, b.Next, err)
	}
	return res, nil
}

type eventKey struct{ platform, event string }

// recordedHashes returns the payload hash of every event of evs already
// recorded.
func recordedHashes(ctx context.Context, tx pgx.Tx, evs []IncomingEvent) (map[eventKey][32]byte, error) {
	platforms := make([]string, len(evs))
	ids := make([]string, len(evs))
	for i, ev := range evs {
		platforms[i], ids[i] = ev.Earning.PlatformID, ev.Earning.EventID
	}
	rows, err := tx.Query(ctx, `
		SELECT e.platform_id, e.event_id, e.payload_hash
		FROM earning_events e
		JOIN unnest($1::text[], $2::text[]) AS k(platform_id, event_id) USING (platform_id, event_id)`,
		platforms, ids)
	if err != nil {
		return nil, fmt.Errorf("look up recorded events: %w", err)
	}
	known := make(map[eventKey][32]byte, len(evs))
	var k eventKey
	var h []byte
	_, err = pgx.ForEachRow(rows, []any{&k.platform, &k.event, &h}, func() error {
		known[k] = [32]byte(h)
		return nil
	})
	return known, err
}

func insertEvents(ctx context.Context, tx pgx.Tx, topic string, partition int, evs []IncomingEvent) error {
	if len(evs) == 0 {
		return nil
	}
	rows := make([][]any, len(evs))
	for i, ev := range evs {
		e := ev.Earning
		rows[i] = []any{e.PlatformID, e.EventID, e.WorkerRef, e.WorkerKey, string(e.Kind), e.OccurredAt,
			string(e.Gross.Currency), e.Gross.Amount, json.RawMessage(ev.Payload), ev.Hash[:], topic, partition, ev.Offset}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"earning_events"},
		[]string{"platform_id", "event_id", "worker_ref", "worker_key", "kind", "occurred_at",
			"currency", "gross_minor", "payload", "payload_hash", "source_topic", "source_partition", "source_offset"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("insert %d events: %w", len(evs), err)
	}
	return nil
}

func insertRejections(ctx context.Context, tx pgx.Tx, topic string, partition int, rs []Rejection) (int, error) {
	n := 0
	for _, r := range rs {
		tag, err := tx.Exec(ctx, `
			INSERT INTO rejected_events (platform_id, event_id, code, message, field, payload, source_topic, source_partition, source_offset)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT ON CONSTRAINT rejected_events_source_key DO NOTHING`,
			r.PlatformID, r.EventID, r.Code, r.Message, r.Field, r.Payload, topic, partition, r.Offset)
		if err != nil {
			return n, fmt.Errorf("store rejection at offset %d: %w", r.Offset, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

// RecordedEarning is an event as stored, with its processing state.
type RecordedEarning struct {
	Payload    json.RawMessage // the canonical event
	Status     string          // "recorded"
	RecordedAt time.Time
}

// Earning returns the recorded event of a platform, or a not_found error.
func (db *DB) Earning(ctx context.Context, platformID, eventID string) (RecordedEarning, error) {
	r := RecordedEarning{Status: "recorded"}
	err := db.Pool.QueryRow(ctx, `
		SELECT payload, recorded_at FROM earning_events WHERE platform_id = $1 AND event_id = $2`,
		platformID, eventID).Scan(&r.Payload, &r.RecordedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, gateway.Errorf(gateway.ENOTFOUND, "no recorded event %q for this platform", eventID)
	}
	if err != nil {
		return r, fmt.Errorf("read event: %w", err)
	}
	return r, nil
}

// CountEarnings returns how many events of a platform are recorded.
func (db *DB) CountEarnings(ctx context.Context, platformID string) (int64, error) {
	var n int64
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM earning_events WHERE platform_id = $1`, platformID).Scan(&n)
	return n, err
}
