package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Relay streams: what the relay publishes from the ledger.
const (
	StreamDeductions = "deductions" // recorded events and their entries
	StreamRejections = "rejections" // rejected messages, for the dead-letter topic
)

// RelayEvent is one recorded event with its ledger entries, in the order the
// engine recorded it.
type RelayEvent struct {
	PlatformID string
	EventID    string
	Offset     int64
	RecordedAt time.Time
	Entries    []LedgerEntry
}

// RelayPosition returns the last offset of topic/partition published on
// stream, or -1.
func (db *DB) RelayPosition(ctx context.Context, stream string, partition int) (int64, error) {
	var pos int64 = -1
	err := db.Pool.QueryRow(ctx, `SELECT position FROM relay_positions WHERE stream = $1 AND partition = $2`,
		stream, partition).Scan(&pos)
	if err == pgx.ErrNoRows {
		return -1, nil
	}
	return pos, err
}

// AdvanceRelay stores the last published offset of a stream's partition.
func (db *DB) AdvanceRelay(ctx context.Context, stream string, partition int, position int64) error {
	_, err := db.Pool.Exec(ctx, `
		INSERT INTO relay_positions (stream, partition, position) VALUES ($1, $2, $3)
		ON CONFLICT ON CONSTRAINT relay_positions_pkey DO UPDATE SET position = greatest(relay_positions.position, EXCLUDED.position)`,
		stream, partition, position)
	return err
}

// RelayPartitions returns the partitions of topic the engine has claimed.
func (db *DB) RelayPartitions(ctx context.Context, topic string) ([]int, error) {
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT partition FROM consumer_offsets WHERE topic = $1 ORDER BY partition`, topic)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// RecordedAfter returns up to limit events of topic/partition recorded after
// offset after, in offset order, each with its ledger entries. A partition's
// batches commit in offset order, so nothing can later appear before the
// last event returned.
func (db *DB) RecordedAfter(ctx context.Context, topic string, partition int, after int64, limit int) ([]RelayEvent, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT platform_id, event_id, source_offset, recorded_at FROM earning_events
		WHERE source_topic = $1 AND source_partition = $2 AND source_offset > $3
		ORDER BY source_offset LIMIT $4`, topic, partition, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read recorded events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RelayEvent, error) {
		var e RelayEvent
		err := row.Scan(&e.PlatformID, &e.EventID, &e.Offset, &e.RecordedAt)
		return e, err
	})
	if err != nil || len(evs) == 0 {
		return evs, err
	}
	// Entries are read by event key, which the ledger indexes; the
	// source offset only confirms that an entry came from this message.
	keys := make([]EventKey, len(evs))
	for i, e := range evs {
		keys[i] = EventKey{PlatformID: e.PlatformID, EventID: e.EventID}
	}
	platforms, ids := splitKeys(keys)
	rows, err = db.Pool.Query(ctx, relayEntriesSQL, platforms, ids, partition)
	if err != nil {
		return nil, fmt.Errorf("read ledger entries: %w", err)
	}
	entries, err := pgx.CollectRows(rows, scanEntry)
	if err != nil {
		return nil, err
	}
	byOffset := make(map[int64]int, len(evs))
	for i, e := range evs {
		byOffset[e.Offset] = i
	}
	for _, en := range entries {
		if i, ok := byOffset[en.Offset]; ok && evs[i].PlatformID == en.PlatformID && evs[i].EventID == en.EventID {
			evs[i].Entries = append(evs[i].Entries, en)
		}
	}
	return evs, nil
}

// relayEntriesSQL reads the entries of events recorded from one partition.
const relayEntriesSQL = `
	SELECT ` + entryColumns + `
	FROM unnest($1::text[], $2::text[]) AS k(platform_id, event_id),
	LATERAL (SELECT * FROM ledger_entries l
	         WHERE l.platform_id = k.platform_id AND l.event_id = k.event_id AND l.source_partition = $3 ` + probe + `) l
	ORDER BY l.source_offset, l.scheme_id`

// RejectedAfter returns up to limit rejections of topic/partition stored
// after offset after, in offset order.
func (db *DB) RejectedAfter(ctx context.Context, topic string, partition int, after int64, limit int) ([]Rejection, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT platform_id, event_id, code, message, field, payload, source_offset FROM rejected_events
		WHERE source_topic = $1 AND source_partition = $2 AND source_offset > $3
		ORDER BY source_offset LIMIT $4`, topic, partition, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read rejections: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Rejection])
}

// Rejections returns a platform's rejected messages, newest first, after
// the cursor id (0: from the newest), at most limit.
func (db *DB) Rejections(ctx context.Context, platformID string, before int64, limit int) ([]StoredRejection, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT id, event_id, code, message, field, rejected_at FROM rejected_events
		WHERE platform_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, platformID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list rejections: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[StoredRejection])
}

// StoredRejection is a rejection as platforms list it.
type StoredRejection struct {
	ID         int64
	EventID    string
	Code       string
	Message    string
	Field      string
	RejectedAt time.Time
}

// TryLeader takes a session-level advisory lock on its own connection, so
// that one process of many runs a singleton job (the relay, a scheduler). It
// returns a release function, or ok false when another process holds it.
func (db *DB) TryLeader(ctx context.Context, name string) (release func(), ok bool, err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	key := periodLock(SchemePeriod{SchemeID: "leader", Period: name})
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		conn.Release()
		return nil, false, err
	}
	return func() {
		conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, key) //nolint:errcheck
		conn.Release()
	}, true, nil
}
