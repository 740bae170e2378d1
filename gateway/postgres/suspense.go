package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Suspense: the engine records the earnings of a worker the platform has
// not registered under the platform's own reference, worker id
// SuspenseWorkerID(platform, ref), with registered = false. When the
// platform registers that reference, the registration's transaction moves
// them to the worker:
//
//   - one suspense_transfers row per entry names the worker it now belongs
//     to; the ledger is not edited, and an entry moves at most once, so
//     registering again (or a retried request) moves only what arrived in
//     suspense since;
//   - the running totals the engine computes from (worker_periods) move
//     with them: the reference's rows are added to the worker's rows of the
//     same platform, scheme, plan and period and emptied, so the worker's
//     thresholds and progressive amounts see the earnings;
//   - period close, statements and agent commissions read an entry's worker
//     through its transfer (attributedWorker).
//
// Concurrency with the engine: a batch takes its platforms' lock shared
// before it reads registrations (BatchTx.Registrations) and holds it to
// its commit; a registration that starts a worker takes its platform's lock
// exclusively first. So a batch that resolved the reference to suspense has
// committed before the move reads the ledger, and a batch that starts after
// reads the registration; and no batch holds running totals of the platform
// read before the move and written after it. The move also takes the locks
// of the periods it touches shared, as a batch does, so it never runs in the
// middle of a period's close.

// SuspenseWorkerID is the worker id under which the engine keeps the
// entries of a platform's unregistered worker reference.
func SuspenseWorkerID(platformID, workerRef string) string {
	return "ref:" + platformID + ":" + workerRef
}

// attributedWorker is the SQL expression of a ledger entry's worker (alias
// l) as period close reads it: the worker its suspense transfer names, or
// the one recorded. The query must LEFT JOIN suspense_transfers t ON
// t.entry_id = l.id.
const attributedWorker = `coalesce(t.to_worker_id, l.worker_id)`

// platformLock is the advisory lock key of a platform's registrations:
// batches hold it shared, a registration that may move suspense holds it
// exclusively.
func platformLock(platformID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("platform\x00" + platformID))
	return int64(h.Sum64())
}

