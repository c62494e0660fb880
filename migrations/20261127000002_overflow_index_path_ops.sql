-- The overflow's GIN index with jsonb_path_ops: it serves containment (`@>`), the lookup
-- analysts write on these fields (`custom_fields_overflow @> '{"Customer tier": "Gold"}'`),
-- costs about two thirds of the default operator class to maintain on insert (measured here on
-- 20,000 generated work items) and is smaller. Fields whose value is null are no longer
-- stored in the overflow: absent and null read the same (`->>` gives NULL).
DROP INDEX work_items_overflow;
CREATE INDEX work_items_overflow ON work_items USING gin (custom_fields_overflow jsonb_path_ops);
