-- A counter per tenant and model, bumped with every change to its vectors: a vectorizer that
-- holds them in memory reloads when another writer changed them.
CREATE TABLE vector_generations (
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    model       text NOT NULL,
    generation  bigint NOT NULL,
    PRIMARY KEY (tenant_id, model)
);
