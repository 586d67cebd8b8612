-- Idempotency keys of POST requests: the first request claims the key, its response is kept.
CREATE TABLE idempotency_keys (
    subject      text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       integer,
    body         jsonb,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (subject, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Every successful write through the API: who, acting as what, did what, when.
CREATE TABLE audit (
    audit_id   bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    subject    text        NOT NULL,
    role       text        NOT NULL,
    method     text        NOT NULL,
    path       text        NOT NULL,
    status     integer     NOT NULL,
    record_id  text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_page ON audit (created_at, audit_id);
