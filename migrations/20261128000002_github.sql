-- GitHub: repositories, pull requests with their commits, reviews and comments, and the
-- Jira issue keys pull requests mention. Natural keys make every load an upsert; like the
-- other bulk tables they carry no per-row foreign keys (the integration's delete trigger
-- removes them).

CREATE TABLE repositories (
    tenant_id       uuid NOT NULL,
    integration_id  uuid NOT NULL,
    external_id     bigint NOT NULL,
    full_name       text NOT NULL,
    name            text NOT NULL,
    owner           text NOT NULL,
    private         boolean NOT NULL DEFAULT false,
    archived        boolean NOT NULL DEFAULT false,
    default_branch  text NOT NULL DEFAULT '',
    html_url        text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    created_at      timestamptz,
    updated_at      timestamptz,
    pushed_at       timestamptz,
    PRIMARY KEY (tenant_id, integration_id, external_id)
);
CREATE INDEX repositories_name ON repositories (tenant_id, integration_id, full_name);

CREATE TABLE pull_requests (
    tenant_id        uuid NOT NULL,
    integration_id   uuid NOT NULL,
    repository_id    bigint NOT NULL,
    repository       text NOT NULL,
    number           bigint NOT NULL,
    external_id      bigint NOT NULL,
    title            text NOT NULL DEFAULT '',
    body             text NOT NULL DEFAULT '',
    state            text NOT NULL,
    draft            boolean NOT NULL DEFAULT false,
    merged           boolean NOT NULL DEFAULT false,
    author_login     text NOT NULL DEFAULT '',
    base_ref         text NOT NULL DEFAULT '',
    head_ref         text NOT NULL DEFAULT '',
    head_sha         text NOT NULL DEFAULT '',
    created_at       timestamptz,
    updated_at       timestamptz,
    merged_at        timestamptz,
    closed_at        timestamptz,
    additions        bigint,
    deletions        bigint,
    changed_files    bigint,
    merged_by_login  text NOT NULL DEFAULT '',
    html_url         text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, integration_id, repository_id, number)
);
CREATE INDEX pull_requests_updated ON pull_requests (tenant_id, integration_id, updated_at);

CREATE TABLE pr_commits (
    tenant_id       uuid NOT NULL,
    integration_id  uuid NOT NULL,
    repository_id   bigint NOT NULL,
    pr_number       bigint NOT NULL,
    sha             text NOT NULL,
    message         text NOT NULL DEFAULT '',
    author_name     text NOT NULL DEFAULT '',
    author_email    text NOT NULL DEFAULT '',
    author_login    text NOT NULL DEFAULT '',
    authored_at     timestamptz,
    committed_at    timestamptz,
    html_url        text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, integration_id, repository_id, pr_number, sha)
);

CREATE TABLE pr_reviews (
    tenant_id       uuid NOT NULL,
    integration_id  uuid NOT NULL,
    repository_id   bigint NOT NULL,
    pr_number       bigint NOT NULL,
    review_id       bigint NOT NULL,
    author_login    text NOT NULL DEFAULT '',
    state           text NOT NULL DEFAULT '',
    body            text NOT NULL DEFAULT '',
    submitted_at    timestamptz,
    commit_id       text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, integration_id, review_id)
);
CREATE INDEX pr_reviews_pr ON pr_reviews (tenant_id, integration_id, repository_id, pr_number);

CREATE TABLE pr_comments (
    tenant_id       uuid NOT NULL,
    integration_id  uuid NOT NULL,
    repository_id   bigint NOT NULL,
    pr_number       bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('review', 'issue')),
    comment_id      bigint NOT NULL,
    author_login    text NOT NULL DEFAULT '',
    body            text NOT NULL DEFAULT '',
    path            text NOT NULL DEFAULT '',
    line            bigint,
    created_at      timestamptz,
    updated_at      timestamptz,
    html_url        text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, integration_id, kind, comment_id)
);
CREATE INDEX pr_comments_pr ON pr_comments (tenant_id, integration_id, repository_id, pr_number);

-- Jira issue keys (of projects the tenant syncs) found in a pull request's title, head
-- branch or commit messages.
CREATE TABLE pr_work_item_links (
    tenant_id       uuid NOT NULL,
    integration_id  uuid NOT NULL,
    repository_id   bigint NOT NULL,
    pr_number       bigint NOT NULL,
    jira_key        text NOT NULL,
    source          text NOT NULL CHECK (source IN ('title', 'branch', 'commit')),
    PRIMARY KEY (tenant_id, integration_id, repository_id, pr_number, jira_key, source)
);
CREATE INDEX pr_work_item_links_key ON pr_work_item_links (tenant_id, jira_key);

-- For analysts: work items joined to the pull requests that mention them, with whether
-- Jira's own dev-status lists the same pull request (by URL).
CREATE VIEW work_item_pull_requests AS
SELECT w.tenant_id, w.integration_id AS jira_integration_id, w.key AS jira_key, w.external_id AS work_item_external_id,
       p.integration_id AS github_integration_id, p.repository, p.number, p.title, p.state, p.merged,
       p.html_url, array_agg(DISTINCT l.source ORDER BY l.source) AS found_in,
       EXISTS (SELECT 1 FROM work_item_dev_status d
               WHERE d.tenant_id = w.tenant_id AND d.integration_id = w.integration_id
                 AND d.work_item_external_id = w.external_id AND d.kind = 'pull_request'
                 AND d.url = p.html_url) AS in_jira_dev_status
FROM pr_work_item_links l
JOIN pull_requests p ON p.tenant_id = l.tenant_id AND p.integration_id = l.integration_id
                    AND p.repository_id = l.repository_id AND p.number = l.pr_number
JOIN work_items w ON w.tenant_id = l.tenant_id AND w.key = l.jira_key AND w.deleted_at IS NULL
GROUP BY w.tenant_id, w.integration_id, w.key, w.external_id, p.integration_id, p.repository,
         p.number, p.title, p.state, p.merged, p.html_url;

-- Conditional-request validators per URL and token-independent, so an unchanged page costs
-- no rate limit on the next run (GitHub answers 304 without counting it).
CREATE TABLE http_validators (
    integration_id  uuid NOT NULL,
    url             text NOT NULL,
    etag            text NOT NULL,
    -- The run that saw it: used only once that run COMPLETED (its pages all loaded).
    run_id          uuid NOT NULL,
    seen_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, url)
);

ALTER TABLE job_runs ADD COLUMN pull_requests bigint NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN commits bigint NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN reviews bigint NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN comments bigint NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN rate_limit_wait_ms bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION sluice_delete_integration_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM work_item_changelogs WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM work_item_dev_status WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM work_items WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM work_item_key_listing_pages WHERE integration_id = OLD.id;
    DELETE FROM repositories WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM pull_requests WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM pr_commits WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM pr_reviews WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM pr_comments WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM pr_work_item_links WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM http_validators WHERE integration_id = OLD.id;
    RETURN OLD;
END
$$;

-- Job events carry the GitHub counters too.
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
        'comments', r.comments, 'rate_limit_wait_ms', r.rate_limit_wait_ms)::text
    FROM etl_jobs j
    LEFT JOIN job_runs r ON r.id = COALESCE(p_run_id, j.current_run_id,
        (SELECT id FROM job_runs l WHERE l.job_id = j.id ORDER BY l.started_at DESC LIMIT 1))
    WHERE j.id = p_job_id
$$;
