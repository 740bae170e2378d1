package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// LevyWorkerKey is the worker of a platform's entity levy in settlement
// adjustments and statement lines: the levy is the platform's own, not a
// worker's.
const LevyWorkerKey = "platform-levy"

// Settlement adjustment kinds; the first three are gateway.AdjustmentKind
// values.
const (
	AdjustLevy = "levy"
)

// WorkerState is one worker's running totals for a period under one plan.
type WorkerState struct {
	Key   WorkerPeriodKey
	State gateway.PeriodState
	// Others are the worker's running totals on the other platforms under
	// the same plan and period, added up (zero for a worker on one
	// platform); Lead says this row is the worker's first platform with
	// events in the period, the one that carries the worker's notices.
	Others gateway.PeriodState
	Lead   bool
}

// SettlementAdjustment is one row of money a period close moves: a
// settlement adjustment of a worker's period or a platform's levy.
type SettlementAdjustment struct {
	PlatformID   string
	SchemeID     string
	PlanID       string
	PlanVersion  int
	WorkerID     string // LevyWorkerKey for a levy
	Period       string // the period the money belongs to
	BookedPeriod string // the period whose close made it
	Kind         string // refund_provisional, true_up, refund_excess or levy
	Currency     gateway.Currency
	Worker       int64
	Platform     int64
	Detail       any // stored as JSON: what the amounts were computed from
}

// SettlementNotice is a notice a period close asks to send to a worker.
type SettlementNotice struct {
	PlatformID, SchemeID, PlanID, WorkerID string
	Period, BookedPeriod                   string
	Kind                                   string // shortfall or excess
	Currency                               gateway.Currency
	Amount, Expected, Withheld             int64
}

// LevyBase is what a platform's entity levy for a period is computed from:
// the gross and the contribution base of its ledger entries of the period
// booked in closed periods, and the levy already charged for it.
type LevyBase struct {
	PlatformID string
	PlanID     string
	Currency   gateway.Currency
	Gross      int64
	Base       int64
	Charged    int64
}

// Queries of a period's ledger entries name its booked periods as well,
// booked_period >= period (an entry is booked in its own period or a later
// one), so they use the ledger's booked-period index; the ledger carries no
// index of its own for period close, which would cost every event.

// CloseTx is a transaction of one period close: the settling one, which
// holds the period's lock against batches and marks it closed, or the
// stating one that follows. Obtain one with InPeriodClose.
type CloseTx struct {
	tx          pgx.Tx
	scheme      string
	period      string
	at          time.Time
	late        []string
	adjustments int
	statements  int
}

