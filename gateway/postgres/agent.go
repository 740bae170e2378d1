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

// Registration agents file registrations on a platform's behalf and earn a
// commission on the contributions of the workers they registered: at each
// period close, per agent, platform, scheme, period and worker, the rate in
// force (agent_commission_rates: the scheme's, else the default) times the
// worker's contributions (worker and platform shares) of the period stated
// so far, rounded half up with gateway.ApplyRate, less what earlier closes
// accrued. The worker's agent is the one named by the worker's latest start
// registration with the platform under the scheme that names one.

// DefaultAgentCommission is the commission rate of agents until the
// configuration sets one: 5% of contributions, as Malaysia's SKSPS pays its
// registration agents.
var DefaultAgentCommission = gateway.MustParseRate("5%")

// Agent is a registration agent of a platform.
type Agent struct {
	PlatformID string
	AgentID    string
	Name       string
	CreatedAt  time.Time
}

// CreateAgent declares an agent of a platform. Declaring the same agent
// again with the same name returns the stored one (created false); with
// another name it is a conflict.
func (db *DB) CreateAgent(ctx context.Context, a Agent) (Agent, bool, error) {
	created := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO agents (platform_id, agent_id, name) VALUES ($1, $2, $3)
			ON CONFLICT ON CONSTRAINT agents_pkey DO NOTHING`, a.PlatformID, a.AgentID, a.Name)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		var name string
		if err := tx.QueryRow(ctx, `SELECT name, created_at FROM agents WHERE platform_id = $1 AND agent_id = $2`,
			a.PlatformID, a.AgentID).Scan(&name, &a.CreatedAt); err != nil {
			return err
		}
		if name != a.Name {
			return gateway.Errorf(gateway.ECONFLICT, "agent %q is already declared with another name", a.AgentID)
		}
		return nil
	})
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.ConstraintName == "agents_platform_fkey":
		return a, false, gateway.Errorf(gateway.ENOTFOUND, "no platform %q", a.PlatformID)
	case errors.As(err, &pe) && pe.ConstraintName == "agents_id_check":
		return a, false, gateway.Invalid("agent_id", "bad_agent_id",
			"agent_id is 1 to 63 letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
	case errors.As(err, &pe) && pe.ConstraintName == "agents_name_check":
		return a, false, gateway.Invalid("name", "required", "name is required")
	case err != nil:
		return a, false, fmt.Errorf("declare agent: %w", err)
	}
	return a, created, nil
}

// Agents returns a platform's agents by id.
func (db *DB) Agents(ctx context.Context, platformID string) ([]Agent, error) {
	rows, err := db.Pool.Query(ctx, `SELECT platform_id, agent_id, name, created_at FROM agents
		WHERE platform_id = $1 ORDER BY agent_id`, platformID)
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Agent])
}

// SetAgentCommissionRates stores the commission rates of agents: def for
// every scheme without its own, and one per scheme in byScheme. Schemes no
// longer named fall back to def. Closes accrue with the rates stored when
// they run.
func (db *DB) SetAgentCommissionRates(ctx context.Context, def gateway.Rate, byScheme map[string]gateway.Rate) error {
	schemes := []string{""}
	rates := []string{def.String()}
	for s, r := range byScheme {
		if s == "" {
			return gateway.Invalid("scheme_id", "required", "a per-scheme commission rate names its scheme")
		}
		schemes, rates = append(schemes, s), append(rates, r.String())
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM agent_commission_rates WHERE scheme_id <> ALL($1)`, schemes); err != nil {
			return fmt.Errorf("store agent commission rates: %w", err)
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO agent_commission_rates (scheme_id, rate)
			SELECT * FROM unnest($1::text[], $2::text[])
			ON CONFLICT ON CONSTRAINT agent_commission_rates_pkey DO UPDATE SET rate = EXCLUDED.rate, updated_at = now()
			WHERE agent_commission_rates.rate <> EXCLUDED.rate`, schemes, rates)
		if err != nil {
			return fmt.Errorf("store agent commission rates: %w", err)
		}
		return nil
	})
}

// agentRate returns the commission rate of agents under a scheme.
func agentRate(ctx context.Context, tx pgx.Tx, schemeID string) (gateway.Rate, error) {
	var text string
	err := tx.QueryRow(ctx, `SELECT rate FROM agent_commission_rates WHERE scheme_id IN ($1, '')
		ORDER BY scheme_id DESC LIMIT 1`, schemeID).Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultAgentCommission, nil
	}
	if err != nil {
		return gateway.Rate{}, fmt.Errorf("read agent commission rate: %w", err)
	}
	r, err := gateway.ParseRate(text)
	if err != nil {
		return gateway.Rate{}, fmt.Errorf("agent commission rate of %q: %w", schemeID, err)
	}
	return r, nil
}

// accrueAgentCommissions accrues the commissions of the period of the
// scheme being closed: for each worker registered by an agent, the
// commission on the contributions of the period booked in closed periods
// (this close's included) less what was accrued before, in rows booked in
// the period being closed.
func (c *CloseTx) accrueAgentCommissions(ctx context.Context, period string) error {
	var agents bool
	if err := c.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM registrations WHERE scheme_id = $1 AND agent_id <> '')`,
		c.scheme).Scan(&agents); err != nil {
		return fmt.Errorf("look for agents of %s: %w", c.scheme, err)
	}
	if !agents {
		return nil
	}
	rate, err := agentRate(ctx, c.tx, c.scheme)
	if err != nil {
		return err
	}
	rows, err := c.tx.Query(ctx, `
		WITH closed AS (
			SELECT period FROM scheme_periods WHERE scheme_id = $1 AND status = 'closed'
		), agent AS (
			SELECT DISTINCT ON (platform_id, worker_key) platform_id, worker_key AS worker_id, agent_id FROM registrations
			WHERE scheme_id = $1 AND change = 'start' AND agent_id <> ''
			ORDER BY platform_id, worker_key, effective DESC, id DESC
		), contribution AS (
			SELECT l.platform_id, `+attributedWorker+` AS worker_id, l.currency, l.worker_minor + l.platform_minor AS amount
			FROM ledger_entries l LEFT JOIN suspense_transfers t ON t.entry_id = l.id
			WHERE l.scheme_id = $1 AND l.booked_period >= $2 AND l.period = $2 AND l.booked_period IN (SELECT period FROM closed)
			UNION ALL
			SELECT platform_id, worker_id, currency, worker_minor + platform_minor FROM settlement_adjustments
			WHERE scheme_id = $1 AND period = $2 AND kind <> 'levy' AND booked_period IN (SELECT period FROM closed)
		), base AS (
			SELECT a.agent_id, c.platform_id, c.worker_id, c.currency, sum(c.amount)::bigint AS base
			FROM contribution c JOIN agent a USING (platform_id, worker_id)
			GROUP BY 1, 2, 3, 4
		), accrued AS (
			SELECT agent_id, platform_id, worker_id, sum(base_minor)::bigint AS base, sum(commission_minor)::bigint AS commission
			FROM agent_commissions WHERE scheme_id = $1 AND period = $2 GROUP BY 1, 2, 3
		)
		SELECT b.agent_id, b.platform_id, b.worker_id, trim(b.currency), b.base, coalesce(a.base, 0), coalesce(a.commission, 0)
		FROM base b LEFT JOIN accrued a USING (agent_id, platform_id, worker_id)
		ORDER BY 1, 2, 3`, c.scheme, period)
	if err != nil {
		return fmt.Errorf("read agents' contributions of %s/%s: %w", c.scheme, period, err)
	}
	type accrual struct {
		agent, platform, worker, currency string
		base, accruedBase, accrued        int64
	}
	var as []accrual
	var a accrual
	_, err = pgx.ForEachRow(rows, []any{&a.agent, &a.platform, &a.worker, &a.currency, &a.base, &a.accruedBase, &a.accrued},
		func() error { as = append(as, a); return nil })
	if err != nil {
		return fmt.Errorf("read agents' contributions of %s/%s: %w", c.scheme, period, err)
	}
	var out [][]any
	for _, a := range as {
		total, err := gateway.ApplyRate(gateway.NewMoney(a.base, gateway.Currency(a.currency)), rate, gateway.RoundHalfUp)
		if err != nil {
			return fmt.Errorf("commission of agent %s on %s/%s: %w", a.agent, c.scheme, period, err)
		}
		dBase, dCommission := a.base-a.accruedBase, total.Amount-a.accrued
		if dBase == 0 && dCommission == 0 {
			continue
		}
		out = append(out, []any{a.agent, a.platform, c.scheme, period, c.period, a.worker, a.currency, dBase,
			rate.String(), dCommission, c.at})
	}
	if len(out) == 0 {
		return nil
	}
	_, err = c.tx.CopyFrom(ctx, pgx.Identifier{"agent_commissions"},
		[]string{"agent_id", "platform_id", "scheme_id", "period", "booked_period", "worker_id", "currency", "base_minor",
			"rate", "commission_minor", "accrued_at"}, pgx.CopyFromRows(out))
	if err != nil {
		return fmt.Errorf("accrue %d agent commissions of %s/%s: %w", len(out), c.scheme, period, err)
	}
	return nil
}

