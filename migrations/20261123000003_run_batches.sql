-- Which raw pages each run must see loaded before it completes. A page is usually produced
-- by its own run, but Reprocess re-publishes pages stored by earlier runs under a new run.
CREATE TABLE run_batches (
    run_id         uuid NOT NULL REFERENCES job_runs(id) ON DELETE CASCADE,
    raw_id         bigint NOT NULL REFERENCES raw_extraction_data(id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    loaded_at      timestamptz,
    error_message  text,
    PRIMARY KEY (run_id, raw_id)
);
CREATE INDEX run_batches_pending ON run_batches (run_id) WHERE loaded_at IS NULL;
CREATE INDEX run_batches_raw ON run_batches (raw_id);

INSERT INTO run_batches (run_id, raw_id, tenant_id, loaded_at, error_message)
SELECT run_id, id, tenant_id, processed_at, error_message FROM raw_extraction_data;
