-- Incremental cursors per scope (a Jira project, a GitHub repository) instead of one per job.
-- A run fetches its scopes at different times; one job-wide cursor (the newest `updated` of
-- the whole run) could start the next run past a change made in an early scope after it was
-- fetched. Each scope's cursor advances, when its run completes, only to the newest `updated`
-- that scope itself committed. A scope without a cursor (a new project, and every scope once
-- after this upgrade) is synced in full.
ALTER TABLE run_batches ADD COLUMN scope text;

CREATE TABLE sync_cursors (
    job_id      uuid NOT NULL REFERENCES etl_jobs(id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- 'jira.project:KEY' or 'github.repo:ID'
    scope       text NOT NULL,
    cursor      timestamptz NOT NULL,
    run_id      uuid,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, scope)
);
