package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

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
	return suspensePrefix + platformID + ":" + workerRef
}

const suspensePrefix = "ref:"

// IsSuspenseWorkerID reports whether a worker id is a platform's reference
// (SuspenseWorkerID) rather than a worker key.
func IsSuspenseWorkerID(id string) bool { return strings.HasPrefix(id, suspensePrefix) }

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
	if out.Entries == 0 {
		return out, nil
	}
	if err := moveTotals(ctx, tx, r.SchemeID, []totalsMove{{platform: r.PlatformID, from: from, to: r.WorkerKey}}); err != nil {
		return out, fmt.Errorf("move running totals of %s: %w", r.WorkerRef, err)
	}
	return out, nil
}

// totalsMove names running totals to move: the rows of worker from with
// platform, in period or, when period is empty, in every period.
type totalsMove struct{ platform, from, to, period string }

// moveTotals adds the running totals of each move's reference to its
// worker's, row by row (same platform, scheme, plan and period), and empties
// them: the state of an emptied row reads as the state before any event.
// The caller holds what keeps batches from writing the rows meanwhile.
func moveTotals(ctx context.Context, tx pgx.Tx, schemeID string, moves []totalsMove) error {
	if len(moves) == 0 {
		return nil
	}
	cols := make([][]string, 4)
	for _, m := range moves {
		cols[0], cols[1], cols[2], cols[3] = append(cols[0], m.platform), append(cols[1], m.from), append(cols[2], m.to), append(cols[3], m.period)
	}
	_, err := tx.Exec(ctx, `
		WITH g AS (
			SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS g(platform_id, from_id, to_id, period)
		), src AS (
			SELECT w.worker_id, w.platform_id, w.scheme_id, w.plan_id, w.period, w.currency, w.events, w.gross, w.base,
			       w.insured, w.orders, w.units, w.worker_minor, w.platform_minor, w.settled_worker, w.settled_platform, g.to_id
			FROM worker_periods w JOIN g ON w.worker_id = g.from_id AND w.platform_id = g.platform_id
			     AND (g.period = '' OR w.period = g.period)
			WHERE w.scheme_id = $1 AND trim(w.currency) <> ''
			ORDER BY w.worker_id, w.platform_id, w.plan_id, w.period FOR UPDATE OF w
		), added AS (
			INSERT INTO worker_periods AS w (worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base,
			       insured, orders, units, worker_minor, platform_minor, settled_worker, settled_platform)
			SELECT to_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base, insured, orders, units,
			       worker_minor, platform_minor, settled_worker, settled_platform FROM src ORDER BY to_id, platform_id, plan_id, period
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
		schemeID, cols[0], cols[1], cols[2], cols[3])
	return err
}

// sweepSuspense moves, in a period close's settling transaction, what is
// still in suspense of the periods being settled (locked, as the close
// holds them exclusively) for references that have a start registration
// under the scheme by now: an event of a reference that arrived after its
// registration but is dated before it, or the reversal of an event already
// moved. A reference's entries of one period move together, and only when
// every one of them is booked in a period being settled, so the running
// totals always move whole. Settling then reads the totals under the
// worker.
func sweepSuspense(ctx context.Context, tx pgx.Tx, schemeID string, periods []string) error {
	rows, err := tx.Query(ctx, `
		WITH cand AS (
			SELECT l.id, l.platform_id, l.worker_id, l.plan_id, l.period, l.booked_period, l.currency, l.gross_minor,
			       l.worker_minor, l.platform_minor
			FROM ledger_entries l
			WHERE NOT l.registered AND l.scheme_id = $1 AND l.period = ANY($2) AND l.worker_id LIKE 'ref:%'
			  AND NOT EXISTS (SELECT 1 FROM suspense_transfers t WHERE t.entry_id = l.id)
		), grp AS (
			SELECT platform_id, worker_id, period FROM cand GROUP BY 1, 2, 3 HAVING bool_and(booked_period = ANY($2))
		), moved AS (
			INSERT INTO suspense_transfers (entry_id, registration_id, platform_id, scheme_id, worker_ref, from_worker_id,
			       to_worker_id, plan_id, period, booked_period, currency, gross_minor, worker_minor, platform_minor)
			SELECT c.id, r.id, c.platform_id, $1, r.worker_ref, c.worker_id, r.worker_key, c.plan_id, c.period, c.booked_period,
			       c.currency, c.gross_minor, c.worker_minor, c.platform_minor
			FROM cand c JOIN grp USING (platform_id, worker_id, period)
			CROSS JOIN LATERAL (
				SELECT r.id, r.worker_ref, r.worker_key FROM registrations r
				WHERE r.platform_id = c.platform_id AND r.worker_ref = substr(c.worker_id, length(c.platform_id) + 6)
				  AND r.scheme_id = $1 AND r.change = 'start'
				ORDER BY r.effective DESC, r.id DESC LIMIT 1) r
			WHERE c.worker_id = 'ref:' || c.platform_id || ':' || r.worker_ref AND r.worker_key <> c.worker_id
			ORDER BY c.id
			ON CONFLICT ON CONSTRAINT suspense_transfers_entry_key DO NOTHING
			RETURNING platform_id, from_worker_id, to_worker_id, period
		)
		SELECT DISTINCT platform_id, from_worker_id, to_worker_id, period FROM moved`, schemeID, periods)
	if err != nil {
		return fmt.Errorf("sweep suspense of %s: %w", schemeID, err)
	}
	var moves []totalsMove
	var m totalsMove
	if _, err := pgx.ForEachRow(rows, []any{&m.platform, &m.from, &m.to, &m.period}, func() error {
		moves = append(moves, m)
		return nil
	}); err != nil {
		return fmt.Errorf("sweep suspense of %s: %w", schemeID, err)
	}
	if err := moveTotals(ctx, tx, schemeID, moves); err != nil {
		return fmt.Errorf("sweep suspense of %s: move running totals: %w", schemeID, err)
	}
	return nil
}
