-- Earnings kept in suspense move to the worker once registered, and
-- registration agents earn a commission on their workers' contributions.

-- A move of one suspense ledger entry (an entry of a worker the platform had
-- not registered, kept under the platform's own reference) to the worker a
-- later registration of that reference names. The ledger is not edited: the
-- entry stays as recorded, and readers that attribute money to workers
-- (period close, statements, agent commissions) read its worker here. Each
-- entry moves at most once. entry_id is ledger_entries.id, without a foreign
-- key: the ledger stays free to be truncated by nobody but its own trigger,
-- and to be partitioned.
CREATE TABLE suspense_transfers (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    entry_id        bigint      NOT NULL,
    registration_id bigint      NOT NULL,
    platform_id     text        NOT NULL,
    scheme_id       text        NOT NULL,
    worker_ref      text        NOT NULL,
    from_worker_id  text        NOT NULL,
    to_worker_id    text        NOT NULL,
    plan_id         text        NOT NULL,
    period          text        NOT NULL,
    booked_period   text        NOT NULL,
    currency        char(3)     NOT NULL,
    gross_minor     bigint      NOT NULL,
    worker_minor    bigint      NOT NULL,
    platform_minor  bigint      NOT NULL,
    transferred_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT suspense_transfers_pkey PRIMARY KEY (id),
    CONSTRAINT suspense_transfers_entry_key UNIQUE (entry_id),
    CONSTRAINT suspense_transfers_registration_fkey FOREIGN KEY (registration_id) REFERENCES registrations (id),
    CONSTRAINT suspense_transfers_worker_check CHECK (from_worker_id <> to_worker_id),
    CONSTRAINT suspense_transfers_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
-- Suspense entries by reference, for the registration that moves them. Only
-- entries of unregistered workers are in it, so recording a registered
-- worker's entry costs it nothing.
CREATE INDEX ledger_entries_suspense_idx ON ledger_entries (platform_id, worker_id, scheme_id) WHERE NOT registered;

CREATE INDEX suspense_transfers_period_idx ON suspense_transfers (scheme_id, period);
CREATE TRIGGER suspense_transfers_immutable BEFORE UPDATE OR DELETE ON suspense_transfers
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();
CREATE TRIGGER suspense_transfers_no_truncate BEFORE TRUNCATE ON suspense_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_immutable();

-- Registration agents: people or firms that register workers on a
-- platform's behalf. A platform declares its agents; a registration names
-- one of them.
CREATE TABLE agents (
    platform_id text        NOT NULL,
    agent_id    text        NOT NULL,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agents_pkey PRIMARY KEY (platform_id, agent_id),
    CONSTRAINT agents_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id),
    CONSTRAINT agents_id_check CHECK (agent_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$'),
    CONSTRAINT agents_name_check CHECK (name <> '')
);

-- Registrations filed by agents, for period close to find them.
CREATE INDEX registrations_agent_idx ON registrations (scheme_id, platform_id, worker_key) WHERE agent_id <> '';

-- The commission rate of agents, as an exact rate ("5%", "1/20"): per
-- scheme, or for every scheme without its own (scheme_id ''). Written from
-- the configuration at start (--agent-commission); 5% until then.
CREATE TABLE agent_commission_rates (
    scheme_id  text        NOT NULL,
    rate       text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agent_commission_rates_pkey PRIMARY KEY (scheme_id)
);
INSERT INTO agent_commission_rates (scheme_id, rate) VALUES ('', '5%');

-- Commissions accrued at period close: per agent, platform, scheme, period
-- and worker, the contributions (worker and platform shares) of the worker's
-- entries and settlement adjustments of the period booked in closed
-- periods, the rate, and the commission, rounded half up. A later close that
-- books late entries of the period accrues the difference of base and
-- commission in a new row (booked_period), so the rows of one worker and
-- period add up to the base and the commission on everything stated.
CREATE TABLE agent_commissions (
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    agent_id         text        NOT NULL,
    platform_id      text        NOT NULL,
    scheme_id        text        NOT NULL,
    period           text        NOT NULL,
    booked_period    text        NOT NULL,
    worker_id        text        NOT NULL,
    currency         char(3)     NOT NULL,
    base_minor       bigint      NOT NULL,
    rate             text        NOT NULL,
    commission_minor bigint      NOT NULL,
    accrued_at       timestamptz NOT NULL,
    CONSTRAINT agent_commissions_pkey PRIMARY KEY (id),
    CONSTRAINT agent_commissions_accrual_key UNIQUE (agent_id, platform_id, scheme_id, period, worker_id, booked_period),
    CONSTRAINT agent_commissions_agent_fkey FOREIGN KEY (platform_id, agent_id) REFERENCES agents (platform_id, agent_id),
    CONSTRAINT agent_commissions_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX agent_commissions_period_idx ON agent_commissions (scheme_id, period);
CREATE TRIGGER agent_commissions_immutable BEFORE UPDATE OR DELETE ON agent_commissions
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();
CREATE TRIGGER agent_commissions_no_truncate BEFORE TRUNCATE ON agent_commissions
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_immutable();
