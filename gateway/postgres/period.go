package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ClosePeriod marks a scheme's period closed. It waits for batches that are
// booking into the period to commit; later events of the period are booked
// in the open period as late adjustments. Closing a closed period changes
// nothing.
func (db *DB) ClosePeriod(ctx context.Context, schemeID, period string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, periodLock(SchemePeriod{schemeID, period})); err != nil {
			return fmt.Errorf("lock period %s/%s: %w", schemeID, period, err)
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO scheme_periods (scheme_id, period, status, closed_at) VALUES ($1, $2, 'closed', now())
			ON CONFLICT ON CONSTRAINT scheme_periods_pkey DO UPDATE SET status = 'closed',
			       closed_at = coalesce(scheme_periods.closed_at, now())`, schemeID, period)
		if err != nil {
			return fmt.Errorf("close period %s/%s: %w", schemeID, period, err)
		}
		return nil
	})
}

// PeriodBalance is what a platform owes under a scheme for a booked period,
// from the ledger entries so far.
type PeriodBalance struct {
	PlatformID  string
	SchemeID    string
	Period      string
	Currency    string
	Entries     int64
	LateEntries int64
	Worker      int64
	Platform    int64
}

// PeriodBalances returns a platform's balances, ordered by scheme and period.
func (db *DB) PeriodBalances(ctx context.Context, platformID string) ([]PeriodBalance, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT platform_id, scheme_id, period, currency, sum(entries)::bigint, sum(late_entries)::bigint,
		       sum(worker_minor)::bigint, sum(platform_minor)::bigint
		FROM platform_period_balances WHERE platform_id = $1
		GROUP BY platform_id, scheme_id, period, currency ORDER BY scheme_id, period`, platformID)
	if err != nil {
		return nil, fmt.Errorf("read balances: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PeriodBalance])
}

// PeriodsToClose returns the scheme periods that have ledger entries booked
// and are not closed yet.
func (db *DB) PeriodsToClose(ctx context.Context) ([]SchemePeriod, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT DISTINCT b.scheme_id, b.period FROM platform_period_balances b
		WHERE NOT EXISTS (SELECT 1 FROM scheme_periods p
		                  WHERE p.scheme_id = b.scheme_id AND p.period = b.period AND p.status = 'closed')
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list open periods: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SchemePeriod])
}
