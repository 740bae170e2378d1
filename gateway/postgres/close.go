package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
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

// CloseTx is the transaction of one period close: the period is locked
// against batches booking into it and marked closed. Obtain one with
// InPeriodClose.
type CloseTx struct {
	tx          pgx.Tx
	scheme      string
	period      string
	at          time.Time
	late        []string
	adjustments int
	statements  int
}

// InPeriodClose closes a scheme's period and runs fn in the same
// transaction, which then records the close as complete. It holds the
// period's lock exclusively, and the locks of the earlier periods whose
// late events were booked in it, so no batch books into them meanwhile.
// When the period's close is already complete it returns false and fn
// does not run: closing twice changes nothing.
func (db *DB) InPeriodClose(ctx context.Context, schemeID, period string, at time.Time, fn func(*CloseTx) error) (bool, error) {
	ran := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
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
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM period_closes WHERE scheme_id = $1 AND period = $2)`,
			schemeID, period).Scan(&done); err != nil {
			return fmt.Errorf("read close of %s/%s: %w", schemeID, period, err)
		}
		if done {
			return nil
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
		c := &CloseTx{tx: tx, scheme: schemeID, period: period, at: at, late: late}
		if err := fn(c); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO period_closes (scheme_id, period, closed_at, adjustments, statements)
			VALUES ($1, $2, $3, $4, $5)`, schemeID, period, at, c.adjustments, c.statements); err != nil {
			return fmt.Errorf("record close of %s/%s: %w", schemeID, period, err)
		}
		ran = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("close %s/%s: %w", schemeID, period, err)
	}
	return ran, nil
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
		w.units, w.worker_minor, w.platform_minor, w.settled_worker, w.settled_platform`
	query := `SELECT ` + cols + ` FROM worker_periods w WHERE w.scheme_id = $1 AND w.period = $2`
	args := []any{c.scheme, period}
	if lateOnly {
		query = `SELECT ` + cols + ` FROM worker_periods w
			JOIN (SELECT DISTINCT worker_id, platform_id, plan_id FROM ledger_entries
			      WHERE scheme_id = $1 AND period = $2 AND booked_period = $3) l USING (worker_id, platform_id, plan_id)
			WHERE w.scheme_id = $1 AND w.period = $2`
		args = append(args, c.period)
	}
	pageSize = cmp.Or(pageSize, 10_000)
	return c.cursor(ctx, "worker_states", query, args, pageSize, func(rows pgx.Rows) error {
		page := make([]WorkerState, 0, pageSize)
		for rows.Next() {
			var w WorkerState
			var cur string
			s := &w.State
			if err := rows.Scan(&w.Key.WorkerID, &w.Key.PlatformID, &w.Key.PlanID, &cur, &s.Events, &s.Gross, &s.Base,
				&s.Insured, &s.Orders, &s.Units, &s.Worker, &s.Platform, &s.SettledWorker, &s.SettledPlatform); err != nil {
				return err
			}
			w.Key.SchemeID, w.Key.Period = c.scheme, period
			s.Period, s.Currency = period, gateway.Currency(strings.TrimSpace(cur))
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
			WHERE l.scheme_id = $1 AND l.period = $2
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
			SELECT DISTINCT platform_id, booked_period FROM ledger_entries WHERE scheme_id = $1 AND period = $2
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

// StatementEntries streams what a platform's statements of a period add
// up: its ledger entries and settlement adjustments of the period booked in
// closed periods, summed per worker, lateness and booked period, as
// statement entries of the scheme code. After the sequence ends, done
// returns the number of late rows summed and the first error.
func (c *CloseTx) StatementEntries(ctx context.Context, platformID, schemeCode, period string) (seq iter.Seq[statement.Entry], done func() (late int, err error)) {
	var lateRows int
	var failed error
	seq = func(yield func(statement.Entry) bool) {
		rows, err := c.tx.Query(ctx, `
			SELECT worker_id, late, booked_period, currency, sum(worker_minor)::bigint, sum(platform_minor)::bigint, count(*)
			FROM (
				SELECT worker_id, late, booked_period, currency, worker_minor, platform_minor FROM ledger_entries
				WHERE scheme_id = $1 AND platform_id = $2 AND period = $3
				UNION ALL
				SELECT worker_id, late, booked_period, currency, worker_minor, platform_minor FROM settlement_adjustments
				WHERE scheme_id = $1 AND platform_id = $2 AND period = $3
			) e
			WHERE EXISTS (SELECT 1 FROM scheme_periods p WHERE p.scheme_id = $1 AND p.period = e.booked_period AND p.status = 'closed')
			GROUP BY worker_id, late, booked_period, currency`, c.scheme, platformID, period)
		if err != nil {
			failed = fmt.Errorf("read entries of %s/%s/%s: %w", platformID, c.scheme, period, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			e := statement.Entry{Platform: platformID, Scheme: schemeCode, Period: period}
			var cur string
			var n int
			if err := rows.Scan(&e.WorkerKey, &e.Late, &e.BookedPeriod, &cur, &e.WorkerMinor, &e.PlatformMinor, &n); err != nil {
				failed = err
				return
			}
			e.Currency = gateway.Currency(strings.TrimSpace(cur))
			if e.Late {
				lateRows += n
			}
			if !yield(e) {
				return
			}
		}
		failed = rows.Err()
	}
	return seq, func() (int, error) { return lateRows, failed }
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
	if _, err := c.tx.Exec(ctx, `INSERT INTO platform_numbers (platform_id) VALUES ($1)
		ON CONFLICT ON CONSTRAINT platform_numbers_pkey DO NOTHING`, platformID); err != nil {
		return 0, fmt.Errorf("number platform %s: %w", platformID, err)
	}
	var n int64
	if err := c.tx.QueryRow(ctx, `SELECT number FROM platform_numbers WHERE platform_id = $1`, platformID).Scan(&n); err != nil {
		return 0, fmt.Errorf("number platform %s: %w", platformID, err)
	}
	return uint64(n), nil
}

// IssueStatement stores a statement built for the scheme being closed and
// its lines. Its key names the scheme by code; schemeID is the scheme's id.
func (c *CloseTx) IssueStatement(ctx context.Context, st *statement.Statement) error {
	if err := insertStatement(ctx, c.tx, c.scheme, c.period, st); err != nil {
		return err
	}
	c.statements++
	return nil
}
