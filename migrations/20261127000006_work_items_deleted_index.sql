-- Rows marked deleted, by integration: a run counts the ones it marked when it completes
-- (`records_deleted`), which without this index read every work item of the integration.
CREATE INDEX work_items_deleted ON work_items (tenant_id, integration_id, deleted_at)
    WHERE deleted_at IS NOT NULL;
