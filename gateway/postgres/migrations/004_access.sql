-- Access: what operators record about a platform when they onboard it, the
-- API keys that reach the gateway and the secrets platforms sign requests
-- with.

-- sectors and vehicles are the categories of work the platform reports
-- (the values of an event's category). remittance_account is the bank
-- account the platform pays contributions from, as its bank writes it, for
-- matching payments. rate_limit and rate_burst override the gateway's
-- default token bucket for the platform: requests a second and the most at
-- once; NULL means the default.
ALTER TABLE platforms
    ADD COLUMN sectors            text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN vehicles           text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN remittance_account text    NOT NULL DEFAULT '',
    ADD COLUMN require_signature  boolean NOT NULL DEFAULT false,
    ADD COLUMN rate_limit         integer,
    ADD COLUMN rate_burst         integer,
    ADD CONSTRAINT platforms_sectors_check
        CHECK (array_to_string(sectors, ',', '') ~ '^([a-z0-9][a-z0-9_-]{0,62}(,[a-z0-9][a-z0-9_-]{0,62})*)?$'),
    ADD CONSTRAINT platforms_vehicles_check
        CHECK (array_to_string(vehicles, ',', '') ~ '^([a-z0-9][a-z0-9_-]{0,62}(,[a-z0-9][a-z0-9_-]{0,62})*)?$'),
    ADD CONSTRAINT platforms_remittance_account_check CHECK (length(remittance_account) <= 100),
    ADD CONSTRAINT platforms_rate_limit_check CHECK (rate_limit > 0),
    ADD CONSTRAINT platforms_rate_burst_check CHECK (rate_burst > 0);

-- API keys. The secret is never stored, only its SHA-256; id is the public
-- part of the key that names it in listings and logs. A platform key belongs
-- to one platform; staff keys (finance, compliance, admin) to none.
-- revoked_at is when the key stops working: set in the future by a rotation,
-- so that the old key and its successor (replaced_by) overlap for a grace
-- period. last_used_at is kept to the minute.
CREATE TABLE api_keys (
    id           text        NOT NULL,
    prefix       text        NOT NULL,
    platform_id  text,
    role         text        NOT NULL,
    secret_hash  bytea       NOT NULL,
    label        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    replaced_by  text,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_id_check CHECK (id ~ '^[a-z2-7]{8}$'),
    CONSTRAINT api_keys_prefix_check CHECK (prefix ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$' AND length(prefix) <= 32),
    CONSTRAINT api_keys_role_check CHECK (role IN ('platform', 'finance', 'compliance', 'admin')),
    CONSTRAINT api_keys_platform_check CHECK ((role = 'platform') = (platform_id IS NOT NULL)),
    CONSTRAINT api_keys_secret_hash_check CHECK (octet_length(secret_hash) = 32),
    CONSTRAINT api_keys_label_check CHECK (length(label) <= 200),
    CONSTRAINT api_keys_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id),
    CONSTRAINT api_keys_replaced_by_fkey FOREIGN KEY (replaced_by) REFERENCES api_keys (id)
);
CREATE INDEX api_keys_platform_idx ON api_keys (platform_id, created_at);

-- Signing secrets of platforms that sign their requests, sealed with the
-- configured seal key (AES-256-GCM, bound to the platform). Several may be
-- in force while a platform moves to a new one.
CREATE TABLE platform_signing_secrets (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    platform_id text        NOT NULL,
    sealed      bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CONSTRAINT platform_signing_secrets_pkey PRIMARY KEY (id),
    CONSTRAINT platform_signing_secrets_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id)
);
CREATE INDEX platform_signing_secrets_platform_idx ON platform_signing_secrets (platform_id);
