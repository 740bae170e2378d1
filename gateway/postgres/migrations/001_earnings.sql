-- Earnings events as recorded by the engine, exactly once per platform and
-- event id. The payload is the event as the platform sent it; its hash tells
-- a redelivery (same payload) from a conflict (same id, other payload).
CREATE TABLE earning_events (
    platform_id      text        NOT NULL,
    event_id         text        NOT NULL,
    worker_ref       text        NOT NULL,
    worker_key       text        NOT NULL DEFAULT '',
    kind             text        NOT NULL,
    occurred_at      timestamptz NOT NULL,
    currency         char(3)     NOT NULL,
    gross_minor      bigint      NOT NULL,
    payload          jsonb       NOT NULL,
    payload_hash     bytea       NOT NULL,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT earning_events_pkey PRIMARY KEY (platform_id, event_id),
    CONSTRAINT earning_events_kind_check CHECK (kind IN ('earning', 'reversal', 'adjustment')),
    CONSTRAINT earning_events_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);

-- Messages the engine could not apply: bad schema, unknown platform, or a
-- conflicting duplicate. One row per source message, so a redelivered bad
-- message is stored once.
CREATE TABLE rejected_events (
    id               bigserial   PRIMARY KEY,
    platform_id      text        NOT NULL DEFAULT '',
    event_id         text        NOT NULL DEFAULT '',
    code             text        NOT NULL,
    message          text        NOT NULL,
    field            text        NOT NULL DEFAULT '',
    payload          bytea       NOT NULL,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    rejected_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rejected_events_source_key UNIQUE (source_topic, source_partition, source_offset)
);
CREATE INDEX rejected_events_platform_idx ON rejected_events (platform_id, id);

-- The next offset to consume per partition (-1: from the start), written in
-- the same transaction as the data it covers. epoch is the fencing token of
-- the partition's current owner, bumped at every claim: a process that lost
-- the partition in a rebalance holds an older epoch and cannot write.
-- generation is the consumer-group generation of the claim, for operators.
CREATE TABLE consumer_offsets (
    group_id    text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    next_offset bigint      NOT NULL,
    generation  integer     NOT NULL,
    epoch       bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consumer_offsets_pkey PRIMARY KEY (group_id, topic, partition),
    CONSTRAINT consumer_offsets_offset_check CHECK (next_offset >= -1)
);
