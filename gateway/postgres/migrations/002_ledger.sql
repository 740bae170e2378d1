-- Platforms and the schemes they are subject to. plan_id is the plan applied
-- to workers of the platform who have not selected one.
CREATE TABLE platforms (
    id          text        NOT NULL,
    name        text        NOT NULL,
    country     text        NOT NULL,
    currency    char(3)     NOT NULL,
    active_from timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT platforms_pkey PRIMARY KEY (id),
    CONSTRAINT platforms_id_check CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    CONSTRAINT platforms_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);

CREATE TABLE platform_schemes (
    platform_id text NOT NULL,
    scheme_id   text NOT NULL,
    plan_id     text NOT NULL,
    CONSTRAINT platform_schemes_pkey PRIMARY KEY (platform_id, scheme_id),
    CONSTRAINT platform_schemes_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id)
);

-- Contribution periods of a scheme. A period is open until a row here says
-- it is closed; events of a closed period are booked in the open period as
-- late adjustments.
CREATE TABLE scheme_periods (
    scheme_id text        NOT NULL,
    period    text        NOT NULL,
    status    text        NOT NULL,
    closed_at timestamptz,
    CONSTRAINT scheme_periods_pkey PRIMARY KEY (scheme_id, period),
    CONSTRAINT scheme_periods_status_check CHECK (status IN ('open', 'closed'))
);

-- The ledger: one entry per event and scheme, with the plan version used.
-- It is append-only: a correction is a new entry (a reversal), never an edit.
-- period is the event's own period; booked_period the period the entry
-- counts in, which differs for a late event.
CREATE TABLE ledger_entries (
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    platform_id      text        NOT NULL,
    event_id         text        NOT NULL,
    worker_id        text        NOT NULL,
    scheme_id        text        NOT NULL,
    plan_id          text        NOT NULL,
    plan_version     integer     NOT NULL,
    period           text        NOT NULL,
    booked_period    text        NOT NULL,
    entry_kind       text        NOT NULL,
    late             boolean     NOT NULL,
    reverses         text        NOT NULL DEFAULT '',
    currency         char(3)     NOT NULL,
    worker_minor     bigint      NOT NULL,
    platform_minor   bigint      NOT NULL,
    gross_minor      bigint      NOT NULL,
    base_minor       bigint      NOT NULL,
    insured_minor    bigint      NOT NULL,
    orders           bigint      NOT NULL,
    units            bigint      NOT NULL,
    flags            integer     NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (id),
    CONSTRAINT ledger_entries_kind_check CHECK (entry_kind IN ('deduction', 'reversal')),
    CONSTRAINT ledger_entries_reverses_check CHECK ((entry_kind = 'reversal') = (reverses <> '')),
    CONSTRAINT ledger_entries_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE UNIQUE INDEX ledger_entries_event_key ON ledger_entries (platform_id, event_id, scheme_id);
CREATE UNIQUE INDEX ledger_entries_reversal_key ON ledger_entries (platform_id, reverses, scheme_id) WHERE reverses <> '';
CREATE INDEX ledger_entries_booked_idx ON ledger_entries (scheme_id, booked_period, platform_id);
CREATE INDEX ledger_entries_worker_idx ON ledger_entries (worker_id, scheme_id, period);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only: record a reversal instead of %', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- A worker's running totals per platform, plan and period: the state the
-- plan engine computes the next deduction from.
CREATE TABLE worker_periods (
    worker_id        text        NOT NULL,
    platform_id      text        NOT NULL,
    scheme_id        text        NOT NULL,
    plan_id          text        NOT NULL,
    period           text        NOT NULL,
    currency         char(3)     NOT NULL,
    events           bigint      NOT NULL,
    gross            bigint      NOT NULL,
    base             bigint      NOT NULL,
    insured          bigint      NOT NULL,
    orders           bigint      NOT NULL,
    units            bigint      NOT NULL,
    worker_minor     bigint      NOT NULL,
    platform_minor   bigint      NOT NULL,
    settled_worker   bigint      NOT NULL DEFAULT 0,
    settled_platform bigint      NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT worker_periods_pkey PRIMARY KEY (worker_id, platform_id, scheme_id, plan_id, period)
);

-- What each platform owes per scheme and booked period, kept per source
-- partition so that batches of different partitions never wait for each
-- other; readers add the partitions up.
CREATE TABLE platform_period_balances (
    platform_id      text    NOT NULL,
    scheme_id        text    NOT NULL,
    period           text    NOT NULL,
    source_partition integer NOT NULL,
    currency         char(3) NOT NULL,
    entries          bigint  NOT NULL,
    late_entries     bigint  NOT NULL,
    worker_minor     bigint  NOT NULL,
    platform_minor   bigint  NOT NULL,
    CONSTRAINT platform_period_balances_pkey PRIMARY KEY (platform_id, scheme_id, period, source_partition)
);

-- How far the relay has published each partition's results.
CREATE TABLE relay_positions (
    stream    text    NOT NULL,
    partition integer NOT NULL,
    position  bigint  NOT NULL,
    CONSTRAINT relay_positions_pkey PRIMARY KEY (stream, partition)
);

CREATE INDEX earning_events_source_idx ON earning_events (source_topic, source_partition, source_offset);
