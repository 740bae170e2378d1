-- Scheme packs as loaded at start, one row per version of each pack file,
-- keyed by the scheme id and the SHA-256 of the file: loading the same file
-- again finds its row, a changed file adds a row, so every version that was
-- ever in force stays on record. content is the file byte for byte, so the
-- digest can always be checked against it. loaded_at is when this version
-- was first loaded, last_loaded_at the latest start that loaded it.
CREATE TABLE scheme_packs (
    scheme_id      text        NOT NULL,
    digest         text        NOT NULL,
    file           text        NOT NULL,
    name           text        NOT NULL,
    currency       char(3)     NOT NULL,
    content        bytea       NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    last_loaded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scheme_packs_pkey PRIMARY KEY (scheme_id, digest),
    CONSTRAINT scheme_packs_scheme_id_check CHECK (scheme_id <> ''),
    CONSTRAINT scheme_packs_digest_check CHECK (digest ~ '^[0-9a-f]{64}$'),
    CONSTRAINT scheme_packs_content_check CHECK (encode(sha256(content), 'hex') = digest),
    CONSTRAINT scheme_packs_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT scheme_packs_loaded_check CHECK (last_loaded_at >= loaded_at)
);