// InPeriodClose closes a scheme's period in two transactions and records
// the close as complete at the end of the second:
//
//  1. settle runs in the transaction that marks the period closed, holding
//     the period's lock exclusively, and the locks of the earlier periods
//     whose late events were booked in it, so no batch books into them or
//     changes their running totals meanwhile;
//  2. state runs once that has committed, holding only a lock of its own
//     against another close of the period: it reads what is booked in
//     closed periods, which no batch changes any more.
//
// When the period's close is already complete it returns false and
// neither runs: closing twice changes nothing. A close that stopped
// between the two runs both again; settle then finds nothing left to
// settle.
func (db *DB) InPeriodClose(ctx context.Context, schemeID, period string, at time.Time, settle, state func(*CloseTx) error) (bool, error) {
	var c *CloseTx
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		c = nil
		late, err := latePeriods(ctx, tx, schemeID, period)
		if err != nil {
			return err
		}
		locked := map[string]bool{}
		lock := func(periods []string) error {
			var keys []int64
			for _, p := range periods {
				if !locked[p] {
					locked[p] = true
					keys = append(keys, periodLock(SchemePeriod{schemeID, p}))
				}
			}
			slices.Sort(keys)
			if len(keys) == 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`, keys); err != nil {
				return fmt.Errorf("lock periods of %s: %w", schemeID, err)
			}
			return nil
		}
		if err := lock(append([]string{period}, late...)); err != nil {
			return err
		}
		if done, err := closeComplete(ctx, tx, schemeID, period); err != nil || done {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO scheme_periods (scheme_id, period, status, closed_at) VALUES ($1, $2, 'closed', $3)
			ON CONFLICT ON CONSTRAINT scheme_periods_pkey DO UPDATE SET status = 'closed',
			       closed_at = coalesce(scheme_periods.closed_at, EXCLUDED.closed_at)`, schemeID, period, at); err != nil {
			return fmt.Errorf("close period %s/%s: %w", schemeID, period, err)
		}
		// Batches that committed while the lock was awaited may have booked
		// late events of further periods here.
		if late, err = latePeriods(ctx, tx, schemeID, period); err != nil {
			return err
		}
		if err := lock(late); err != nil {
			return err
		}
		// What is left in suspense of references registered since moves
		// to the workers before their periods are settled.
		if err := sweepSuspense(ctx, tx, schemeID, append([]string{period}, late...)); err != nil {
			return err
		}
		c = &CloseTx{tx: tx, scheme: schemeID, period: period, at: at, late: late}
		return settle(c)
	})
	if err != nil || c == nil {
		if err != nil {
			err = fmt.Errorf("close %s/%s: %w", schemeID, period, err)
		}
		return false, err
	}
	ran := false
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, stateLock(schemeID, period)); err != nil {
			return fmt.Errorf("lock the statements of %s/%s: %w", schemeID, period, err)
		}
		if done, err := closeComplete(ctx, tx, schemeID, period); err != nil || done {
			return err
		}
		c.tx, c.statements = tx, 0
		if err := state(c); err != nil {
			return err
		}
		// Agents' commissions on what this close stated, in the same
		// transaction: a complete close accrues nothing more.
		for _, p := range append([]string{period}, c.late...) {
			if err := c.accrueAgentCommissions(ctx, p); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO period_closes (scheme_id, period, closed_at, adjustments, statements)
			VALUES ($1, $2, $3, $4, $5)`, schemeID, period, at, c.adjustments, c.statements); err != nil {
			return fmt.Errorf("record close of %s/%s: %w", schemeID, period, err)
		}
		ran = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("state %s/%s: %w", schemeID, period, err)
	}
	return ran, nil
}

func closeComplete(ctx context.Context, tx pgx.Tx, schemeID, period string) (bool, error) {
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM period_closes WHERE scheme_id = $1 AND period = $2)`,
		schemeID, period).Scan(&done); err != nil {
		return false, fmt.Errorf("read close of %s/%s: %w", schemeID, period, err)
	}
	return done, nil
}

// stateLock is the advisory lock that keeps two closes of one period from
// stating it at once.
func stateLock(schemeID, period string) int64 {
	return periodLock(SchemePeriod{SchemeID: "state\x00" + schemeID, Period: period})
}

// latePeriods lists the earlier periods of a scheme with late entries
// booked in period.
func latePeriods(ctx context.Context, tx pgx.Tx, schemeID, period string) ([]string, error) {
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT period FROM ledger_entries WHERE scheme_id = $1 AND booked_period = $2 AND period <> $2
		ORDER BY 1`, schemeID, period)
	if err != nil {
		return nil, fmt.Errorf("list late periods of %s/%s: %w", schemeID, period, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// PeriodsToState returns the scheme periods that have ledger entries booked
// and whose close is not complete, in scheme and period order.
func (db *DB) PeriodsToState(ctx context.Context) ([]SchemePeriod, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT DISTINCT b.scheme_id, b.period FROM platform_period_balances b
		WHERE NOT EXISTS (SELECT 1 FROM period_closes c WHERE c.scheme_id = b.scheme_id AND c.period = b.period)
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list periods to close: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SchemePeriod])
}

// PeriodClosed reports whether a scheme period's close is complete.
func (db *DB) PeriodClosed(ctx context.Context, schemeID, period string) (bool, error) {
	var done bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM period_closes WHERE scheme_id = $1 AND period = $2)`,
		schemeID, period).Scan(&done)
	return done, err
}

