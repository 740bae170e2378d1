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

// StatisticsQuery selects coverage statistics: the months From to To
// (first days of months) and the groups rows are split by besides the
// month.
type StatisticsQuery struct {
	From, To                       calendar.Date
	ByScheme, ByPlatform, BySector bool
}

// StatisticsRow is one month and group of the coverage statistics.
type StatisticsRow struct {
	Month      string // "2026-10"
	SchemeID   string // "" unless grouped by scheme
	PlatformID string // "" unless grouped by platform
	Sector     string // "" unless grouped by sector, or when no registration names one
	Active     int64  // workers with earnings in a period that ends in the month
	Covered    int64  // of those, workers covered in that period under the scheme's rule
	// Due is what the statements of the periods ending in the month state,
	// Collected what the latest matching run found paid towards them, per
	// currency. Statements are per platform, scheme and period: rows split
	// by sector carry none.
	Due, Collected []gateway.Money
}

// CoverageStatistics counts, per month and group, the workers with
// earnings, those covered by their scheme's rule, and the contributions
// due and collected. All of it is read set-based in one snapshot:
//
//   - a worker is active in a scheme's period when the engine's totals
//     (worker_periods, which follow earnings moved out of suspense) hold
//     events with a positive gross;
//   - covered on withholding: some platform's contribution in the period
//     is positive net of what close settled; on payment: a statement line
//     of the worker, on a statement the latest matching run found paid in
//     full and not short of the plan's amount by a standing shortfall
//     notice, was recognised on a day whose cover (one period from that
//     day) meets the period. Schemes whose cover contributions do not
//     decide (basis none) count no workers, only money;
//   - the sector is the one the worker's registration with the platform
//     under the scheme names (the latest start or change that names one,
//     in force at the period's end): the ledger does not keep the event's
//     category, and reading every event's payload would cost a scan of the
//     events table; workers the platform never registered have none ("").
//
// Periods longer than a month (quarters, years) count in the month in
// which they end.
func (db *DB) CoverageStatistics(ctx context.Context, catalog *gateway.Catalog, q StatisticsQuery) ([]StatisticsRow, error) {
	a := statisticsArgsOf(catalog, q)
	type key struct{ month, scheme, platform, sector string }
	by := map[key]*StatisticsRow{}
	row := func(k key) *StatisticsRow {
		r, ok := by[k]
		if !ok {
			r = &StatisticsRow{Month: k.month, SchemeID: k.scheme, PlatformID: k.platform, Sector: k.sector}
			by[k] = r
		}
		return r
	}
	err := db.readOnly(ctx, func(tx pgx.Tx) error {
		clear(by)
		// The counts hash and sort every worker period of the months: room
		// to do it in memory rather than in temporary files.
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
			return fmt.Errorf("set work_mem: %w", err)
		}
		rows, err := tx.Query(ctx, statisticsWorkersSQL, a.workers()...)
		if err != nil {
			return fmt.Errorf("count covered workers: %w", err)
		}
		var k key
		var active, covered int64
		if _, err := pgx.ForEachRow(rows, []any{&k.month, &k.scheme, &k.platform, &k.sector, &active, &covered}, func() error {
			r := row(k)
			r.Active, r.Covered = active, covered
			return nil
		}); err != nil {
			return fmt.Errorf("count covered workers: %w", err)
		}
		if q.BySector {
			return nil
		}
		rows, err = tx.Query(ctx, statisticsMoneySQL, a.schemes, a.periods, a.months, q.ByScheme, q.ByPlatform)
		if err != nil {
			return fmt.Errorf("sum contributions: %w", err)
		}
		var cur string
		var due, collected int64
		k.sector = ""
		_, err = pgx.ForEachRow(rows, []any{&k.month, &k.scheme, &k.platform, &cur, &due, &collected}, func() error {
			r := row(k)
			c := gateway.Currency(strings.TrimSpace(cur))
			r.Due = append(r.Due, gateway.Money{Amount: due, Currency: c})
			r.Collected = append(r.Collected, gateway.Money{Amount: collected, Currency: c})
			return nil
		})
		if err != nil {
			return fmt.Errorf("sum contributions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]StatisticsRow, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b StatisticsRow) int {
		return strings.Compare(a.Month+"\x00"+a.SchemeID+"\x00"+a.PlatformID+"\x00"+a.Sector,
			b.Month+"\x00"+b.SchemeID+"\x00"+b.PlatformID+"\x00"+b.Sector)
	})
	return out, nil
}

// statisticsArgs are the months asked for, per scheme, as arrays for
// unnest.
type statisticsArgs struct {
	q                               StatisticsQuery
	schemes, periods, months, bases []string
	firsts, lasts                   []time.Time
	cover                           []int32
	candSchemes, candPeriods        []string
}

func statisticsArgsOf(catalog *gateway.Catalog, q StatisticsQuery) statisticsArgs {
	a := statisticsArgs{q: q}
	for _, s := range catalog.Schemes() {
		for _, mp := range coverage.StatisticsPeriods(s, q.From, q.To) {
			a.schemes, a.periods = append(a.schemes, mp.SchemeID), append(a.periods, mp.Period)
			a.months, a.bases = append(a.months, mp.Month), append(a.bases, string(mp.Basis))
			a.firsts = append(a.firsts, mp.FirstDay.Start(time.UTC))
			a.lasts = append(a.lasts, mp.LastDay.Start(time.UTC))
			a.cover = append(a.cover, int32(mp.CoverMonths))
			for _, c := range mp.Candidates {
				a.candSchemes, a.candPeriods = append(a.candSchemes, mp.SchemeID), append(a.candPeriods, c)
			}
		}
	}
	return a
}

// workers are the arguments of statisticsWorkersSQL.
func (a statisticsArgs) workers() []any {
	return []any{a.schemes, a.periods, a.months, a.bases, a.firsts, a.lasts, a.cover, a.candSchemes, a.candPeriods,
		a.q.ByScheme, a.q.ByPlatform, a.q.BySector}
}

const statisticsWorkersSQL = `
WITH m AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::int[])
        AS m(scheme_id, period, month, basis, first_day, last_day, cover_months)
    WHERE basis <> 'none'
), wp AS MATERIALIZED (
    -- Every worker period of the months: active with earnings, and whether
    -- a contribution is withheld in it net of what close settled.
    SELECT m.month, w.scheme_id, w.period, w.platform_id, w.worker_id, m.basis, m.last_day,
           w.events > 0 AND w.gross > 0 AS active,
           w.worker_minor + w.platform_minor + w.settled_worker + w.settled_platform > 0 AS withheld
    FROM m JOIN worker_periods w ON w.scheme_id = m.scheme_id AND w.period = m.period
), wcov AS MATERIALIZED (
    SELECT scheme_id, period, worker_id FROM wp WHERE basis = 'withholding'
    GROUP BY 1, 2, 3 HAVING bool_or(withheld)
), c AS (
    SELECT DISTINCT * FROM unnest($8::text[], $9::text[]) AS c(scheme_id, period)
), paid_st AS MATERIALIZED (
    -- Statements the latest run found paid in full, with the value date
    -- of the last payment allocated to each.
    SELECT s.id, s.platform_id, s.scheme_id, s.period, r.recognised
    FROM c
    JOIN statements s ON s.scheme_id = c.scheme_id AND s.period = c.period
    JOIN reconciliation_outcomes o ON o.platform_id = s.platform_id AND o.scheme_id = s.scheme_id AND o.period = s.period
    CROSS JOIN LATERAL (SELECT max(ma.value_date) AS recognised FROM match_allocations ma
                        WHERE ma.statement_id = s.id AND NOT ma.overpayment) r
    WHERE r.recognised IS NOT NULL
      AND EXISTS (SELECT 1 FROM jsonb_array_elements(o.statements) x
                  WHERE x->>'id' = s.id AND (x->>'open_minor')::bigint = 0 AND (x->>'paid_minor')::bigint > 0)
), short AS MATERIALIZED (
    -- Standing shortfalls: the latest notice of a worker's period is a
    -- shortfall above what the statements state for the worker.
    SELECT n.worker_id, n.platform_id, n.scheme_id, n.period
    FROM (SELECT DISTINCT ON (sn.worker_id, sn.platform_id, sn.scheme_id, sn.period)
                 sn.worker_id, sn.platform_id, sn.scheme_id, sn.period, sn.kind, sn.expected_minor
          FROM c JOIN settlement_notices sn ON sn.scheme_id = c.scheme_id AND sn.period = c.period
          ORDER BY sn.worker_id, sn.platform_id, sn.scheme_id, sn.period, sn.id DESC) n
    WHERE n.kind = 'shortfall' AND n.expected_minor > (
        SELECT coalesce(sum(l2.worker_minor + l2.platform_minor), 0)
        FROM statements s2 JOIN statement_lines l2 ON l2.statement_id = s2.id AND l2.worker_key = n.worker_id
        WHERE s2.platform_id = n.platform_id AND s2.scheme_id = n.scheme_id AND s2.period = n.period)
), paid AS MATERIALIZED (
    SELECT sl.worker_key AS worker_id, p.scheme_id, p.recognised
    FROM paid_st p JOIN statement_lines sl ON sl.statement_id = p.id
    WHERE sl.worker_minor + sl.platform_minor > 0
      AND NOT EXISTS (SELECT 1 FROM short x WHERE x.worker_id = sl.worker_key AND x.platform_id = p.platform_id
                      AND x.scheme_id = p.scheme_id AND x.period = p.period)
), pcov AS MATERIALIZED (
    -- Paid contributions whose cover (one period from recognition) meets
    -- a period asked for.
    SELECT DISTINCT m.scheme_id, m.period, p.worker_id
    FROM paid p JOIN m ON m.scheme_id = p.scheme_id AND m.basis = 'payment'
    WHERE p.recognised <= m.last_day
      AND (CASE WHEN extract(day FROM p.recognised + make_interval(months => m.cover_months)) < extract(day FROM p.recognised)
                THEN (p.recognised + make_interval(months => m.cover_months))::date
                ELSE (p.recognised + make_interval(months => m.cover_months))::date - 1 END) >= m.first_day
), per_worker AS (
    SELECT a.month,
           CASE WHEN $10 THEN a.scheme_id ELSE '' END AS scheme_id,
           CASE WHEN $11 THEN a.platform_id ELSE '' END AS platform_id,
           CASE WHEN $12 THEN coalesce(sec.sector, '') ELSE '' END AS sector,
           a.worker_id,
           bool_or(wc.worker_id IS NOT NULL OR pc.worker_id IS NOT NULL) AS covered
    FROM wp a
    LEFT JOIN LATERAL (SELECT r.sector FROM registrations r
                       WHERE $12 AND r.worker_key = a.worker_id AND r.platform_id = a.platform_id AND r.scheme_id = a.scheme_id
                         AND r.change IN ('start', 'change') AND r.sector <> '' AND r.effective <= a.last_day
                       ORDER BY r.effective DESC, r.id DESC LIMIT 1) sec ON true
    LEFT JOIN wcov wc ON wc.scheme_id = a.scheme_id AND wc.period = a.period AND wc.worker_id = a.worker_id
    LEFT JOIN pcov pc ON pc.scheme_id = a.scheme_id AND pc.period = a.period AND pc.worker_id = a.worker_id
    WHERE a.active
    GROUP BY 1, 2, 3, 4, 5
)
SELECT month, scheme_id, platform_id, sector, count(*), count(*) FILTER (WHERE covered)
FROM per_worker
GROUP BY 1, 2, 3, 4`

const statisticsMoneySQL = `
WITH m AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS m(scheme_id, period, month)
), due AS (
    SELECT m.month, s.scheme_id, s.platform_id, s.currency, sum(s.total_minor)::bigint AS due
    FROM m JOIN statements s ON s.scheme_id = m.scheme_id AND s.period = m.period
    GROUP BY 1, 2, 3, 4
), paid AS (
    SELECT m.month, o.scheme_id, o.platform_id, o.currency, sum(o.paid_minor)::bigint AS paid
    FROM m JOIN reconciliation_outcomes o ON o.scheme_id = m.scheme_id AND o.period = m.period
    GROUP BY 1, 2, 3, 4
)
SELECT month, CASE WHEN $4 THEN scheme_id ELSE '' END, CASE WHEN $5 THEN platform_id ELSE '' END, currency,
       coalesce(sum(due), 0)::bigint, coalesce(sum(paid), 0)::bigint
FROM due FULL JOIN paid USING (month, scheme_id, platform_id, currency)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4`
