package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
)

// Delivery channels a platform may name when it acknowledges a notice.
var NoticeChannels = []string{"app", "sms", "email", "post", "in_person", "other"}

// WorkerNotice is a notice a period close asks a platform to deliver to a
// worker (Malaysia's month-end shortfall and excess), with the platform's
// acknowledgement of its delivery once given.
type WorkerNotice struct {
	ID           int64
	PlatformID   string
	SchemeID     string
	PlanID       string
	WorkerKey    string // the worker key, or "" for a worker the platform had not registered
	WorkerRef    string // the platform's own reference of the worker
	Period       string
	BookedPeriod string // the period whose close issued it
	Kind         string // shortfall or excess
	Amount       gateway.Money
	Expected     gateway.Money
	Withheld     gateway.Money
	CreatedAt    time.Time
	Delivery     *NoticeDelivery // nil until acknowledged
}

// NoticeDelivery is a platform's acknowledgement that it delivered a
// notice to the worker.
type NoticeDelivery struct {
	Channel     string
	DeliveredAt time.Time
	RecordedBy  string // the key that acknowledged it
	RecordedAt  time.Time
}

// NoticeFilter selects notices; empty fields select all.
type NoticeFilter struct {
	PlatformID string
	SchemeID   string
	Period     string
	Kind       string
	Delivered  *bool // nil: both
	After      int64 // notices with a larger id
	Limit      int   // default 100
}

const noticeSelect = `
	SELECT n.id, n.platform_id, n.scheme_id, n.plan_id, n.worker_id, coalesce(r.worker_ref, ''), n.period, n.booked_period, n.kind,
	       n.currency, n.amount_minor, n.expected_minor, n.withheld_minor, n.created_at,
	       d.channel, d.delivered_at, d.recorded_by, d.recorded_at
	FROM settlement_notices n
	LEFT JOIN notice_deliveries d ON d.notice_id = n.id
	LEFT JOIN LATERAL (SELECT worker_ref FROM registrations
	                   WHERE worker_key = n.worker_id AND platform_id = n.platform_id AND change = 'start'
	                   ORDER BY effective DESC, id DESC LIMIT 1) r ON true`

