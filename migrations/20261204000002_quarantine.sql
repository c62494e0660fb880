-- Records that could not be transformed are set aside one by one (dead-lettered alone, with
-- their reason, requeueable) instead of failing their run: the rest of their page lands, the
-- run completes with a warning and the count. Written by the transformer before it acks, so
-- a redelivered page counts each record once.
CREATE TABLE quarantined_records (
    raw_id         bigint NOT NULL REFERENCES raw_extraction_data(id) ON DELETE CASCADE,
    record_index   integer NOT NULL,
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    run_id         uuid NOT NULL REFERENCES job_runs(id) ON DELETE CASCADE,
    extraction_type text NOT NULL,
    reason         text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    -- Set when a requeued record transformed after all.
    resolved_at    timestamptz,
    PRIMARY KEY (raw_id, record_index)
);
CREATE INDEX quarantined_records_run ON quarantined_records (run_id);

ALTER TABLE job_runs ADD COLUMN records_quarantined bigint NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN warning text NOT NULL DEFAULT '';

CREATE OR REPLACE FUNCTION sluice_job_event(p_job_id uuid, p_run_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'tenant_id', j.tenant_id, 'job_id', j.id, 'job_status', j.status,
        'job_error', j.error_message, 'job_alert', j.alert,
        'job_progress', j.progress_percentage, 'job_step_name', j.step_name,
        'run_id', r.id, 'run_status', r.status, 'step', r.step, 'step_name', r.step_name,
        'progress', r.progress_percentage, 'run_error', r.error_message,
        'records_extracted', r.records_extracted, 'records_transformed', r.records_transformed,
        'records_loaded', r.records_loaded, 'batches_produced', r.batches_produced,
        'batches_loaded', r.batches_loaded, 'api_calls', r.api_calls, 'errors', r.errors,
        'vectors_queued', r.vectors_queued, 'peak_memory_bytes', r.peak_memory_bytes,
        'issues_fetched', r.issues_fetched, 'issues_loaded', r.issues_loaded,
        'pull_requests', r.pull_requests, 'commits', r.commits, 'reviews', r.reviews,
        'comments', r.comments, 'rate_limit_wait_ms', r.rate_limit_wait_ms,
        'vectors_done', r.vectors_done, 'records_quarantined', r.records_quarantined,
        'warning', r.warning)::text
    FROM etl_jobs j
    LEFT JOIN job_runs r ON r.id = COALESCE(p_run_id, j.current_run_id,
        (SELECT id FROM job_runs l WHERE l.job_id = j.id ORDER BY l.started_at DESC LIMIT 1))
    WHERE j.id = p_job_id
$$;

-- When the transformer published a page's rows: a tenant's backlog per queue (pages waiting
-- to be transformed, then to be loaded) is read from its own runs, not from the broker.
ALTER TABLE run_batches ADD COLUMN transformed_at timestamptz;

-- Admin keys see broker-wide queue figures; tenant keys see only their own runs' backlog.
ALTER TABLE api_keys ADD COLUMN admin boolean NOT NULL DEFAULT false;

-- Values GitHub did not send are NULL, not '' (a pull request nobody merged has no
-- merged_by_login; a conversation comment has no path).
ALTER TABLE pull_requests ALTER COLUMN merged_by_login DROP NOT NULL, ALTER COLUMN merged_by_login DROP DEFAULT,
                          ALTER COLUMN html_url DROP NOT NULL, ALTER COLUMN html_url DROP DEFAULT;
ALTER TABLE pr_commits ALTER COLUMN html_url DROP NOT NULL, ALTER COLUMN html_url DROP DEFAULT;
ALTER TABLE pr_comments ALTER COLUMN path DROP NOT NULL, ALTER COLUMN path DROP DEFAULT,
                        ALTER COLUMN html_url DROP NOT NULL, ALTER COLUMN html_url DROP DEFAULT;
UPDATE pull_requests SET merged_by_login = NULL WHERE merged_by_login = '';
UPDATE pull_requests SET html_url = NULL WHERE html_url = '';
UPDATE pr_commits SET html_url = NULL WHERE html_url = '';
UPDATE pr_comments SET path = NULL WHERE path = '';
UPDATE pr_comments SET html_url = NULL WHERE html_url = '';

-- A run failed because pages could not be transformed or loaded (dead letters) completes
-- after all once those pages are requeued and load: the operator fixed the cause.
ALTER TABLE job_runs ADD COLUMN recoverable boolean NOT NULL DEFAULT false;
CREATE INDEX job_runs_recoverable ON job_runs (finished_at) WHERE recoverable;
