-- Idempotency keys of write requests. A platform that sends the same key
-- again gets the first answer replayed; the same key with another request
-- (another hash of the canonical body) is refused. A row whose status is
-- NULL is a request still being answered: a second request with its key is
-- told to retry, or, once the claim is stale (its process died), takes it
-- over.
CREATE TABLE idempotency_keys (
    platform_id  text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       integer,
    answer       bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (platform_id, key),
    CONSTRAINT idempotency_keys_key_check CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_hash_check CHECK (octet_length(request_hash) = 32),
    CONSTRAINT idempotency_keys_answer_check CHECK ((status IS NULL) = (answer IS NULL)
                                                    AND (status IS NULL) = (completed_at IS NULL))
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
