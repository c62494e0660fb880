-- Jira issues: work items with mapped custom fields, their change history and linked
-- development work; the custom fields discovered per project; the cursor candidate of a run.

-- Fields discovered by the jira_discovery job. project_key '' holds the site-wide field list
-- (/rest/api/3/field); other rows come from createmeta for that project.
CREATE TABLE projects_custom_fields (
    tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id  uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_key     text NOT NULL DEFAULT '',
    field_id        text NOT NULL,
    name            text NOT NULL,
    custom          boolean NOT NULL DEFAULT false,
    schema_type     text NOT NULL DEFAULT '',
    schema_items    text NOT NULL DEFAULT '',
    custom_type     text NOT NULL DEFAULT '',
    required        boolean NOT NULL DEFAULT false,
    allowed_values  jsonb NOT NULL DEFAULT '[]',
    issue_type_ids  text[] NOT NULL DEFAULT '{}',
    discovered_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id, project_key, field_id)
);

CREATE TABLE work_items (
    tenant_id              uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id         uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    external_id            text NOT NULL,
    key                    text NOT NULL,
    project_external_id    text NOT NULL DEFAULT '',
    project_key            text NOT NULL DEFAULT '',
    summary                text NOT NULL DEFAULT '',
    description_text       text NOT NULL DEFAULT '',
    status_external_id     text NOT NULL DEFAULT '',
    status_name            text NOT NULL DEFAULT '',
    status_category_key    text NOT NULL DEFAULT '',
    wit_external_id        text NOT NULL DEFAULT '',
    wit_name               text NOT NULL DEFAULT '',
    priority               text NOT NULL DEFAULT '',
    assignee_account_id    text NOT NULL DEFAULT '',
    assignee_name          text NOT NULL DEFAULT '',
    reporter_account_id    text NOT NULL DEFAULT '',
    reporter_name          text NOT NULL DEFAULT '',
    created                timestamptz,
    updated                timestamptz NOT NULL,
    resolution_date        timestamptz,
    resolution             text NOT NULL DEFAULT '',
    parent_key             text NOT NULL DEFAULT '',
    epic_key               text NOT NULL DEFAULT '',
    labels                 text[] NOT NULL DEFAULT '{}',
    components             text[] NOT NULL DEFAULT '{}',
    fix_versions           text[] NOT NULL DEFAULT '{}',
    sprint                 text NOT NULL DEFAULT '',
    story_points           double precision,
    team                   text NOT NULL DEFAULT '',
    -- Mapped custom fields, converted by schema type (text, number, date, array, ...).
    custom_field_01 jsonb, custom_field_02 jsonb, custom_field_03 jsonb, custom_field_04 jsonb,
    custom_field_05 jsonb, custom_field_06 jsonb, custom_field_07 jsonb, custom_field_08 jsonb,
    custom_field_09 jsonb, custom_field_10 jsonb, custom_field_11 jsonb, custom_field_12 jsonb,
    custom_field_13 jsonb, custom_field_14 jsonb, custom_field_15 jsonb, custom_field_16 jsonb,
    custom_field_17 jsonb, custom_field_18 jsonb, custom_field_19 jsonb, custom_field_20 jsonb,
    -- Overflow fields under the field's name; also unknown value shapes, kept as JSON.
    custom_fields_overflow jsonb NOT NULL DEFAULT '{}',
    -- Set when the issue no longer exists in Jira (deleted or moved away).
    deleted_at             timestamptz,
    first_loaded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id, external_id)
);
CREATE INDEX work_items_key ON work_items (tenant_id, integration_id, key);
CREATE INDEX work_items_project_updated ON work_items (tenant_id, integration_id, project_key, updated);
CREATE INDEX work_items_overflow ON work_items USING gin (custom_fields_overflow);

-- One row per changed item of a changelog history.
CREATE TABLE work_item_changelogs (
    tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id       uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    work_item_external_id text NOT NULL,
    history_id           text NOT NULL,
    item_index           integer NOT NULL,
    work_item_key        text NOT NULL DEFAULT '',
    field                text NOT NULL DEFAULT '',
    field_id             text NOT NULL DEFAULT '',
    field_type           text NOT NULL DEFAULT '',
    from_value           text,
    from_string          text,
    to_value             text,
    to_string            text,
    author_account_id    text NOT NULL DEFAULT '',
    author_name          text NOT NULL DEFAULT '',
    changed_at           timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, integration_id, work_item_external_id, history_id, item_index)
);
CREATE INDEX work_item_changelogs_field ON work_item_changelogs (tenant_id, integration_id, field, changed_at);

-- Development work linked to an issue (Jira dev-status): branches, commits, pull requests.
CREATE TABLE work_item_dev_status (
    tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id        uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    work_item_external_id text NOT NULL,
    kind                  text NOT NULL CHECK (kind IN ('branch', 'commit', 'pull_request')),
    ref_id                text NOT NULL,
    name                  text NOT NULL DEFAULT '',
    status                text NOT NULL DEFAULT '',
    url                   text NOT NULL DEFAULT '',
    repository            text NOT NULL DEFAULT '',
    author_name           text NOT NULL DEFAULT '',
    last_update           timestamptz,
    PRIMARY KEY (tenant_id, integration_id, work_item_external_id, kind, ref_id)
);

-- The highest `updated` a run loaded; becomes the job's last_sync_cursor when the run completes,
-- so the cursor only advances over data that committed.
ALTER TABLE job_runs ADD COLUMN sync_cursor timestamptz;
ALTER TABLE job_runs ADD COLUMN records_deleted bigint NOT NULL DEFAULT 0;
