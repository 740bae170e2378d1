-- Workers, known by their worker key (a keyed hash of country and national
-- ID). The national ID itself is kept only sealed, bound to the worker key.
CREATE TABLE workers (
    worker_key  text        NOT NULL,
    country     char(2)     NOT NULL,
    national_id bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workers_pkey PRIMARY KEY (worker_key)
);

-- A worker's registrations with platforms, per scheme, as a history that is
-- never edited: a start, changes of plan or category, an end.
CREATE TABLE registrations (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    platform_id  text        NOT NULL,
    worker_ref   text        NOT NULL,
    worker_key   text        NOT NULL,
    scheme_id    text        NOT NULL,
    change       text        NOT NULL,
    plan_id      text        NOT NULL DEFAULT '',
    sector       text        NOT NULL DEFAULT '',
    vehicle      text        NOT NULL DEFAULT '',
    effective    date        NOT NULL,
    agent_id     text        NOT NULL DEFAULT '',
    request_hash bytea       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT registrations_pkey PRIMARY KEY (id),
    CONSTRAINT registrations_change_check CHECK (change IN ('start', 'change', 'end')),
    CONSTRAINT registrations_change_key UNIQUE (platform_id, worker_ref, scheme_id, change, effective),
    CONSTRAINT registrations_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id),
    CONSTRAINT registrations_worker_fkey FOREIGN KEY (worker_key) REFERENCES workers (worker_key)
);
CREATE INDEX registrations_worker_idx ON registrations (worker_key);
CREATE INDEX registrations_ref_idx ON registrations (platform_id, worker_ref);

-- Entries of workers the platform had not registered are kept in suspense:
-- they count for the platform, under the platform's own worker reference.
ALTER TABLE ledger_entries ADD COLUMN registered boolean NOT NULL DEFAULT true;
