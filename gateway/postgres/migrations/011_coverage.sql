-- Worker coverage and notices.
--
-- A platform's acknowledgement that it delivered a settlement notice to the
-- worker: one per notice, never edited. The same acknowledgement sent again
-- finds the row (request_hash tells a retry from another acknowledgement,
-- which is refused).
CREATE TABLE notice_deliveries (
    notice_id    bigint      NOT NULL,
    platform_id  text        NOT NULL,
    channel      text        NOT NULL,
    delivered_at timestamptz NOT NULL,
    request_hash bytea       NOT NULL,
    recorded_by  text        NOT NULL,
    recorded_at  timestamptz NOT NULL,
    CONSTRAINT notice_deliveries_pkey PRIMARY KEY (notice_id),
    CONSTRAINT notice_deliveries_channel_check CHECK (channel IN ('app', 'sms', 'email', 'post', 'in_person', 'other')),
    CONSTRAINT notice_deliveries_hash_check CHECK (octet_length(request_hash) = 32),
    CONSTRAINT notice_deliveries_recorded_by_check CHECK (char_length(recorded_by) BETWEEN 1 AND 200),
    CONSTRAINT notice_deliveries_notice_fkey FOREIGN KEY (notice_id) REFERENCES settlement_notices (id),
    CONSTRAINT notice_deliveries_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id)
);
CREATE TRIGGER notice_deliveries_immutable BEFORE UPDATE OR DELETE ON notice_deliveries
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();
CREATE TRIGGER notice_deliveries_no_truncate BEFORE TRUNCATE ON notice_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_immutable();

-- A platform lists its notices newest first.
CREATE INDEX settlement_notices_platform_idx ON settlement_notices (platform_id, id);

-- One worker's coverage reads its notices by worker.
CREATE INDEX settlement_notices_worker_idx ON settlement_notices (worker_id, scheme_id, period);
