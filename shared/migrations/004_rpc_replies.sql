-- The answers of RPC commands that changed something, by the caller's correlation id, written in
-- the same transaction as the change: a request the broker delivers again (its service died
-- before acknowledging it) is answered from here instead of running a second time.
CREATE TABLE rpc_replies (
    correlation_id text PRIMARY KEY,
    reply          text,                                -- null: committed, answer not known yet
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rpc_replies_age ON rpc_replies (created_at);
