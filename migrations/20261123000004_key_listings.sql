-- Issue ids seen by a key-only listing of a project (deletion detection). Rows live until
-- the listing is complete and compared with work_items.
CREATE TABLE work_item_key_listings (
    listing_id     uuid NOT NULL,
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_key    text NOT NULL,
    external_id    text NOT NULL,
    PRIMARY KEY (listing_id, external_id)
);
