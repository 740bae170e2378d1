-- A platform lists what became of its events in the order the engine
-- decided them (GET /v1/earnings?from=&to=): recorded events by the time
-- they were recorded, rejected messages by the time they were rejected.
-- Every event of a batch has its transaction's time, so the index keeps one
-- key per platform and batch and grows at its right edge.
CREATE INDEX earning_events_recorded_idx ON earning_events (platform_id, recorded_at);
CREATE INDEX rejected_events_rejected_idx ON rejected_events (platform_id, rejected_at);
