-- The vector index kept inside PostgreSQL (the embedded store: no extra server), and the
-- per-entity vectorization status. Entities: "work_item" ({integration}/{external id}) and
-- "pull_request" ({integration}/{repository id}/{number}).

CREATE TABLE vectorization_status (
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    entity_type   text NOT NULL CHECK (entity_type IN ('work_item', 'pull_request')),
    entity_id     text NOT NULL,
    model         text NOT NULL,
    -- Hash of the chunk hashes: equal means nothing to embed again.
    content_hash  text NOT NULL DEFAULT '',
    chunks        integer NOT NULL DEFAULT 0,
    status        text NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    error         text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, entity_type, entity_id, model)
);
CREATE INDEX vectorization_status_state ON vectorization_status (tenant_id, model, status);

CREATE TABLE embedded_vectors (
    tenant_id     uuid NOT NULL,
    model         text NOT NULL,
    entity_type   text NOT NULL,
    entity_id     text NOT NULL,
    chunk         integer NOT NULL,
    content_hash  text NOT NULL,
    -- f32 little-endian, unit length
    vector        bytea NOT NULL,
    snippet       text NOT NULL DEFAULT '',
    -- payload for filters
    project       text NOT NULL DEFAULT '',
    item_type     text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT '',
    updated_at    timestamptz,
    PRIMARY KEY (tenant_id, model, entity_type, entity_id, chunk)
);
