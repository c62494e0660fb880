-- Deletions decided from durable state. A key listing records when it began (listed_at);
-- it may mark deleted only rows loaded before that moment (a late replay never deletes an
-- issue created since), never applies when a newer listing of the project already did, and
-- the rows it marked remember it (deleted_by_listing), so a redelivered last page sends the
-- same deletions to the vectorizer again instead of recomputing an empty list.
ALTER TABLE work_items ADD COLUMN last_loaded_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE work_items ADD COLUMN deleted_by_listing uuid;
CREATE INDEX work_items_deleted_by_listing ON work_items (deleted_by_listing)
    WHERE deleted_by_listing IS NOT NULL;

CREATE TABLE key_listings_done (
    listing_id     uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_key    text NOT NULL,
    listed_at      timestamptz NOT NULL,
    marked         integer NOT NULL DEFAULT 0,
    -- A listing older than one already applied to its project is recorded, not applied.
    superseded     boolean NOT NULL DEFAULT false,
    completed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX key_listings_done_project ON key_listings_done (integration_id, project_key, listed_at);
