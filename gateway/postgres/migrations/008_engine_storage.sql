-- Storage of the deduction engine's tables, for the cost of each event
-- written: every index below is paid for by every event, so each one kept
-- has a reader that needs it.

-- No query reads the ledger by worker: a worker's totals are read from
-- worker_periods, period close and statements go through the booked-period
-- index, single events through the event key.
DROP INDEX ledger_entries_worker_idx;

-- The payload is the canonical JSON of the event, written once and read
-- back whole (an event's page, the relay): json keeps it verbatim and
-- validates it, without building the jsonb tree on every insert.
ALTER TABLE earning_events ALTER COLUMN payload TYPE json USING payload::json;

-- A worker period is rewritten by every batch with an event of the worker
-- in that period; free room on its page lets the new version stay there
-- without a new primary-key entry (a HOT update).
ALTER TABLE worker_periods SET (fillfactor = 50);
