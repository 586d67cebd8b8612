-- The group's lead-time table for donor ranking (services/parts/donors.py): hours from one branch
-- (or region) to another, and one purchase time from the supplier ('*' to '*'). A pair with no
-- entry takes the defaults: same region 24 h, other region 72 h, purchase 48 h.
CREATE TABLE lead_times (
    kind        text        NOT NULL CHECK (kind IN ('branch', 'region', 'purchase')),
    from_id     text        NOT NULL,
    to_id       text        NOT NULL,
    hours       integer     NOT NULL CHECK (hours > 0),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (kind, from_id, to_id)
);
