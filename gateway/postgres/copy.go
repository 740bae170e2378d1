package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyRows writes a COPY … FROM STDIN (FORMAT binary) stream by hand. The
// engine's two bulk inserts are most of its database writes, and encoding
// them field by field through []any cost more CPU than computing the
// deductions. Each method appends one field in the column's binary form; the
// column types of the COPY statement must match them exactly (PostgreSQL
// refuses the batch otherwise).
type copyRows struct{ buf []byte }

var copyPool = sync.Pool{New: func() any { return &copyRows{} }}

// pgEpochMicros is 2000-01-01T00:00:00Z, the zero of PostgreSQL timestamps,
// in microseconds since the Unix epoch.
const pgEpochMicros = 946684800 * 1_000_000

// newCopyRows returns an empty stream with its header written.
func newCopyRows() *copyRows {
	c := copyPool.Get().(*copyRows)
	c.buf = append(c.buf[:0], "PGCOPY\n\xff\r\n\x00"...)
	c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // flags
	c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // header extension length
	return c
}

func (c *copyRows) row(fields int) { c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(fields)) }

// text is a text, varchar or char(n) field.
func (c *copyRows) text(s string) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(s)))
	c.buf = append(c.buf, s...)
}

// bytea is a bytea field.
func (c *copyRows) bytea(b []byte) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(b)))
	c.buf = append(c.buf, b...)
}

// json is a json field: the JSON text as it is.
func (c *copyRows) json(b []byte) { c.bytea(b) }

// int4 is an integer field.
func (c *copyRows) int4(v int32) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 4)
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(v))
}

// int8 is a bigint field.
func (c *copyRows) int8(v int64) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 8)
	c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(v))
}

// bool is a boolean field.
func (c *copyRows) bool(v bool) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 1)
	if v {
		c.buf = append(c.buf, 1)
	} else {
		c.buf = append(c.buf, 0)
	}
}

// timestamptz is a timestamptz field, to the microsecond (truncated).
func (c *copyRows) timestamptz(t time.Time) {
	c.int8(t.Unix()*1_000_000 + int64(t.Nanosecond())/1000 - pgEpochMicros)
}

// send runs the COPY statement sql in tx with the rows written, and returns
// the stream to the pool once PostgreSQL has taken it. After an error it is
// left to the collector: pgconn may return from a COPY ended by the server
// (a connection terminated mid-stream) while its writer goroutine still
// reads the stream.
func (c *copyRows) send(ctx context.Context, tx pgx.Tx, sql string, rows int) error {
	c.buf = binary.BigEndian.AppendUint16(c.buf, 0xffff) // trailer: -1
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(c.buf), sql)
	if err != nil {
		return err
	}
	if cap(c.buf) <= 16<<20 {
		copyPool.Put(c)
	}
	if tag.RowsAffected() != int64(rows) {
		return fmt.Errorf("copied %d rows of %d", tag.RowsAffected(), rows)
	}
	return nil
}
