package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrFenced means a partition was claimed by a newer owner since the caller
// claimed it: the caller's batch was not applied.
var ErrFenced = errors.New("partition claimed by a newer owner")

// Partition names one partition of a consumer group's topic, as owned by one
// process. Epoch is the fencing token returned by ClaimPartition.
type Partition struct {
	Group      string
	Topic      string
	Partition  int
	Generation int32
	Epoch      int64
}

// ClaimPartition makes the caller the partition's owner: it bumps the stored
// epoch, so any write from an earlier owner fails, and returns the new epoch
// and the next offset to read (-1 when nothing has been consumed yet).
func (db *DB) ClaimPartition(ctx context.Context, p Partition) (epoch, next int64, err error) {
	err = db.Pool.QueryRow(ctx, `
		INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, generation, epoch)
		VALUES ($1, $2, $3, -1, $4, 1)
		ON CONFLICT ON CONSTRAINT consumer_offsets_pkey DO UPDATE
		SET epoch = consumer_offsets.epoch + 1, generation = EXCLUDED.generation, updated_at = now()
		RETURNING epoch, next_offset`,
		p.Group, p.Topic, p.Partition, p.Generation).Scan(&epoch, &next)
	if err != nil {
		return 0, 0, fmt.Errorf("claim %s/%d: %w", p.Topic, p.Partition, err)
	}
	return epoch, next, nil
}

// advanceOffset records next as the partition's next offset inside tx, if the
// caller still owns the partition, and returns the transaction's id as it
// marks the rows it writes (the xmin of their new versions).
func advanceOffset(ctx context.Context, tx pgx.Tx, p Partition, next int64) (uint32, error) {
	var xid int64
	err := tx.QueryRow(ctx, `
		UPDATE consumer_offsets SET next_offset = $5, updated_at = now()
		WHERE group_id = $1 AND topic = $2 AND partition = $3 AND epoch = $4
		RETURNING pg_current_xact_id()::xid::text::bigint`,
		p.Group, p.Topic, p.Partition, p.Epoch, next).Scan(&xid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrFenced
	}
	if err != nil {
		return 0, fmt.Errorf("advance offset %s/%d: %w", p.Topic, p.Partition, err)
	}
	return uint32(xid), nil
}

// Offsets returns the stored next offset of every partition of a group's
// topic.
func (db *DB) Offsets(ctx context.Context, group, topic string) (map[int]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2`, group, topic)
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	var p int
	var o int64
	_, err = pgx.ForEachRow(rows, []any{&p, &o}, func() error { out[p] = o; return nil })
	return out, err
}

// ResetOffsets forgets the stored offsets of a group's topic, so the next
// owner of each partition reads it from the start. Records already applied
// stay applied: replaying them changes nothing.
func (db *DB) ResetOffsets(ctx context.Context, group, topic string) error {
	_, err := db.Pool.Exec(ctx, `UPDATE consumer_offsets SET next_offset = -1, epoch = epoch + 1, updated_at = now()
		WHERE group_id = $1 AND topic = $2`, group, topic)
	return err
}
