-- What a GitHub run's rate-limit budgets say: GraphQL points spent, the REST and GraphQL
-- budgets left over the integration's tokens, and the projected finish when the budget runs
-- out before the run is done.
ALTER TABLE job_runs
    ADD COLUMN graphql_points bigint NOT NULL DEFAULT 0,
    ADD COLUMN rest_budget_remaining bigint,
    ADD COLUMN graphql_budget_remaining bigint,
    ADD COLUMN projected_finish_at timestamptz;

CREATE OR REPLACE FUNCTION sluice_job_event(p_job_id uuid, p_run_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'tenant_id', j.tenant_id, 'job_id', j.id, 'job_status', j.status,
        'job_error', j.error_message, 'job_alert', j.alert,
        'job_progress', j.progress_percentage, 'job_step_name', j.step_name,
        'next_run_at', j.next_run_at, 'last_run_started_at', j.last_run_started_at,
        'last_run_finished_at', j.last_run_finished_at,
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
        'warning', r.warning,
        'throttled_responses', r.throttled_responses, 'peak_request_rate', r.peak_request_rate,
        'bytes_received', r.bytes_received, 'dev_status_issues', r.dev_status_issues,
        'dev_status_done', r.dev_status_done,
        'graphql_points', r.graphql_points, 'rest_budget_remaining', r.rest_budget_remaining,
        'graphql_budget_remaining', r.graphql_budget_remaining,
        'projected_finish_at', r.projected_finish_at)::text
    FROM etl_jobs j
    LEFT JOIN job_runs r ON r.id = COALESCE(p_run_id, j.current_run_id,
        (SELECT id FROM job_runs l WHERE l.job_id = j.id ORDER BY l.started_at DESC LIMIT 1))
    WHERE j.id = p_job_id
$$;
