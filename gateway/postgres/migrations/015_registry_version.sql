-- The version of the registrations: every registration step takes the next
-- one, under this row's lock, so versions are given in commit order and a
-- reader that sees version v sees every step up to v. Engines remember
-- registrations and workers' running totals between batches; a new version
-- tells them which workers to read again (registrations_version_idx).
CREATE TABLE registry_version (
    one     boolean NOT NULL DEFAULT true,
    version bigint  NOT NULL,
    CONSTRAINT registry_version_pkey PRIMARY KEY (one),
    CONSTRAINT registry_version_one CHECK (one)
);
INSERT INTO registry_version (version) VALUES (0);

ALTER TABLE registrations ADD COLUMN registry_version bigint NOT NULL DEFAULT 0;
CREATE INDEX registrations_version_idx ON registrations (registry_version);
