package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
)

// Registration changes.
const (
	RegistrationStart  = "start"
	RegistrationChange = "change"
	RegistrationEnd    = "end"
)

// Registration is one step of a worker's registration with a platform
// under a scheme.
type Registration struct {
	ID         int64
	PlatformID string
	WorkerRef  string
	WorkerKey  string
	SchemeID   string
	Change     string // start, change or end
	PlanID     string // the plan the worker selected, "" for the platform's default
	Sector     string
	Vehicle    string
	Effective  time.Time // a date
	AgentID    string    // the registration agent who filed it, if any
	RecordedAt time.Time
}

// NewWorker is a worker to register: the worker key and the sealed national
// ID (never the raw number).
type NewWorker struct {
	WorkerKey string
	Country   string
	Sealed    []byte
}

// Register records a registration step; the worker is created on first
// use. The same step sent again (same platform, reference, scheme, change
// and date, same content) returns the stored one; with other content it is a
// conflict. A start moves the reference's earnings kept in suspense under
// the scheme to the worker, in the same transaction (see suspense.go);
// sending it again moves what arrived in suspense since, and nothing twice.
// An agent it names must be one of the platform's (CreateAgent), else it is
// invalid.
func (db *DB) Register(ctx context.Context, w NewWorker, r Registration, hash [32]byte) (Registration, bool, error) {
	r, created, _, err := db.RegisterMoving(ctx, w, r, hash)
	return r, created, err
}

// RegisterMoving is Register, and also returns what the registration moved
// out of suspense.
func (db *DB) RegisterMoving(ctx context.Context, w NewWorker, r Registration, hash [32]byte) (Registration, bool, Transfer, error) {
	created := false
	var moved Transfer
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		moved = Transfer{}
		if r.Change == RegistrationStart {
			// Before anything is written: batches of the platform in
			// flight finish first, later ones read this registration.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, platformLock(r.PlatformID)); err != nil {
				return fmt.Errorf("lock platform %s: %w", r.PlatformID, err)
			}
		}
		if r.AgentID != "" {
			var known bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE platform_id = $1 AND agent_id = $2)`,
				r.PlatformID, r.AgentID).Scan(&known); err != nil {
				return fmt.Errorf("look up agent: %w", err)
			}
			if !known {
				return gateway.Invalid("agent_id", "unknown_agent",
					fmt.Sprintf("agent %q is not one of this platform's agents; declare it with POST /v1/agents", r.AgentID))
			}
		}
		if w.WorkerKey != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO workers (worker_key, country, national_id) VALUES ($1, $2, $3)
				ON CONFLICT ON CONSTRAINT workers_pkey DO NOTHING`, w.WorkerKey, w.Country, w.Sealed); err != nil {
				return err
			}
		}
		// Held to the commit: steps take versions in commit order.
		var version int64
		if err := tx.QueryRow(ctx, `UPDATE registry_version SET version = version + 1 RETURNING version`).Scan(&version); err != nil {
			return fmt.Errorf("take a registry version: %w", err)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO registrations (platform_id, worker_ref, worker_key, scheme_id, change, plan_id, sector, vehicle,
			       effective, agent_id, request_hash, registry_version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT ON CONSTRAINT registrations_change_key DO NOTHING`,
			r.PlatformID, r.WorkerRef, r.WorkerKey, r.SchemeID, r.Change, r.PlanID, r.Sector, r.Vehicle,
			r.Effective, r.AgentID, hash[:], version)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		var stored []byte
		err = tx.QueryRow(ctx, `SELECT id, recorded_at, request_hash FROM registrations
			WHERE platform_id = $1 AND worker_ref = $2 AND scheme_id = $3 AND change = $4 AND effective = $5`,
			r.PlatformID, r.WorkerRef, r.SchemeID, r.Change, r.Effective).Scan(&r.ID, &r.RecordedAt, &stored)
		if err != nil {
			return err
		}
		if [32]byte(stored) != hash {
			return gateway.Errorf(gateway.ECONFLICT, "a different %s of worker %q under %s on %s is already recorded",
				r.Change, r.WorkerRef, r.SchemeID, r.Effective.Format(time.DateOnly))
		}
		if r.Change == RegistrationStart {
			moved, err = moveSuspense(ctx, tx, r)
		}
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.ConstraintName == "registrations_platform_fkey" {
		return r, false, moved, gateway.Errorf(gateway.ENOTFOUND, "no platform %q", r.PlatformID)
	}
	if errors.As(err, &pe) && pe.ConstraintName == "registrations_worker_fkey" {
		return r, false, moved, gateway.Errorf(gateway.ENOTFOUND, "worker %q is not registered with this platform", r.WorkerRef)
	}
	if err != nil {
		return r, false, Transfer{}, err
	}
	return r, created, moved, nil
}

// Registrations returns a platform's registration history of one worker
// reference, oldest first.
func (db *DB) Registrations(ctx context.Context, platformID, workerRef string) ([]Registration, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+registrationColumns+` FROM registrations
		WHERE platform_id = $1 AND worker_ref = $2 ORDER BY effective, id`, platformID, workerRef)
	if err != nil {
		return nil, fmt.Errorf("read registrations: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Registration])
}

const registrationColumns = `id, platform_id, worker_ref, worker_key, scheme_id, change, plan_id, sector, vehicle,
	effective, agent_id, recorded_at`

// WorkerKeys returns the worker key of each of a platform's worker
// references that has a registration (the latest start's), leaving out the
// others. Each reference is one probe of the references' index, however
// many registrations there are (see RecordedHashes).
func (db *DB) WorkerKeys(ctx context.Context, platformID string, refs []string) (map[string]string, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT k.worker_ref, r.worker_key
		FROM unnest($2::text[]) AS k(worker_ref),
		LATERAL (SELECT worker_key FROM registrations
		         WHERE platform_id = $1 AND worker_ref = k.worker_ref AND change = 'start'
		         ORDER BY effective DESC, id DESC LIMIT 1) r`, platformID, refs)
	if err != nil {
		return nil, fmt.Errorf("look up worker keys: %w", err)
	}
	out := make(map[string]string, len(refs))
	var ref, key string
	_, err = pgx.ForEachRow(rows, []any{&ref, &key}, func() error { out[ref] = key; return nil })
	return out, err
}

