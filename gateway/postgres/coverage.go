package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/coverage"
)

// readOnly runs fn in one read-only transaction that sees one snapshot.
func (db *DB) readOnly(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// CoverageWorkerKey returns the worker key a platform's worker reference
// was last registered with; ENOTFOUND when the platform registered no
// worker under it.
func (db *DB) CoverageWorkerKey(ctx context.Context, platformID, workerRef string) (string, error) {
	var key string
	err := db.Pool.QueryRow(ctx, `SELECT worker_key FROM registrations
		WHERE platform_id = $1 AND worker_ref = $2 AND change = 'start' ORDER BY effective DESC, id DESC LIMIT 1`,
		platformID, workerRef).Scan(&key)
	if err == pgx.ErrNoRows {
		return "", gateway.Errorf(gateway.ENOTFOUND, "worker %q is not registered with this platform", workerRef)
	}
	if err != nil {
		return "", fmt.Errorf("read worker key: %w", err)
	}
	return key, nil
}

// CoverageFacts gathers, in one snapshot, what coverage.Decide needs to
// answer whether a worker is covered on date under each scheme the worker
// has a registration or contributions under: the registration history, and
// per platform and period the contribution (the engine's worker totals,
// net of what period close settled), the statements with a line for the
// worker and how the latest matching run found them paid, and the latest
// notice of a shortfall. platformID "" reads every platform; otherwise only
// that platform's registrations and contributions are read. A worker key
// that names no worker, and has no contribution within the scope, is
// ENOTFOUND. Schemes the catalog does not have are left out.
func (db *DB) CoverageFacts(ctx context.Context, catalog *gateway.Catalog, workerKey, platformID string, date calendar.Date) ([]coverage.Input, error) {
	var out []coverage.Input
	err := db.readOnly(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `SELECT platform_id, worker_ref, scheme_id, change, plan_id, effective FROM registrations
			WHERE worker_key = $1 AND ($2 = '' OR platform_id = $2) ORDER BY effective, id`, workerKey, platformID)
		if err != nil {
			return fmt.Errorf("read registrations: %w", err)
		}
		steps := map[string][]coverage.Step{}
		var scheme string
		var st coverage.Step
		var eff time.Time
		_, err = pgx.ForEachRow(rows, []any{&st.PlatformID, &st.WorkerRef, &scheme, &st.Change, &st.PlanID, &eff}, func() error {
			st.Effective = calendar.DateOf(eff)
			steps[scheme] = append(steps[scheme], st)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read registrations: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT DISTINCT scheme_id FROM worker_periods
			WHERE worker_id = $1 AND ($2 = '' OR platform_id = $2) AND events > 0`, workerKey, platformID)
		if err != nil {
			return fmt.Errorf("read worker schemes: %w", err)
		}
		contributed, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("read worker schemes: %w", err)
		}
		if len(steps) == 0 && len(contributed) == 0 {
			return gateway.Errorf(gateway.ENOTFOUND, "no worker %q", workerKey)
		}
		ids := slices.Clone(contributed)
		for id := range steps {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			s, err := catalog.Scheme(id)
			if err != nil {
				continue
			}
			in := coverage.Input{Scheme: s, Date: date, Steps: steps[id]}
			for _, r := range coverage.RegistrationsOn(in.Steps, date) {
				if r.Active && r.PlanID != "" {
					in.PlanID = r.PlanID
					break
				}
			}
			_, keys, err := coverage.Periods(s, in.PlanID, date)
			if err == nil && len(keys) > 0 {
				if in.Contributions, err = contributions(ctx, tx, s, workerKey, platformID, keys); err != nil {
					return err
				}
			}
			out = append(out, in)
		}
		return nil
	})
	return out, err
}

// contributions reads a worker's contributions under one scheme in the
// given periods, with their statements and shortfall notices.
func contributions(ctx context.Context, tx pgx.Tx, s *gateway.Scheme, workerKey, platformID string, periods []string) ([]coverage.Contribution, error) {
	type key struct{ platform, period string }
	by := map[key]*coverage.Contribution{}
	var order []key
	get := func(k key) *coverage.Contribution {
		c, ok := by[k]
		if !ok {
			c = &coverage.Contribution{PlatformID: k.platform, Period: k.period,
				WorkerShare: gateway.Money{Currency: s.Currency}, PlatformShare: gateway.Money{Currency: s.Currency}}
			by[k] = c
			order = append(order, k)
		}
		return c
	}
	rows, err := tx.Query(ctx, `
		SELECT platform_id, period, max(plan_id), sum(worker_minor + settled_worker)::bigint, sum(platform_minor + settled_platform)::bigint
		FROM worker_periods
		WHERE worker_id = $1 AND scheme_id = $2 AND period = ANY($3) AND ($4 = '' OR platform_id = $4) AND events > 0
		GROUP BY platform_id, period`, workerKey, s.ID, periods, platformID)
	if err != nil {
		return nil, fmt.Errorf("read contributions: %w", err)
	}
	var k key
	var plan string
	var w, p int64
	if _, err := pgx.ForEachRow(rows, []any{&k.platform, &k.period, &plan, &w, &p}, func() error {
		c := get(k)
		c.PlanID, c.WorkerShare.Amount, c.PlatformShare.Amount = plan, w, p
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read contributions: %w", err)
	}

	// The statements with a line for the worker; paid in full when the
	// latest run left nothing of it open, recognised on the value date of
	// the last payment allocated to it.
	rows, err = tx.Query(ctx, `
		SELECT s.platform_id, s.period, s.id, s.seq, sl.worker_minor, sl.platform_minor, coalesce(o.status, ''),
		       coalesce((SELECT (x->>'open_minor')::bigint = 0 AND (x->>'paid_minor')::bigint > 0
		                 FROM jsonb_array_elements(o.statements) x WHERE x->>'id' = s.id LIMIT 1), false),
		       (SELECT max(ma.value_date) FROM match_allocations ma WHERE ma.statement_id = s.id AND NOT ma.overpayment)
		FROM statements s
		JOIN statement_lines sl ON sl.statement_id = s.id AND sl.worker_key = $1
		LEFT JOIN reconciliation_outcomes o ON o.platform_id = s.platform_id AND o.scheme_id = s.scheme_id AND o.period = s.period
		WHERE s.scheme_id = $2 AND s.period = ANY($3) AND ($4 = '' OR s.platform_id = $4)
		ORDER BY s.period, s.platform_id, s.seq`, workerKey, s.ID, periods, platformID)
	if err != nil {
		return nil, fmt.Errorf("read worker statements: %w", err)
	}
	stated := map[key]int64{}
	var st coverage.Statement
	var lw, lp int64
	var recognised *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&k.platform, &k.period, &st.ID, &st.Seq, &lw, &lp, &st.Outcome, &st.Paid, &recognised}, func() error {
		c := get(k)
		st.Line = gateway.Money{Amount: lw + lp, Currency: s.Currency}
		st.RecognisedOn = calendar.Date{}
		if st.Paid {
			st.RecognisedOn = calendarDate(recognised)
		}
		c.Statements = append(c.Statements, st)
		stated[k] += lw + lp
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read worker statements: %w", err)
	}

	// The latest notice of each period: a shortfall against the plan's
	// amount stands until what is stated for the worker reaches it.
	rows, err = tx.Query(ctx, `
		SELECT DISTINCT ON (platform_id, period) platform_id, period, kind, expected_minor
		FROM settlement_notices
		WHERE worker_id = $1 AND scheme_id = $2 AND period = ANY($3) AND ($4 = '' OR platform_id = $4)
		ORDER BY platform_id, period, id DESC`, workerKey, s.ID, periods, platformID)
	if err != nil {
		return nil, fmt.Errorf("read worker notices: %w", err)
	}
	var kind string
	var expected int64
	if _, err := pgx.ForEachRow(rows, []any{&k.platform, &k.period, &kind, &expected}, func() error {
		c, ok := by[k]
		if !ok || kind != "shortfall" {
			return nil
		}
		have := c.Total().Amount
		if n, ok := stated[k]; ok {
			have = n
		}
		if expected > have {
			c.Shortfall = gateway.Money{Amount: expected - have, Currency: s.Currency}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read worker notices: %w", err)
	}
	out := make([]coverage.Contribution, 0, len(order))
	slices.SortFunc(order, func(a, b key) int { return strings.Compare(a.period+"\x00"+a.platform, b.period+"\x00"+b.platform) })
	for _, k := range order {
		out = append(out, *by[k])
	}
	return out, nil
}
