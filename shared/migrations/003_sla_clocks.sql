-- SLA clocks of the policies this service hosts (shared/sla_policies.json).
CREATE TABLE sla_clocks (
    clock_id         uuid PRIMARY KEY,
    policy           text        NOT NULL,
    subject_type     text        NOT NULL,
    subject_id       text        NOT NULL,
    branch_id        text        NOT NULL,
    safety_critical  boolean     NOT NULL DEFAULT false,
    target_seconds   integer     NOT NULL,
    started_at       timestamptz NOT NULL,
    running_since    timestamptz,           -- null while paused or stopped
    spent_seconds    double precision NOT NULL DEFAULT 0,  -- counted before running_since
    deadline         timestamptz,           -- when it breaches, while running
    at_risk_at       timestamptz,           -- when it passes its at-risk share, while running
    state            text        NOT NULL CHECK (state IN ('running', 'paused', 'stopped')),
    outcome          text CHECK (outcome IN ('met', 'breached')),
    at_risk          boolean     NOT NULL DEFAULT false,
    pause_reason     text,
    breached_at      timestamptz,
    ended_at         timestamptz,
    duration_seconds double precision,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (policy, subject_id)
);
CREATE INDEX sla_clocks_due ON sla_clocks (deadline) WHERE state = 'running' AND outcome IS NULL;
CREATE INDEX sla_clocks_risk ON sla_clocks (at_risk_at) WHERE state = 'running' AND NOT at_risk;
CREATE INDEX sla_clocks_figures ON sla_clocks (policy, branch_id, outcome, state);
CREATE INDEX sla_clocks_page ON sla_clocks (created_at, clock_id);

-- Every pause with its coded reason.
CREATE TABLE sla_pauses (
    clock_id   uuid        NOT NULL REFERENCES sla_clocks,
    paused_at  timestamptz NOT NULL,
    resumed_at timestamptz,
    reason     text        NOT NULL
);

-- A branch's own targets, overriding the catalogue's defaults.
CREATE TABLE sla_targets (
    policy         text    NOT NULL,
    branch_id      text    NOT NULL,
    target_seconds integer NOT NULL CHECK (target_seconds > 0),
    PRIMARY KEY (policy, branch_id)
);
