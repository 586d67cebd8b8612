-- Complaints' when, where, who, matter, escalation, first response and resolution.
ALTER TABLE complaints ADD COLUMN vehicle_id uuid;
ALTER TABLE complaints ADD COLUMN happened_at timestamptz;
ALTER TABLE complaints ADD COLUMN place text;
ALTER TABLE complaints ADD COLUMN reported_by text;
ALTER TABLE complaints ADD COLUMN matter text;
ALTER TABLE complaints ADD COLUMN trigger text;
ALTER TABLE complaints ADD COLUMN opened_at timestamptz;
UPDATE complaints SET opened_at = created_at;
ALTER TABLE complaints ALTER COLUMN opened_at SET NOT NULL;
ALTER TABLE complaints ADD COLUMN response_target_seconds integer NOT NULL DEFAULT 7200;
ALTER TABLE complaints ADD COLUMN resolution_target_seconds integer NOT NULL DEFAULT 86400;
ALTER TABLE complaints ADD COLUMN first_response_at timestamptz;
ALTER TABLE complaints ADD COLUMN measures jsonb NOT NULL DEFAULT '[]';
ALTER TABLE complaints ADD COLUMN resolution_deadline timestamptz;
ALTER TABLE complaints ADD COLUMN resolution_owner text;
ALTER TABLE complaints ADD COLUMN reopened integer NOT NULL DEFAULT 0;
CREATE INDEX complaints_matter ON complaints (matter);

CREATE TABLE complaint_responses (
    id           bigserial PRIMARY KEY,
    complaint_id uuid        NOT NULL REFERENCES complaints (complaint_id),
    responded_by text        NOT NULL,
    note         text        NOT NULL,
    at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX complaint_responses_complaint ON complaint_responses (complaint_id, id);

CREATE TABLE feedback (
    feedback_id uuid PRIMARY KEY,
    customer_id uuid        NOT NULL,
    branch_id   text        NOT NULL,
    text        text        NOT NULL,
    channel     text        NOT NULL,
    received_at timestamptz NOT NULL,
    status      text        NOT NULL DEFAULT 'open',
    reply       text,
    replied_by  text,
    replied_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX feedback_customer ON feedback (customer_id, created_at, feedback_id);
CREATE INDEX feedback_page ON feedback (created_at, feedback_id);
