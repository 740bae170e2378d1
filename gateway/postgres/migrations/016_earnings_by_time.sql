-- A platform lists what became of its events in the order the engine
-- decided them (GET /v1/earnings?from=&to=): recorded events by the time
-- they were recorded, rejected messages by the time they were rejected.
--
-- Every row has its time; the predicates keep these indexes to queries
-- that name the time. A lookup by platform and event id (the API's check
-- for retries, once per request) must use the primary key: planned while
-- the table was empty, it took a plain (platform_id, recorded_at) index
-- instead and read every event of the platform for each id.
CREATE INDEX earning_events_recorded_idx ON earning_events (platform_id, recorded_at) WHERE recorded_at IS NOT NULL;
CREATE INDEX rejected_events_rejected_idx ON rejected_events (platform_id, rejected_at) WHERE rejected_at IS NOT NULL;
