-- The relay publishes each partition's results in offset order from the
-- ledger alone (every recorded event has an entry under each scheme of its
-- platform): one range read of this index, where it read the events by
-- their source index and then looked up each one's entries. The events'
-- source index has no reader left.
CREATE INDEX ledger_entries_source_idx ON ledger_entries (source_partition, source_offset);
DROP INDEX earning_events_source_idx;