// AgentCommission is one accrual of an agent's commission.
type AgentCommission struct {
	AgentID      string
	PlatformID   string
	SchemeID     string
	Period       string
	BookedPeriod string
	WorkerID     string
	Currency     string
	Base         int64
	Rate         string
	Commission   int64
	AccruedAt    time.Time
}

// AgentCommissionFilter selects accruals; empty fields select all.
type AgentCommissionFilter struct {
	Period     string // the period the contributions belong to
	SchemeID   string
	PlatformID string
	AgentID    string
}

// AgentCommissions returns the accruals that f selects, by scheme, period,
// platform, agent, worker and booking; at most limit (default 1,000, at
// most 10,000) after skipping offset.
func (db *DB) AgentCommissions(ctx context.Context, f AgentCommissionFilter, limit, offset int) ([]AgentCommission, error) {
	limit = min(max(limit, 0), 10_000)
	if limit == 0 {
		limit = 1_000
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT agent_id, platform_id, scheme_id, period, booked_period, worker_id, trim(currency), base_minor, rate,
		       commission_minor, accrued_at
		FROM agent_commissions
		WHERE ($1 = '' OR period = $1) AND ($2 = '' OR scheme_id = $2) AND ($3 = '' OR platform_id = $3) AND ($4 = '' OR agent_id = $4)
		ORDER BY scheme_id, period, platform_id, agent_id, worker_id, booked_period
		LIMIT $5 OFFSET $6`, f.Period, f.SchemeID, f.PlatformID, f.AgentID, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("read agent commissions: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AgentCommission])
	if err != nil {
		return nil, fmt.Errorf("read agent commissions: %w", err)
	}
	return cs, nil
}