// WorkerNotices lists notices by id.
func (db *DB) WorkerNotices(ctx context.Context, f NoticeFilter) ([]WorkerNotice, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	delivered := ""
	if f.Delivered != nil {
		delivered = strconv.FormatBool(*f.Delivered)
	}
	rows, err := db.Pool.Query(ctx, noticeSelect+`
		WHERE ($1 = '' OR n.platform_id = $1) AND ($2 = '' OR n.scheme_id = $2) AND ($3 = '' OR n.period = $3)
		  AND ($4 = '' OR n.kind = $4) AND ($5 = '' OR (d.notice_id IS NOT NULL) = ($5 = 'true')) AND n.id > $6
		ORDER BY n.id LIMIT $7`, f.PlatformID, f.SchemeID, f.Period, f.Kind, delivered, f.After, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("read notices: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanNotice)
	if err != nil {
		return nil, fmt.Errorf("read notices: %w", err)
	}
	return out, nil
}

// WorkerNoticeByID returns one notice; ENOTFOUND when there is none, or
// when platformID is not "" and the notice is another platform's.
func (db *DB) WorkerNoticeByID(ctx context.Context, platformID string, id int64) (WorkerNotice, error) {
	return workerNotice(ctx, db.Pool, platformID, id)
}

func workerNotice(ctx context.Context, q querier, platformID string, id int64) (WorkerNotice, error) {
	rows, err := q.Query(ctx, noticeSelect+` WHERE n.id = $1 AND ($2 = '' OR n.platform_id = $2)`, id, platformID)
	if err != nil {
		return WorkerNotice{}, fmt.Errorf("read notice: %w", err)
	}
	n, err := pgx.CollectExactlyOneRow(rows, scanNotice)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, gateway.Errorf(gateway.ENOTFOUND, "no notice %d", id)
	}
	if err != nil {
		return n, fmt.Errorf("read notice: %w", err)
	}
	return n, nil
}

func scanNotice(row pgx.CollectableRow) (WorkerNotice, error) {
	var n WorkerNotice
	var worker, cur string
	var channel, by *string
	var deliveredAt, recordedAt *time.Time
	err := row.Scan(&n.ID, &n.PlatformID, &n.SchemeID, &n.PlanID, &worker, &n.WorkerRef, &n.Period, &n.BookedPeriod, &n.Kind,
		&cur, &n.Amount.Amount, &n.Expected.Amount, &n.Withheld.Amount, &n.CreatedAt, &channel, &deliveredAt, &by, &recordedAt)
	if err != nil {
		return n, err
	}
	c := gateway.Currency(strings.TrimSpace(cur))
	n.Amount.Currency, n.Expected.Currency, n.Withheld.Currency = c, c, c
	n.CreatedAt = n.CreatedAt.UTC()
	// An unregistered worker's entries are kept under the platform's own
	// reference ("ref:<platform>:<reference>").
	if ref, ok := strings.CutPrefix(worker, "ref:"+n.PlatformID+":"); ok {
		n.WorkerRef = ref
	} else {
		n.WorkerKey = worker
	}
	if channel != nil {
		n.Delivery = &NoticeDelivery{Channel: *channel, DeliveredAt: deliveredAt.UTC(), RecordedBy: *by, RecordedAt: recordedAt.UTC()}
	}
	return n, nil
}

// DeliverNotice records a platform's acknowledgement that it delivered a
// notice; created is false when the same acknowledgement was recorded
// before, which is answered as first recorded. Errors: ENOTFOUND for a
// notice that is not the platform's; EINVALID for an unknown channel or a
// delivery before the notice was issued; ECONFLICT when the notice was
// acknowledged otherwise already.
func (db *DB) DeliverNotice(ctx context.Context, platformID string, id int64, d NoticeDelivery) (WorkerNotice, bool, error) {
	var n WorkerNotice
	created := false
	hash := deliveryHash(d)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if n, err = workerNotice(ctx, tx, platformID, id); err != nil {
			return err
		}
		if n.Delivery == nil && d.DeliveredAt.Before(n.CreatedAt) {
			return gateway.Invalid("delivered_at", "before_notice", fmt.Sprintf("delivered_at is before the notice was issued (%s)", n.CreatedAt.Format(time.RFC3339)))
		}
		tag, err := tx.Exec(ctx, `INSERT INTO notice_deliveries (notice_id, platform_id, channel, delivered_at, request_hash, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ON CONSTRAINT notice_deliveries_pkey DO NOTHING`,
			id, n.PlatformID, d.Channel, d.DeliveredAt, hash[:], d.RecordedBy, d.RecordedAt)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		var stored []byte
		if err := tx.QueryRow(ctx, `SELECT request_hash FROM notice_deliveries WHERE notice_id = $1`, id).Scan(&stored); err != nil {
			return fmt.Errorf("read delivery: %w", err)
		}
		if [32]byte(stored) != hash {
			return gateway.Errorf(gateway.ECONFLICT, "notice %d is already acknowledged as delivered by %s at %s", id,
				n.Delivery.Channel, n.Delivery.DeliveredAt.Format(time.RFC3339))
		}
		n, err = workerNotice(ctx, tx, platformID, id)
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.ConstraintName == "notice_deliveries_channel_check" {
		return n, false, gateway.Invalid("channel", "unknown_channel", "channel must be one of "+strings.Join(NoticeChannels, ", "))
	}
	if err != nil {
		return n, false, err
	}
	return n, created, nil
}

// deliveryHash identifies an acknowledgement by what it says, not by who
// sent it or when it was recorded.
func deliveryHash(d NoticeDelivery) [32]byte {
	return sha256.Sum256([]byte(d.Channel + "\x00" + d.DeliveredAt.UTC().Format(time.RFC3339Nano)))
}