// Scheme is the scheme being closed; Period the period.
func (c *CloseTx) Scheme() string { return c.scheme }

// Period is the period being closed.
func (c *CloseTx) Period() string { return c.period }

// LatePeriods are the earlier periods with late entries booked in the
// period being closed, oldest first.
func (c *CloseTx) LatePeriods() []string { return slices.Clone(c.late) }

// WorkerStates calls fn with the running totals of the workers of period,
// in pages of at most pageSize, in no particular order. With lateOnly, only the
// workers with late entries of period booked in the period being closed.
// fn may write through c between pages.
func (c *CloseTx) WorkerStates(ctx context.Context, period string, lateOnly bool, pageSize int, fn func([]WorkerState) error) error {
	const cols = `w.worker_id, w.platform_id, w.plan_id, w.currency, w.events, w.gross, w.base, w.insured, w.orders,
		w.units, w.worker_minor, w.platform_minor, w.settled_worker, w.settled_platform,
		w.o_events, w.o_base, w.o_worker, w.o_platform, w.o_settled_worker, w.o_settled_platform, w.lead`
	// Each row with the totals of the same worker's rows on other
	// platforms, and whether it is the worker's first platform with events.
	// The workers on several platforms are found by one hash aggregation of
	// the period's rows (a window over them sorted a million rows by a
	// 64-character key: slower).
	const rows = `(SELECT w.*,
		       coalesce(g.events - w.events, 0) AS o_events, coalesce(g.base - w.base, 0) AS o_base,
		       coalesce(g.worker_minor - w.worker_minor, 0) AS o_worker,
		       coalesce(g.platform_minor - w.platform_minor, 0) AS o_platform,
		       coalesce(g.settled_worker - w.settled_worker, 0) AS o_settled_worker,
		       coalesce(g.settled_platform - w.settled_platform, 0) AS o_settled_platform,
		       w.events <> 0 AND (g.first IS NULL OR g.first = w.platform_id) AS lead
		FROM worker_periods w
		LEFT JOIN (SELECT worker_id, plan_id, sum(events) AS events, sum(base) AS base, sum(worker_minor) AS worker_minor,
		                  sum(platform_minor) AS platform_minor, sum(settled_worker) AS settled_worker,
		                  sum(settled_platform) AS settled_platform,
		                  min(platform_id COLLATE "C") FILTER (WHERE events <> 0) AS first
		           FROM worker_periods WHERE scheme_id = $1 AND period = $2
		           GROUP BY worker_id, plan_id HAVING count(*) > 1) g USING (worker_id, plan_id)
		WHERE w.scheme_id = $1 AND w.period = $2) w`
	query := `SELECT ` + cols + ` FROM ` + rows
	args := []any{c.scheme, period}
	if lateOnly {
		// An entry moved out of suspense counts for the worker it was
		// moved to, whose running totals took it (suspense.go).
		query = `SELECT ` + cols + ` FROM ` + rows + `
			JOIN (SELECT DISTINCT ` + attributedWorker + ` AS worker_id, l.platform_id, l.plan_id FROM ledger_entries l
			      LEFT JOIN suspense_transfers t ON t.entry_id = l.id
			      WHERE l.scheme_id = $1 AND l.booked_period = $3 AND l.period = $2) l USING (worker_id, platform_id, plan_id)`
		args = append(args, c.period)
	}
	pageSize = cmp.Or(pageSize, 10_000)
	// Every row is read: plan for all of them, not the first (a cursor's
	// default), and aggregate a million worker periods in memory.
	if _, err := c.tx.Exec(ctx, `SET LOCAL cursor_tuple_fraction = 1; SET LOCAL work_mem = '256MB'`); err != nil {
		return fmt.Errorf("set the planner for the worker periods: %w", err)
	}
	return c.cursor(ctx, "worker_states", query, args, pageSize, func(rows pgx.Rows) error {
		page := make([]WorkerState, 0, pageSize)
		for rows.Next() {
			var w WorkerState
			var cur string
			s := &w.State
			o := &w.Others
			if err := rows.Scan(&w.Key.WorkerID, &w.Key.PlatformID, &w.Key.PlanID, &cur, &s.Events, &s.Gross, &s.Base,
				&s.Insured, &s.Orders, &s.Units, &s.Worker, &s.Platform, &s.SettledWorker, &s.SettledPlatform,
				&o.Events, &o.Base, &o.Worker, &o.Platform, &o.SettledWorker, &o.SettledPlatform, &w.Lead); err != nil {
				return err
			}
			w.Key.SchemeID, w.Key.Period = c.scheme, period
			s.Period, s.Currency = period, gateway.Currency(strings.TrimSpace(cur))
			if o.Events != 0 || o.Base != 0 || o.Worker != 0 || o.Platform != 0 {
				o.Period, o.Currency = period, s.Currency
			}
			page = append(page, w)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page) == 0 {
			return errNoMoreRows
		}
		return fn(page)
	})
}

