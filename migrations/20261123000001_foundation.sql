-- Sluice foundation schema: tenants and keys, integrations, jobs and runs, raw pages,
-- and the Jira metadata tables (projects, work item types, statuses and their relations).
-- Every business row carries tenant_id; natural keys make every load an upsert.

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as SHA-256 hashes; the key itself is shown once, at creation.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        text NOT NULL,
    key_prefix  text NOT NULL,
    key_hash    bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE integrations (
    id                     uuid PRIMARY KEY,
    tenant_id              uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_type       text NOT NULL CHECK (integration_type IN ('jira', 'github')),
    name                   text NOT NULL,
    base_url               text NOT NULL,
    -- AES-256-GCM: 12-byte nonce followed by ciphertext and tag; AAD binds it to this row.
    credentials_ciphertext bytea NOT NULL,
    credentials_kind       text NOT NULL,
    active                 boolean NOT NULL DEFAULT true,
    settings               jsonb NOT NULL DEFAULT '{}',
    custom_field_mappings  jsonb NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
CREATE INDEX integrations_tenant ON integrations (tenant_id);

CREATE TABLE etl_jobs (
    id                         uuid PRIMARY KEY,
    tenant_id                  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id             uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    job_name                   text NOT NULL,
    job_type                   text NOT NULL,
    status                     text NOT NULL DEFAULT 'NOT_STARTED'
        CHECK (status IN ('NOT_STARTED', 'READY', 'RUNNING', 'COMPLETED', 'FAILED', 'PAUSED')),
    active                     boolean NOT NULL DEFAULT true,
    schedule_interval_minutes  integer NOT NULL DEFAULT 360 CHECK (schedule_interval_minutes > 0),
    retry_interval_minutes     integer NOT NULL DEFAULT 15 CHECK (retry_interval_minutes > 0),
    priority                   integer NOT NULL DEFAULT 100,
    max_retries                integer NOT NULL DEFAULT 3 CHECK (max_retries >= 0),
    retry_count                integer NOT NULL DEFAULT 0,
    depends_on                 uuid REFERENCES etl_jobs(id) ON DELETE SET NULL,
    progress_percentage        double precision NOT NULL DEFAULT 0,
    step_name                  text NOT NULL DEFAULT '',
    error_message              text NOT NULL DEFAULT '',
    alert                      text NOT NULL DEFAULT '',
    current_run_id             uuid,
    next_run_at                timestamptz,
    last_run_started_at        timestamptz,
    last_run_finished_at       timestamptz,
    last_sync_cursor           text NOT NULL DEFAULT '',
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, integration_id, job_name)
);
CREATE INDEX etl_jobs_due ON etl_jobs (next_run_at) WHERE active;