// RefKey names a worker by the platform's own reference.
type RefKey struct{ PlatformID, WorkerRef string }

// LockPlatforms takes the registration locks of the given platforms, to
// the batch's commit: a registration that moves suspense waits for this
// batch, or this batch reads it (suspense.go). Take them before reading
// registrations or running totals.
func (b *BatchTx) LockPlatforms(ctx context.Context, platforms []string) error {
	return lockPlatformsShared(ctx, b.tx, platforms)
}

// registrationsSQL reads the registrations of worker references.
const registrationsSQL = `
	SELECT r.id, r.platform_id, r.worker_ref, r.worker_key, r.scheme_id, r.change, r.plan_id,
	       r.sector, r.vehicle, r.effective, r.agent_id, r.recorded_at
	FROM unnest($1::text[], $2::text[]) AS k(platform_id, worker_ref),
	LATERAL (SELECT * FROM registrations r
	         WHERE r.platform_id = k.platform_id AND r.worker_ref = k.worker_ref ` + probe + `) r
	ORDER BY r.effective, r.id`

// Registrations returns the registration histories of the given worker
// references, oldest first. Each reference is one probe of the references'
// index: a join would let the planner hash the references and scan every
// registration (see probe).
func (b *BatchTx) Registrations(ctx context.Context, refs []RefKey) (map[RefKey][]Registration, error) {
	out := map[RefKey][]Registration{}
	if len(refs) == 0 {
		return out, nil
	}
	platforms, workers := make([]string, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		platforms[i], workers[i] = r.PlatformID, r.WorkerRef
	}
	rows, err := b.tx.Query(ctx, registrationsSQL, platforms, workers)
	if err != nil {
		return nil, fmt.Errorf("read registrations: %w", err)
	}
	regs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Registration])
	for _, r := range regs {
		k := RefKey{r.PlatformID, r.WorkerRef}
		out[k] = append(out[k], r)
	}
	return out, err
}

// WorkerPeriod is a worker's totals for one platform, scheme and period.
type WorkerPeriod struct {
	SchemeID string
	PlanID   string
	Period   string
	Currency string
	Events   int64
	Gross    int64
	Worker   int64
	Platform int64
}

// WorkerPeriods returns a worker's totals with one platform, by scheme and
// period.
func (db *DB) WorkerPeriods(ctx context.Context, workerID, platformID string) ([]WorkerPeriod, error) {
	rows, err := db.Pool.Query(ctx, `SELECT scheme_id, plan_id, period, trim(currency), events, gross, worker_minor, platform_minor
		FROM worker_periods WHERE worker_id = $1 AND platform_id = $2 ORDER BY scheme_id, period`, workerID, platformID)
	if err != nil {
		return nil, fmt.Errorf("read worker periods: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[WorkerPeriod])
}
