-- Surveys invited at delivery, reminded once if unanswered.
CREATE TABLE survey_invitations (
    survey_id       uuid PRIMARY KEY,
    repair_order_id uuid        NOT NULL UNIQUE,
    branch_id       text        NOT NULL,
    customer_id     uuid        NOT NULL,
    number          text,
    invited_at      timestamptz NOT NULL,
    reminded_at     timestamptz,
    answered_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX survey_invitations_to_remind ON survey_invitations (invited_at)
    WHERE answered_at IS NULL AND reminded_at IS NULL;
CREATE INDEX survey_invitations_branch ON survey_invitations (branch_id);
CREATE INDEX survey_invitations_page ON survey_invitations (created_at, survey_id);
CREATE INDEX survey_invitations_customer ON survey_invitations (customer_id, created_at, survey_id);
CREATE INDEX surveys_branch ON surveys (branch_id);
