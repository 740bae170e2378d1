package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
)

// IdempotencyKey names one write request: the platform, the key it chose
// (the Idempotency-Key header) and the SHA-256 of the request's canonical
// body.
type IdempotencyKey struct {
	PlatformID string
	Key        string
	Hash       [32]byte
}

// IdempotentAnswer is the first answer to a request, replayed to its
// retries.
type IdempotentAnswer struct {
	Status int    // HTTP status
	Body   []byte // the answer's body as sent
}

// How long keys live.
const (
	// IdempotencyTTL is how long a completed key is answered from the store;
	// after it the key may name a new request.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyStale is how long a key may stay claimed without an
	// answer before another request with it takes it over, as when the
	// process that claimed it died.
	IdempotencyStale = 2 * time.Minute
)

// ClaimIdempotencyKey starts a request with an idempotency key. It returns:
//
//   - nil, nil when the caller now holds the key: it answers the request and
//     then calls CompleteIdempotencyKey, or ReleaseIdempotencyKey when it has
//     no answer to keep;
//   - the first answer, when the key was used for the same request;
//   - an idempotency_mismatch error when the key was used for another
//     request (another hash);
//   - a conflict error while another request with the key is being
//     answered.
//
// A key older than IdempotencyTTL, or claimed and unanswered for longer than
// IdempotencyStale, is taken over.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, k IdempotencyKey) (*IdempotentAnswer, error) {
	for range 3 {
		var claimed bool
		err := db.Pool.QueryRow(ctx, `
			INSERT INTO idempotency_keys AS k (platform_id, key, request_hash) VALUES ($1, $2, $3)
			ON CONFLICT (platform_id, key) DO UPDATE
			   SET request_hash = EXCLUDED.request_hash, status = NULL, answer = NULL,
			       created_at = now(), completed_at = NULL
			 WHERE k.created_at < now() - $4 * interval '1 microsecond'
			    OR (k.status IS NULL AND k.created_at < now() - $5 * interval '1 microsecond')
			RETURNING true`,
			k.PlatformID, k.Key, k.Hash[:], IdempotencyTTL.Microseconds(), IdempotencyStale.Microseconds()).Scan(&claimed)
		switch {
		case err == nil:
			return nil, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return nil, keyError(k, err)
		}
		var hash []byte
		var status *int
		var answer []byte
		err = db.Pool.QueryRow(ctx, `SELECT request_hash, status, answer FROM idempotency_keys WHERE platform_id = $1 AND key = $2`,
			k.PlatformID, k.Key).Scan(&hash, &status, &answer)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue // released in between: claim again
		case err != nil:
			return nil, keyError(k, err)
		case !bytes.Equal(hash, k.Hash[:]):
			return nil, gateway.Errorf(gateway.EIDEMPOTENCYMISMATCH,
				"Idempotency-Key %q was used for a different request; use a new key for a new request", k.Key)
		case status == nil:
			return nil, gateway.Errorf(gateway.ECONFLICT,
				"a request with Idempotency-Key %q is still being answered; retry in a moment", k.Key)
		default:
			return &IdempotentAnswer{Status: *status, Body: answer}, nil
		}
	}
	return nil, gateway.Errorf(gateway.ECONFLICT, "Idempotency-Key %q is in use by concurrent requests; retry in a moment", k.Key)
}

// CompleteIdempotencyKey stores the answer of a request whose key the caller
// claimed.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, k IdempotencyKey, a IdempotentAnswer) error {
	tag, err := db.Pool.Exec(ctx, `
		UPDATE idempotency_keys SET status = $4, answer = $5, completed_at = now()
		WHERE platform_id = $1 AND key = $2 AND request_hash = $3 AND status IS NULL`,
		k.PlatformID, k.Key, k.Hash[:], a.Status, a.Body)
	if err != nil {
		return keyError(k, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("complete idempotency key %q: the claim was taken over", k.Key)
	}
	return nil
}

// ReleaseIdempotencyKey gives up a claimed key without an answer, so that a
// retry with it is answered anew.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, k IdempotencyKey) error {
	_, err := db.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE platform_id = $1 AND key = $2 AND request_hash = $3 AND status IS NULL`,
		k.PlatformID, k.Key, k.Hash[:])
	if err != nil {
		return keyError(k, err)
	}
	return nil
}

// PruneIdempotencyKeys deletes keys created before cutoff and returns how
// many it deleted.
func (db *DB) PruneIdempotencyKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

func keyError(k IdempotencyKey, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.ConstraintName == "idempotency_keys_key_check" {
		return gateway.Invalid("Idempotency-Key", "bad_key", "an Idempotency-Key is 1 to 255 characters")
	}
	return fmt.Errorf("idempotency key %q: %w", k.Key, err)
}

// RecordedHashes returns the payload hash (feed.Hash) of each of a
// platform's events, among eventIDs, that the engine has recorded. It only
// reads, by primary key: the API asks it to tell a retry of a recorded event
// (same hash) from a conflicting one. Each id is one primary-key probe (the
// LIMIT keeps the subquery a probe per id): as "event_id = ANY($2)"
// PostgreSQL tested every row it read against every id of the array, and as
// a plain join it hashed the ids and scanned the platform's events.
const recordedHashesSQL = `
	SELECT k.event_id, e.payload_hash
	FROM unnest($2::text[]) AS k(event_id),
	LATERAL (SELECT payload_hash FROM earning_events
	         WHERE platform_id = $1 AND event_id = k.event_id LIMIT 1) e`

func (db *DB) RecordedHashes(ctx context.Context, platformID string, eventIDs []string) (map[string][32]byte, error) {
	rows, err := db.Pool.Query(ctx, recordedHashesSQL, platformID, eventIDs)
	if err != nil {
		return nil, fmt.Errorf("read recorded events: %w", err)
	}
	defer rows.Close()
	out := map[string][32]byte{}
	for rows.Next() {
		var id string
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("read recorded events: %w", err)
		}
		var a [32]byte
		copy(a[:], h)
		out[id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recorded events: %w", err)
	}
	return out, nil
}