CREATE TABLE job_runs (
    id                   uuid PRIMARY KEY,
    tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    job_id               uuid NOT NULL REFERENCES etl_jobs(id) ON DELETE CASCADE,
    integration_id       uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    status               text NOT NULL DEFAULT 'RUNNING'
        CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    trigger              text NOT NULL DEFAULT 'manual',
    step                 integer NOT NULL DEFAULT 0,
    step_name            text NOT NULL DEFAULT '',
    progress_percentage  double precision NOT NULL DEFAULT 0,
    started_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz,
    -- Set by the connector's final report: every page of the run is stored and published.
    extraction_finished  boolean NOT NULL DEFAULT false,
    records_extracted    bigint NOT NULL DEFAULT 0,
    records_transformed  bigint NOT NULL DEFAULT 0,
    records_loaded       bigint NOT NULL DEFAULT 0,
    batches_produced     bigint NOT NULL DEFAULT 0,
    batches_loaded       bigint NOT NULL DEFAULT 0,
    api_calls            bigint NOT NULL DEFAULT 0,
    errors               bigint NOT NULL DEFAULT 0,
    error_message        text NOT NULL DEFAULT '',
    alert                text NOT NULL DEFAULT '',
    peak_memory_bytes    bigint NOT NULL DEFAULT 0,
    vectors_queued       bigint NOT NULL DEFAULT 0,
    trace_id             text NOT NULL DEFAULT '',
    heartbeat_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_runs_job ON job_runs (job_id, started_at DESC);
CREATE INDEX job_runs_running ON job_runs (status) WHERE status = 'RUNNING';

-- Every API page exactly as received: its bytes, zstd-compressed (see PERFORMANCE.md).
-- Read one with `sluice raw show <id>`.
CREATE TABLE raw_extraction_data (
    id               bigserial PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id   uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    run_id           uuid NOT NULL REFERENCES job_runs(id) ON DELETE CASCADE,
    extraction_type  text NOT NULL,
    step             integer NOT NULL DEFAULT 0,
    request_url      text NOT NULL,
    -- What the transformer needs beyond the payload (e.g. the project a statuses page is for).
    request_context  jsonb NOT NULL DEFAULT '{}',
    http_status      integer NOT NULL,
    content_type     text NOT NULL DEFAULT '',
    payload_encoding text NOT NULL DEFAULT 'zstd' CHECK (payload_encoding IN ('zstd', 'identity')),
    payload          bytea NOT NULL,
    payload_size     integer NOT NULL,
    extracted_at     timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz,
    error_message    text
);
CREATE INDEX raw_extraction_data_run ON raw_extraction_data (run_id);
CREATE INDEX raw_extraction_data_unprocessed ON raw_extraction_data (run_id) WHERE processed_at IS NULL;

-- Lists raw pages without their payload; the payload is printed by `sluice raw show <id>`.
CREATE VIEW raw_extraction_pages AS
SELECT id, tenant_id, integration_id, run_id, extraction_type, step, request_url, request_context,
       http_status, content_type, payload_encoding, payload_size,
       octet_length(payload) AS stored_size, extracted_at, processed_at, error_message
FROM raw_extraction_data;

CREATE TABLE projects (
    tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id     uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    external_id        text NOT NULL,
    key                text NOT NULL,
    name               text NOT NULL,
    project_type       text NOT NULL DEFAULT '',
    style              text NOT NULL DEFAULT '',
    is_private         boolean NOT NULL DEFAULT false,
    simplified         boolean NOT NULL DEFAULT false,
    description        text NOT NULL DEFAULT '',
    lead_account_id    text NOT NULL DEFAULT '',
    lead_display_name  text NOT NULL DEFAULT '',
    category_name      text NOT NULL DEFAULT '',
    self_url           text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id, external_id)
);
CREATE INDEX projects_key ON projects (tenant_id, integration_id, key);

-- Work item types (Jira issue types).
CREATE TABLE wits (
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id    uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    external_id       text NOT NULL,
    name              text NOT NULL,
    description       text NOT NULL DEFAULT '',
    subtask           boolean NOT NULL DEFAULT false,
    hierarchy_level   integer NOT NULL DEFAULT 0,
    icon_url          text NOT NULL DEFAULT '',
    scope_project_id  text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id, external_id)
);

CREATE TABLE projects_wits (
    tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id       uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_external_id  text NOT NULL,
    wit_external_id      text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id, project_external_id, wit_external_id)
);

CREATE TABLE statuses (
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id    uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    external_id       text NOT NULL,
    name              text NOT NULL,
    description       text NOT NULL DEFAULT '',
    category_key      text NOT NULL DEFAULT '',
    category_name     text NOT NULL DEFAULT '',
    icon_url          text NOT NULL DEFAULT '',
    scope_project_id  text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id, external_id)
);

CREATE TABLE projects_statuses (
    tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id       uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_external_id  text NOT NULL,
    wit_external_id      text NOT NULL,
    status_external_id   text NOT NULL,
    status_name          text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id, project_external_id, wit_external_id, status_external_id)
);
