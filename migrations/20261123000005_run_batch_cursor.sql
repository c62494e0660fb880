-- The newest `updated` each loaded page carried. Kept on the page's own run_batches row (no
-- contention between loaders); the run's sync_cursor is their maximum, taken at completion.
ALTER TABLE run_batches ADD COLUMN max_updated timestamptz;
