-- Per-tenant notification channels (a signed webhook or a Slack incoming webhook) and the
-- outbox of their deliveries. Events are inserted in the transaction of the change they
-- report (a run failing, a job giving up or skipped); the orchestrator's dispatcher claims
-- due rows with FOR UPDATE SKIP LOCKED, POSTs them and records each attempt here.

CREATE TABLE notification_channels (
    id                     uuid PRIMARY KEY,
    tenant_id              uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name                   text NOT NULL,
    kind                   text NOT NULL CHECK (kind IN ('webhook', 'slack')),
    -- AES-256-GCM (nonce, ciphertext, tag), as integrations' credentials; the associated
    -- data binds each to its tenant, channel and field. A Slack webhook URL is a secret.
    url_ciphertext         bytea NOT NULL,
    -- scheme://host[:port] of the URL, what the API shows.
    url_origin             text NOT NULL,
    -- The webhook's HMAC-SHA256 key; NULL for Slack.
    secret_ciphertext      bytea,
    -- Subscribed events (RUN_FAILED, JOB_GAVE_UP, JOB_SKIPPED, DEAD_LETTERS_OVER_THRESHOLD);
    -- empty means all.
    events                 text[] NOT NULL DEFAULT '{}',
    -- DEAD_LETTERS_OVER_THRESHOLD fires when the tenant's dead letters go over this; 0 = off.
    dead_letter_threshold  integer NOT NULL DEFAULT 0 CHECK (dead_letter_threshold >= 0),
    -- Over the threshold at the last check: the event fires once per crossing, and again
    -- only after the count went back to the threshold or below.
    dead_letters_over      boolean NOT NULL DEFAULT false,
    active                 boolean NOT NULL DEFAULT true,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE notification_deliveries (
    -- Sent as X-Sluice-Delivery on every attempt: receivers dedupe by it.
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel_id        uuid NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    event             text NOT NULL,
    -- The event as sent to a webhook (no tenant id, no credentials).
    payload           jsonb NOT NULL,
    status            text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts          integer NOT NULL DEFAULT 0,
    last_http_status  integer,
    last_error        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- While PENDING: when the next attempt is due (a claimed delivery holds it a lease ahead).
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at)
    WHERE status = 'PENDING';
CREATE INDEX notification_deliveries_log ON notification_deliveries (tenant_id, created_at DESC, id);
CREATE INDEX notification_deliveries_channel ON notification_deliveries (channel_id, created_at DESC, id);
