-- What became of an event that is not recorded is its latest rejection
-- (GET /v1/earnings/{id}, polled by ?wait= until the engine decides): one
-- probe of this index, where it read the platform's rejections newest
-- first until one had the event's id.
CREATE INDEX rejected_events_event_idx ON rejected_events (platform_id, event_id, id);