// lockPlatformsShared takes the locks of platforms shared, in key order.
func lockPlatformsShared(ctx context.Context, tx pgx.Tx, platforms []string) error {
	keys := make([]int64, 0, len(platforms))
	for _, p := range platforms {
		keys = append(keys, platformLock(p))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(k) FROM unnest($1::bigint[]) AS k`, keys); err != nil {
		return fmt.Errorf("lock platforms: %w", err)
	}
	return nil
}

// Transfer is what one registration moved out of suspense.
type Transfer struct {
	Entries  int   // ledger entries moved
	Gross    int64 // their gross, in the platform's currency
	Worker   int64 // their worker shares
	Platform int64 // their platform shares
}

// moveSuspense moves the suspense entries of r's platform, reference and
// scheme to r's worker, with their running totals, in tx. The caller holds
// the platform's lock exclusively; r.ID is the registration's id.
func moveSuspense(ctx context.Context, tx pgx.Tx, r Registration) (Transfer, error) {
	from := SuspenseWorkerID(r.PlatformID, r.WorkerRef)
	var out Transfer
	if from == r.WorkerKey {
		return out, nil
	}
	// The periods the entries belong to and are booked in: held shared, as
	// a batch does, so no close of them runs meanwhile.
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT unnest(ARRAY[l.period, l.booked_period]) FROM ledger_entries l
		WHERE l.platform_id = $3 AND l.worker_id = $1 AND l.scheme_id = $2 AND NOT l.registered
		  AND NOT EXISTS (SELECT 1 FROM suspense_transfers t WHERE t.entry_id = l.id)`,
		from, r.SchemeID, r.PlatformID)
	if err != nil {
		return out, fmt.Errorf("find suspense of %s: %w", r.WorkerRef, err)
	}
	periods, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(periods) == 0 {
		return out, err
	}
	locks := make([]int64, len(periods))
	for i, p := range periods {
		locks[i] = periodLock(SchemePeriod{SchemeID: r.SchemeID, Period: p})
	}
	slices.Sort(locks)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(k) FROM unnest($1::bigint[]) AS k`, slices.Compact(locks)); err != nil {
		return out, fmt.Errorf("lock periods: %w", err)
	}
	err = tx.QueryRow(ctx, `
		WITH moved AS (
			INSERT INTO suspense_transfers (entry_id, registration_id, platform_id, scheme_id, worker_ref, from_worker_id,
			       to_worker_id, plan_id, period, booked_period, currency, gross_minor, worker_minor, platform_minor)
			SELECT l.id, $4, l.platform_id, l.scheme_id, $5, l.worker_id, $6, l.plan_id, l.period, l.booked_period,
			       l.currency, l.gross_minor, l.worker_minor, l.platform_minor
			FROM ledger_entries l
			WHERE l.platform_id = $3 AND l.worker_id = $1 AND l.scheme_id = $2 AND NOT l.registered
			  AND NOT EXISTS (SELECT 1 FROM suspense_transfers t WHERE t.entry_id = l.id)
			ORDER BY l.id
			ON CONFLICT ON CONSTRAINT suspense_transfers_entry_key DO NOTHING
			RETURNING gross_minor, worker_minor, platform_minor
		)
		SELECT count(*), coalesce(sum(gross_minor), 0)::bigint, coalesce(sum(worker_minor), 0)::bigint,
		       coalesce(sum(platform_minor), 0)::bigint FROM moved`,
		from, r.SchemeID, r.PlatformID, r.ID, r.WorkerRef, r.WorkerKey).Scan(&out.Entries, &out.Gross, &out.Worker, &out.Platform)
	if err != nil {
		return out, fmt.Errorf("move suspense of %s: %w", r.WorkerRef, err)
	}
	// The reference's running totals join the worker's, row by row (same
	// platform, scheme, plan and period), and are emptied: the state of an
	// emptied row reads as the state before any event. Rows are locked in
	// key order: the worker's, then the reference's, as keys sort.
	_, err = tx.Exec(ctx, `
		WITH src AS (
			SELECT * FROM worker_periods
			WHERE worker_id = $1 AND platform_id = $2 AND scheme_id = $3 AND trim(currency) <> ''
			ORDER BY plan_id, period FOR UPDATE
		), added AS (
			INSERT INTO worker_periods AS w (worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base,
			       insured, orders, units, worker_minor, platform_minor, settled_worker, settled_platform)
			SELECT $4, platform_id, scheme_id, plan_id, period, currency, events, gross, base, insured, orders, units,
			       worker_minor, platform_minor, settled_worker, settled_platform FROM src ORDER BY plan_id, period
			ON CONFLICT ON CONSTRAINT worker_periods_pkey DO UPDATE SET
			       currency = CASE WHEN trim(w.currency) = '' THEN EXCLUDED.currency ELSE w.currency END,
			       events = w.events + EXCLUDED.events, gross = w.gross + EXCLUDED.gross, base = w.base + EXCLUDED.base,
			       insured = w.insured + EXCLUDED.insured, orders = w.orders + EXCLUDED.orders, units = w.units + EXCLUDED.units,
			       worker_minor = w.worker_minor + EXCLUDED.worker_minor, platform_minor = w.platform_minor + EXCLUDED.platform_minor,
			       settled_worker = w.settled_worker + EXCLUDED.settled_worker,
			       settled_platform = w.settled_platform + EXCLUDED.settled_platform, updated_at = now()
			RETURNING 1
		)
		UPDATE worker_periods w SET currency = '', events = 0, gross = 0, base = 0, insured = 0, orders = 0, units = 0,
		       worker_minor = 0, platform_minor = 0, settled_worker = 0, settled_platform = 0, updated_at = now()
		FROM src WHERE w.worker_id = src.worker_id AND w.platform_id = src.platform_id AND w.scheme_id = src.scheme_id
		  AND w.plan_id = src.plan_id AND w.period = src.period AND (SELECT count(*) FROM added) >= 0`,
		from, r.PlatformID, r.SchemeID, r.WorkerKey)
	if err != nil {
		return out, fmt.Errorf("move running totals of %s: %w", r.WorkerRef, err)
	}
	return out, nil
}
