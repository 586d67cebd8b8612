-- A transfer's history: each step with who did it and when (issue 24). Units written off in transit
-- (lost, damaged) leave the road with a reason; the dispatch time gives the arrival estimate.
ALTER TABLE transfers ADD COLUMN written_off_quantity integer NOT NULL DEFAULT 0,
                      ADD COLUMN dispatched_at timestamptz,
                      ADD CONSTRAINT transfer_units CHECK (received_quantity + written_off_quantity <= quantity);

CREATE TABLE transfer_steps (
    transfer_id uuid        NOT NULL REFERENCES transfers,
    position    integer     NOT NULL,
    step        text        NOT NULL,
    acted_by    text,
    quantity    integer,
    reason      text,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (transfer_id, position)
);
