package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/gateway"
)

// NoticeDraft is what a notice letter to a platform lists: its gaps still
// being worked, by kind, scheme, period and subject.
type NoticeDraft struct {
	ID           int64 // the notice's number
	PlatformID   string
	PlatformName string
	Country      string
	At           time.Time
	Gaps         []Gap
}

// GapNotice is a stored notice.
type GapNotice struct {
	ID         int64
	PlatformID string
	Digest     [32]byte
	GapIDs     []int64
	PDF        []byte
	CreatedBy  string
	CreatedAt  time.Time
}

// CreateGapNotice renders and stores a notice to a platform listing its
// gaps still being worked, and moves those open or acknowledged to
// notice_sent, with a history entry on each. The letter's digest covers
// the platform and each gap's kind, period, subject, amounts and payment
// references: when the same letter was stored before, it is returned
// (created false) and nothing changes, so asking twice does not send
// twice. render makes the PDF; it runs only for a new notice. Errors:
// ENOTFOUND for an unknown platform, EINVALID naming platform_id when it
// has nothing to notify.
func (db *DB) CreateGapNotice(ctx context.Context, platformID, by string, at time.Time,
	render func(NoticeDraft) ([]byte, error)) (n GapNotice, created bool, err error) {
	at = at.UTC()
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, gapLock); err != nil {
			return fmt.Errorf("lock gaps: %w", err)
		}
		d := NoticeDraft{PlatformID: platformID, At: at}
		err := tx.QueryRow(ctx, `SELECT name, country FROM platforms WHERE id = $1`, platformID).Scan(&d.PlatformName, &d.Country)
		if errors.Is(err, pgx.ErrNoRows) {
			return gateway.Errorf(gateway.ENOTFOUND, "no platform %q", platformID)
		}
		if err != nil {
			return fmt.Errorf("read platform: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+gapColumns+` FROM gaps
			WHERE platform_id = $1 AND status IN ('open', 'acknowledged', 'notice_sent')
			ORDER BY scheme_id, period, kind, subject`, platformID)
		if err != nil {
			return fmt.Errorf("read gaps: %w", err)
		}
		if d.Gaps, err = pgx.CollectRows(rows, scanGap); err != nil {
			return fmt.Errorf("read gaps: %w", err)
		}
		if len(d.Gaps) == 0 {
			return gateway.Invalid("platform_id", "nothing_to_notify", "platform "+strconv.Quote(platformID)+" has no open gaps")
		}
		n = GapNotice{PlatformID: platformID, Digest: noticeDigest(&d), CreatedBy: by, CreatedAt: at}
		for _, g := range d.Gaps {
			n.GapIDs = append(n.GapIDs, g.ID)
		}
		var gapIDs []int64
		err = tx.QueryRow(ctx, `SELECT id, gap_ids, pdf, created_by, created_at FROM gap_notices WHERE platform_id = $1 AND digest = $2`,
			platformID, n.Digest[:]).Scan(&n.ID, &gapIDs, &n.PDF, &n.CreatedBy, &n.CreatedAt)
		if err == nil {
			n.GapIDs, n.CreatedAt = gapIDs, n.CreatedAt.UTC()
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read notices: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('gap_notices', 'id'))`).Scan(&d.ID); err != nil {
			return fmt.Errorf("number the notice: %w", err)
		}
		n.ID = d.ID
		if n.PDF, err = render(d); err != nil {
			return fmt.Errorf("render notice %d: %w", d.ID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO gap_notices (id, platform_id, digest, gap_ids, pdf, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, n.ID, platformID, n.Digest[:], n.GapIDs, n.PDF, by, at); err != nil {
			return fmt.Errorf("store notice: %w", err)
		}
		note := "notice " + strconv.FormatInt(n.ID, 10) + " sent to the platform"
		if _, err := tx.Exec(ctx, `
			INSERT INTO gap_history (gap_id, at, actor, action, from_status, to_status, note)
			SELECT id, $2, $3, 'notice', CASE WHEN status = 'notice_sent' THEN '' ELSE status END,
			       CASE WHEN status = 'notice_sent' THEN '' ELSE 'notice_sent' END, $4
			FROM gaps WHERE id = ANY($1) ORDER BY id`, n.GapIDs, at, by, note); err != nil {
			return fmt.Errorf("record notice: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE gaps SET status = 'notice_sent', updated_at = $2
			WHERE id = ANY($1) AND status IN ('open', 'acknowledged')`, n.GapIDs, at); err != nil {
			return fmt.Errorf("record notice: %w", err)
		}
		created = true
		return nil
	})
	return n, created, err
}

// noticeDigest is the SHA-256 of a letter's content: the platform and, per
// gap, its id, key, amounts and statements, not the date or number.
func noticeDigest(d *NoticeDraft) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", d.PlatformID)
	for _, g := range d.Gaps {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%d\x00%d\x00%q\n", g.ID, g.Key, g.Currency, g.Amount, g.Interest, g.Evidence.Statements)
	}
	return [32]byte(h.Sum(nil))
}

// GapNoticeByID returns a stored notice with its PDF; ENOTFOUND when
// there is none.
func (db *DB) GapNoticeByID(ctx context.Context, id int64) (GapNotice, error) {
	n := GapNotice{ID: id}
	var digest []byte
	err := db.Pool.QueryRow(ctx, `SELECT platform_id, digest, gap_ids, pdf, created_by, created_at FROM gap_notices WHERE id = $1`, id).
		Scan(&n.PlatformID, &digest, &n.GapIDs, &n.PDF, &n.CreatedBy, &n.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, gateway.Errorf(gateway.ENOTFOUND, "no notice %d", id)
	}
	if err != nil {
		return n, fmt.Errorf("read notice %d: %w", id, err)
	}
	n.Digest, n.CreatedAt = [32]byte(digest), n.CreatedAt.UTC()
	return n, nil
}
