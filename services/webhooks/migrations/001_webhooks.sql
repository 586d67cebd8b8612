-- webhooks: the event archive, integrators' subscriptions, their deliveries and every try.

-- Every event of the stream as it was published (payload as text: the body a delivery signs and sends).
CREATE TABLE archive (
    seq bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    subject text NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    payload text NOT NULL
);
CREATE INDEX archive_occurred ON archive (occurred_at);
CREATE INDEX archive_received ON archive (received_at);

CREATE TABLE subscriptions (
    subscription_id uuid PRIMARY KEY,
    url text NOT NULL,
    event_types text[] NOT NULL,
    secret text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'disabled')),
    failures_in_a_row integer NOT NULL DEFAULT 0,
    failing_since timestamptz,
    paused_reason text,
    delivered bigint NOT NULL DEFAULT 0,  -- totals kept as deliveries end: figures never count the log
    failed bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    branch_id text NOT NULL DEFAULT 'GROUP'
);

CREATE TABLE deliveries (
    delivery_id uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES subscriptions,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    subject text NOT NULL,
    occurred_at timestamptz NOT NULL,
    seq bigint NOT NULL,  -- the archive's, to read the body
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_status integer,
    last_error text,
    last_latency_ms integer,
    redelivery boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    branch_id text NOT NULL DEFAULT 'GROUP'
);
-- at most one delivery of an event waits per subscription (a copy of the event, a second redelivery)
CREATE UNIQUE INDEX deliveries_one_pending ON deliveries (subscription_id, event_id) WHERE status = 'pending';
-- the dispatcher's claim: due, and the first of its subject still waiting
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_subject_pending ON deliveries (subscription_id, subject, occurred_at, seq) WHERE status = 'pending';
CREATE INDEX deliveries_log ON deliveries (subscription_id, created_at, delivery_id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_age ON deliveries (created_at);

CREATE TABLE attempts (
    delivery_id uuid NOT NULL REFERENCES deliveries ON DELETE CASCADE,
    attempted_at timestamptz NOT NULL,
    status_code integer,
    latency_ms integer NOT NULL,
    error text
);
CREATE INDEX attempts_of ON attempts (delivery_id, attempted_at);

-- Replays of archived events into a queue, worked off in batches (a cursor over the archive's seq).
CREATE TABLE replays (
    replay_id uuid PRIMARY KEY,
    queue text NOT NULL,
    first_seq bigint NOT NULL,
    last_seq bigint NOT NULL,
    after_seq bigint NOT NULL,  -- published up to here
    occurred_from timestamptz,
    occurred_to timestamptz,
    event_types text[],
    matched integer NOT NULL,
    published integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
