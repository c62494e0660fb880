-- Which collection (embedding model + dimensions) serves each tenant's search, and the one a
-- Reindex is building. Vectors and vectorization statuses are keyed by the collection name in
-- their `model` column. `provider` says how to load the model again (never a secret), so a
-- vectorizer configured with a new model keeps answering from the old collection until the
-- Reindex into the new one switches over.
CREATE TABLE vector_collections (
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    collection     text NOT NULL,
    dimensions     integer NOT NULL CHECK (dimensions > 0),
    provider       jsonb NOT NULL,
    state          text NOT NULL CHECK (state IN ('active', 'building')),
    reindexing     boolean NOT NULL DEFAULT false,
    reindex_total  bigint NOT NULL DEFAULT 0,
    reindex_done   bigint NOT NULL DEFAULT 0,
    reindex_error  text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    activated_at   timestamptz,
    PRIMARY KEY (tenant_id, collection)
);
CREATE UNIQUE INDEX vector_collections_one_active ON vector_collections (tenant_id)
    WHERE state = 'active';

-- Tenants indexed before collections were recorded: the collection most of their vectors are in.
INSERT INTO vector_collections (tenant_id, collection, dimensions, provider, state, activated_at)
SELECT DISTINCT ON (tenant_id) tenant_id, model, dimensions,
       CASE WHEN model LIKE 'openai:%' THEN jsonb_build_object('kind', 'unknown')
            WHEN model LIKE 'static-%' THEN jsonb_build_object('kind', 'static')
            ELSE jsonb_build_object('kind', 'local') END,
       'active', now()
FROM (SELECT tenant_id, model, max(length(vector)) / 4 AS dimensions, count(*) AS n
      FROM embedded_vectors GROUP BY tenant_id, model) AS m
ORDER BY tenant_id, n DESC;

-- The full-text side of hybrid search: each entity's document as PostgreSQL text search sees
-- it, written by the vectorizer with the vectors (model-independent), with the filter fields.
CREATE TABLE search_documents (
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    entity_type   text NOT NULL,
    entity_id     text NOT NULL,
    content_hash  text NOT NULL,
    document      tsvector NOT NULL,
    project       text NOT NULL DEFAULT '',
    item_type     text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT '',
    updated_at    timestamptz,
    PRIMARY KEY (tenant_id, entity_type, entity_id)
);
CREATE INDEX search_documents_text ON search_documents USING gin (document);
