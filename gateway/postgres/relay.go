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

// RecordedAfter returns the events of topic/partition recorded after offset
// after, in offset order, each with its ledger entries, reading at most
// limit entries (more for an event that has more); full reports that it
// read that many, so more may follow. A partition's
// batches commit in offset order, so nothing can later appear before the
// last event returned. The ledger is read alone, by its source index: every
// recorded event has an entry under each scheme of its platform, and the
// entries' time is the time their event was recorded. One topic feeds the
// ledger (the engine's), so topic only names it.
func (db *DB) RecordedAfter(ctx context.Context, topic string, partition int, after int64, limit int) (evs []RelayEvent, full bool, err error) {
	// The last event read may have more entries beyond the limit: it is
	// left for the next call, or read whole when it is the only one.
	evs, read, err := db.relayEntries(ctx, relayEntriesSQL, partition, after, limit)
	if err != nil || read < limit {
		return evs, false, err
	}
	if len(evs) > 1 {
		return evs[:len(evs)-1], true, nil
	}
	evs, _, err = db.relayEntries(ctx, relayEventSQL, partition, evs[0].Offset)
	return evs, true, err
}

// relayEntries reads a partition's entries with sql (parameters: the
// partition, then args), grouped by event; read counts the entries.
func (db *DB) relayEntries(ctx context.Context, sql string, partition int, args ...any) (evs []RelayEvent, read int, err error) {
	rows, err := db.Pool.Query(ctx, sql, append([]any{partition}, args...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("read ledger entries of partition %d: %w", partition, err)
	}
	defer rows.Close()
	for rows.Next() {
		var at time.Time
		en, err := scanEntryAnd(rows, &at)
		if err != nil {
			return nil, 0, fmt.Errorf("read ledger entries of partition %d: %w", partition, err)
		}
		read++
		if n := len(evs); n == 0 || evs[n-1].Offset != en.Offset {
			evs = append(evs, RelayEvent{PlatformID: en.PlatformID, EventID: en.EventID, Offset: en.Offset, RecordedAt: at})
		}
		evs[len(evs)-1].Entries = append(evs[len(evs)-1].Entries, en)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read ledger entries of partition %d: %w", partition, err)
	}
	return evs, read, nil
}

// relayEntriesSQL reads a partition's entries after an offset, in order.
const relayEntriesSQL = `
	SELECT ` + entryColumns + `, l.created_at FROM ledger_entries l
	WHERE l.source_partition = $1 AND l.source_offset > $2
	ORDER BY l.source_offset, l.scheme_id LIMIT $3`

// relayEventSQL reads the entries of one message of a partition.
const relayEventSQL = `
	SELECT ` + entryColumns + `, l.created_at FROM ledger_entries l
	WHERE l.source_partition = $1 AND l.source_offset = $2
	ORDER BY l.scheme_id`

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
	rows, err := db.Pool.Query(ctx, rejectionsSQL, platformID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list rejections: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[StoredRejection])
}

const rejectionsSQL = `
	SELECT id, event_id, code, message, field, rejected_at FROM rejected_events
	WHERE platform_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`

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
