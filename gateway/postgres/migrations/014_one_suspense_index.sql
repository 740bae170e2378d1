-- One index of the suspense entries (entries of unregistered workers), not
-- two: ledger_entries_suspense_idx (platform, worker, scheme) serves the
-- registration that moves a reference's entries, and a read of all of them
-- (gap detection, the close's sweep) scans either partial index alike. Each
-- one dropped is one insert less for every unregistered worker's entry.
DROP INDEX ledger_entries_unregistered_idx;
