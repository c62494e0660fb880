-- A key-only listing is staged one row per page (its ids as an array) instead of one row per
-- issue: a 10,000-issue project's listing was 10,000 index entries to write, then compare.
-- The loader of the page that completes a listing compares it with the table itself. Rows live
-- only while a listing is incomplete; one in flight during this upgrade is simply not used
-- (its project is compared at the next sync).
DROP TABLE work_item_key_listings;
CREATE TABLE work_item_key_listing_pages (
    listing_id     uuid NOT NULL,
    page           integer NOT NULL,
    tenant_id      uuid NOT NULL,
    integration_id uuid NOT NULL,
    project_key    text NOT NULL,
    external_ids   text[] NOT NULL,
    last           boolean NOT NULL,
    staged_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (listing_id, page)
);
CREATE INDEX work_item_key_listing_pages_integration ON work_item_key_listing_pages (integration_id);

CREATE OR REPLACE FUNCTION sluice_delete_integration_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM work_item_changelogs WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM work_item_dev_status WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM work_items WHERE tenant_id = OLD.tenant_id AND integration_id = OLD.id;
    DELETE FROM work_item_key_listing_pages WHERE integration_id = OLD.id;
    RETURN OLD;
END
$$;
