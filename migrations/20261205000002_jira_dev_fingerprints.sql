-- Which dev-status summary (Jira Cloud's Development field) each issue's details were fetched
-- for. Linking a pull request does not move an issue's `updated`; an incremental run compares
-- the field of every listed issue with the fingerprint a COMPLETED run recorded (joined through
-- run_id, so a failed run's fingerprints never hide a change) and fetches the changed ones.
CREATE TABLE jira_dev_fingerprints (
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    issue_id       text NOT NULL,
    fingerprint    text NOT NULL,
    run_id         uuid NOT NULL,
    PRIMARY KEY (tenant_id, integration_id, issue_id)
);
