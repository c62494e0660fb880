-- Orchestration: the scheduler's due-job index, live job events for WatchJobs, the dead
-- letters QueueService lists and requeues, and which replica handled each page.

-- Due jobs, in the order the scheduler takes them.
CREATE INDEX etl_jobs_schedule ON etl_jobs (priority, next_run_at)
    WHERE active AND status NOT IN ('RUNNING', 'PAUSED');

-- Which replica transformed and which loaded each page of a run (operators see the work
-- spread; the replica tests assert it).
ALTER TABLE run_batches ADD COLUMN transformed_by text;
ALTER TABLE run_batches ADD COLUMN loaded_by text;

-- The state of a job and of its current (else latest) run, as one JSON document: what a
-- WatchJobs subscriber receives. Built inside the writing transaction, so every change
-- carries its own values and subscribers see every step in commit order.
CREATE FUNCTION sluice_job_event(p_job_id uuid, p_run_id uuid) RETURNS text
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
        'issues_fetched', r.issues_fetched, 'issues_loaded', r.issues_loaded)::text
    FROM etl_jobs j
    LEFT JOIN job_runs r ON r.id = COALESCE(p_run_id, j.current_run_id,
        (SELECT id FROM job_runs l WHERE l.job_id = j.id ORDER BY l.started_at DESC LIMIT 1))
    WHERE j.id = p_job_id
$$;

CREATE FUNCTION sluice_notify_run_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sluice_job_events', sluice_job_event(NEW.job_id, NEW.id));
    RETURN NULL;
END $$;

CREATE FUNCTION sluice_notify_job_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sluice_job_events', sluice_job_event(NEW.id, NULL));
    RETURN NULL;
END $$;

CREATE TRIGGER job_runs_events AFTER INSERT OR UPDATE ON job_runs
    FOR EACH ROW EXECUTE FUNCTION sluice_notify_run_event();

-- Progress arrives through job_runs; the job's own row notifies when its status, error or
-- alert changes (pause, resume, the end of a run).
CREATE TRIGGER etl_jobs_events AFTER UPDATE ON etl_jobs
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.alert IS DISTINCT FROM NEW.alert
          OR OLD.error_message IS DISTINCT FROM NEW.error_message
          OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION sluice_notify_job_event();

-- Messages that reached `etl.failed`, recorded by the orchestrator's dead-letter recorder so
-- they can be listed, requeued and purged per tenant. The payload is kept byte for byte.
CREATE TABLE dead_letters (
    id              uuid PRIMARY KEY,
    -- NULL when the payload could not be attributed (undecodable): visible to no tenant,
    -- counted in GetQueueHealth.
    tenant_id       uuid REFERENCES tenants(id) ON DELETE CASCADE,
    run_id          uuid,
    original_queue  text NOT NULL,
    reason          text NOT NULL,
    error           text NOT NULL,
    retry_count     integer NOT NULL DEFAULT 0,
    payload         bytea NOT NULL,
    payload_summary text NOT NULL,
    headers         jsonb NOT NULL DEFAULT '{}',
    failed_at       timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_tenant ON dead_letters (tenant_id, failed_at);