// errNoMoreRows ends a cursor loop.
var errNoMoreRows = fmt.Errorf("no more rows")

// cursor runs query through a server-side cursor, calling page with each
// batch of at most size rows until a batch is empty (page returns
// errNoMoreRows) or page fails. Between batches the transaction is free for
// other statements.
func (c *CloseTx) cursor(ctx context.Context, name, query string, args []any, size int, page func(pgx.Rows) error) error {
	if _, err := c.tx.Exec(ctx, `DECLARE `+name+` NO SCROLL CURSOR FOR `+query, args...); err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer c.tx.Exec(context.WithoutCancel(ctx), `CLOSE `+name) //nolint:errcheck
	fetch := fmt.Sprintf(`FETCH %d FROM %s`, size, name)
	for {
		rows, err := c.tx.Query(ctx, fetch)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		err = page(rows)
		rows.Close()
		switch {
		case err == errNoMoreRows:
			return nil
		case err != nil:
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
}

// SelectedPlans returns the plan each of workers had selected under scheme
// on day (a date, "2006-01-02"): the plan of its latest registration step
// under the scheme on or before that day, none when that step ended the
// registration or the worker has none there.
func (c *CloseTx) SelectedPlans(ctx context.Context, scheme string, workers []string, day string) (map[string]string, error) {
	out := map[string]string{}
	if len(workers) == 0 {
		return out, nil
	}
	rows, err := c.tx.Query(ctx, `
		SELECT DISTINCT ON (worker_key) worker_key, change, plan_id FROM registrations
		WHERE scheme_id = $1 AND worker_key = ANY($2) AND effective <= $3::date AND (plan_id <> '' OR change = 'end')
		ORDER BY worker_key, effective DESC, id DESC`, scheme, workers, day)
	if err != nil {
		return nil, fmt.Errorf("read selected plans under %s: %w", scheme, err)
	}
	var worker, change, plan string
	_, err = pgx.ForEachRow(rows, []any{&worker, &change, &plan}, func() error {
		if change != RegistrationEnd {
			out[worker] = plan
		}
		return nil
	})
	return out, err
}

// SetSettled stores what the close settled in the workers' running
// totals, so closing again after late events settles only the difference.
func (c *CloseTx) SetSettled(ctx context.Context, states []WorkerState) error {
	if len(states) == 0 {
		return nil
	}
	states = slices.Clone(states)
	slices.SortFunc(states, func(a, b WorkerState) int {
		return cmp.Or(cmp.Compare(a.Key.WorkerID, b.Key.WorkerID), cmp.Compare(a.Key.PlatformID, b.Key.PlatformID),
			cmp.Compare(a.Key.PlanID, b.Key.PlanID), cmp.Compare(a.Key.Period, b.Key.Period))
	})
	n := len(states)
	workers, platforms, plans, periods := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	sw, sp := make([]int64, n), make([]int64, n)
	for i, s := range states {
		workers[i], platforms[i], plans[i], periods[i] = s.Key.WorkerID, s.Key.PlatformID, s.Key.PlanID, s.Key.Period
		sw[i], sp[i] = s.State.SettledWorker, s.State.SettledPlatform
	}
	_, err := c.tx.Exec(ctx, `
		UPDATE worker_periods w SET settled_worker = u.sw, settled_platform = u.sp, updated_at = now()
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[]) AS u(worker, platform, plan, period, sw, sp)
		WHERE w.worker_id = u.worker AND w.platform_id = u.platform AND w.scheme_id = $1 AND w.plan_id = u.plan AND w.period = u.period`,
		c.scheme, workers, platforms, plans, periods, sw, sp)
	if err != nil {
		return fmt.Errorf("store settled totals of %d workers: %w", n, err)
	}
	return nil
}

// AppendAdjustments adds settlement adjustments and levies; they count in
// the statements of their period.
func (c *CloseTx) AppendAdjustments(ctx context.Context, adjs []SettlementAdjustment) error {
	if len(adjs) == 0 {
		return nil
	}
	rows := make([][]any, len(adjs))
	for i, a := range adjs {
		var d any = map[string]any{}
		if a.Detail != nil {
			d = a.Detail
		}
		detail, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("adjustment detail: %w", err)
		}
		rows[i] = []any{a.PlatformID, a.SchemeID, a.PlanID, a.PlanVersion, a.WorkerID, a.Period, a.BookedPeriod,
			a.BookedPeriod != a.Period, a.Kind, string(a.Currency), a.Worker, a.Platform, string(detail), c.at}
	}
	_, err := c.tx.CopyFrom(ctx, pgx.Identifier{"settlement_adjustments"},
		[]string{"platform_id", "scheme_id", "plan_id", "plan_version", "worker_id", "period", "booked_period", "late",
			"kind", "currency", "worker_minor", "platform_minor", "detail", "created_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("append %d settlement adjustments: %w", len(adjs), err)
	}
	c.adjustments += len(adjs)
	return nil
}

// AppendNotices records notices to workers.
func (c *CloseTx) AppendNotices(ctx context.Context, ns []SettlementNotice) error {
	if len(ns) == 0 {
		return nil
	}
	rows := make([][]any, len(ns))
	for i, n := range ns {
		rows[i] = []any{n.PlatformID, n.SchemeID, n.PlanID, n.WorkerID, n.Period, n.BookedPeriod, n.Kind,
			string(n.Currency), n.Amount, n.Expected, n.Withheld, c.at}
	}
	_, err := c.tx.CopyFrom(ctx, pgx.Identifier{"settlement_notices"},
		[]string{"platform_id", "scheme_id", "plan_id", "worker_id", "period", "booked_period", "kind",
			"currency", "amount_minor", "expected_minor", "withheld_minor", "created_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("append %d notices: %w", len(ns), err)
	}
	return nil
}

// LevyBases returns, per platform and plan, the gross and base of the
// ledger entries of period booked in closed periods, and the levy already
// charged for the period.
func (c *CloseTx) LevyBases(ctx context.Context, period string) ([]LevyBase, error) {
	rows, err := c.tx.Query(ctx, `
		WITH e AS (
			SELECT l.platform_id, l.plan_id, l.currency, sum(l.gross_minor)::bigint AS gross, sum(l.base_minor)::bigint AS base
			FROM ledger_entries l JOIN scheme_periods p ON p.scheme_id = l.scheme_id AND p.period = l.booked_period AND p.status = 'closed'
			WHERE l.scheme_id = $1 AND l.booked_period >= $2 AND l.period = $2
			GROUP BY l.platform_id, l.plan_id, l.currency
		), a AS (
			SELECT platform_id, plan_id, sum(platform_minor)::bigint AS charged FROM settlement_adjustments
			WHERE scheme_id = $1 AND period = $2 AND kind = 'levy' GROUP BY platform_id, plan_id
		)
		SELECT e.platform_id, e.plan_id, e.currency, e.gross, e.base, coalesce(a.charged, 0)
		FROM e LEFT JOIN a USING (platform_id, plan_id) ORDER BY 1, 2`, c.scheme, period)
	if err != nil {
		return nil, fmt.Errorf("read levy bases of %s/%s: %w", c.scheme, period, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (LevyBase, error) {
		var b LevyBase
		var cur string
		err := row.Scan(&b.PlatformID, &b.PlanID, &cur, &b.Gross, &b.Base, &b.Charged)
		b.Currency = gateway.Currency(strings.TrimSpace(cur))
		return b, err
	})
}

// StatementPlatforms returns the platforms with entries or adjustments of
// period booked in bookedIn, or, when bookedIn is empty, in any closed
// period, sorted.
func (c *CloseTx) StatementPlatforms(ctx context.Context, period, bookedIn string) ([]string, error) {
	rows, err := c.tx.Query(ctx, `
		SELECT platform_id FROM (
			SELECT DISTINCT platform_id, booked_period FROM ledger_entries WHERE scheme_id = $1 AND booked_period >= $2 AND period = $2
			UNION
			SELECT DISTINCT platform_id, booked_period FROM settlement_adjustments WHERE scheme_id = $1 AND period = $2
		) e
		WHERE CASE WHEN $3 = '' THEN EXISTS (SELECT 1 FROM scheme_periods p WHERE p.scheme_id = $1
		                                     AND p.period = e.booked_period AND p.status = 'closed')
		           ELSE e.booked_period = $3 END
		GROUP BY platform_id ORDER BY platform_id`, c.scheme, period, bookedIn)
	if err != nil {
		return nil, fmt.Errorf("list platforms of %s/%s: %w", c.scheme, period, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// PlatformEntries streams what the statements of period add up, platform
// by platform in id order: each platform's ledger entries and settlement
// adjustments of the period booked in closed periods, summed per worker (an
// entry moved out of suspense under the worker it was moved to),
// lateness and booked period, as statement entries of the scheme code,
// with the number of late rows summed. With bookedIn, only the platforms
// with entries or adjustments of the period booked in bookedIn. One query
// read through a cursor: fn may write through c.
func (c *CloseTx) PlatformEntries(ctx context.Context, schemeCode, period, bookedIn string,
	fn func(platformID string, entries []statement.Entry, lateRows int) error) error {
	if _, err := c.tx.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
		return fmt.Errorf("set work_mem: %w", err)
	}
	query := `
		SELECT platform_id, worker_id, late, booked_period, currency, sum(worker_minor)::bigint, sum(platform_minor)::bigint, count(*)
		FROM (
			SELECT l.platform_id, ` + attributedWorker + ` AS worker_id, l.late, l.booked_period, l.currency, l.worker_minor,
			       l.platform_minor
			FROM ledger_entries l LEFT JOIN suspense_transfers t ON t.entry_id = l.id
			WHERE l.scheme_id = $1 AND l.booked_period >= $2 AND l.period = $2
			UNION ALL
			SELECT platform_id, worker_id, late, booked_period, currency, worker_minor, platform_minor FROM settlement_adjustments
			WHERE scheme_id = $1 AND period = $2
		) e
		WHERE booked_period IN (SELECT period FROM scheme_periods WHERE scheme_id = $1 AND status = 'closed')
		  AND ($3 = '' OR platform_id IN (
		        SELECT platform_id FROM ledger_entries WHERE scheme_id = $1 AND booked_period = $3 AND period = $2
		        UNION SELECT platform_id FROM settlement_adjustments WHERE scheme_id = $1 AND period = $2 AND booked_period = $3))
		GROUP BY platform_id, worker_id, late, booked_period, currency
		ORDER BY platform_id`
	var platform string
	var entries []statement.Entry
	late := 0
	flush := func() error {
		if platform == "" {
			return nil
		}
		err := fn(platform, entries, late)
		platform, entries, late = "", entries[:0], 0
		return err
	}
	type row struct {
		platform string
		e        statement.Entry
		n        int
	}
	page := make([]row, 0, 20_000)
	err := c.cursor(ctx, "platform_entries", query, []any{c.scheme, period, bookedIn}, 20_000, func(rows pgx.Rows) error {
		page = page[:0]
		for rows.Next() {
			var r row
			var cur string
			r.e = statement.Entry{Scheme: schemeCode, Period: period}
			if err := rows.Scan(&r.platform, &r.e.WorkerKey, &r.e.Late, &r.e.BookedPeriod, &cur, &r.e.WorkerMinor, &r.e.PlatformMinor, &r.n); err != nil {
				return err
			}
			r.e.Platform, r.e.Currency = r.platform, gateway.Currency(strings.TrimSpace(cur))
			page = append(page, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page) == 0 {
			return errNoMoreRows
		}
		// The page is read whole: fn may use the connection.
		for _, r := range page {
			if r.platform != platform {
				if err := flush(); err != nil {
					return err
				}
				platform = r.platform
			}
			if r.e.Late {
				late += r.n
			}
			entries = append(entries, r.e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// Statements returns the issued statements of a platform, scheme and
// period with their lines, by number.
func (c *CloseTx) Statements(ctx context.Context, platformID, period string) ([]statement.Statement, error) {
	sts, err := readStatements(ctx, c.tx, `WHERE s.platform_id = $1 AND s.scheme_id = $2 AND s.period = $3 ORDER BY s.seq`,
		platformID, c.scheme, period)
	if err != nil {
		return nil, err
	}
	for i := range sts {
		if sts[i].Lines, err = readLines(ctx, c.tx, &sts[i]); err != nil {
			return nil, err
		}
	}
	return sts, nil
}

// PeriodStated reports whether a period of the scheme being closed has a
// complete close.
func (c *CloseTx) PeriodStated(ctx context.Context, period string) (bool, error) {
	var done bool
	err := c.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM period_closes WHERE scheme_id = $1 AND period = $2)`,
		c.scheme, period).Scan(&done)
	return done, err
}

// PlatformNumber returns the platform's number in RF references, giving it
// one on first use.
func (c *CloseTx) PlatformNumber(ctx context.Context, platformID string) (uint64, error) {
	m, err := c.PlatformNumbers(ctx, []string{platformID})
	return m[platformID], err
}

// PlatformNumbers returns the platforms' numbers in RF references, giving
// a number to each that has none yet, in id order.
func (c *CloseTx) PlatformNumbers(ctx context.Context, platformIDs []string) (map[string]uint64, error) {
	ids := slices.Clone(platformIDs)
	slices.Sort(ids)
	if _, err := c.tx.Exec(ctx, `INSERT INTO platform_numbers (platform_id) SELECT unnest($1::text[]) ORDER BY 1
		ON CONFLICT ON CONSTRAINT platform_numbers_pkey DO NOTHING`, ids); err != nil {
		return nil, fmt.Errorf("number platforms: %w", err)
	}
	rows, err := c.tx.Query(ctx, `SELECT platform_id, number FROM platform_numbers WHERE platform_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("number platforms: %w", err)
	}
	out := make(map[string]uint64, len(ids))
	var id string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error { out[id] = uint64(n); return nil })
	return out, err
}

// IssueStatement stores a statement built for the scheme being closed,
// with its lines. Its key names the scheme by code.
func (c *CloseTx) IssueStatement(ctx context.Context, st *statement.Statement) error {
	return c.IssueStatements(ctx, []*statement.Statement{st})
}

// IssueStatements stores statements built for the scheme being closed,
// with their lines: the headers in one statement, the lines in one COPY.
func (c *CloseTx) IssueStatements(ctx context.Context, sts []*statement.Statement) error {
	if err := insertStatements(ctx, c.tx, c.scheme, c.period, sts); err != nil {
		return err
	}
	c.statements += len(sts)
	return nil
}
