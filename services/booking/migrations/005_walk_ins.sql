-- Walk-ins (issue 23): cars that arrive without an appointment wait in a queue per branch; checking one
-- in makes its booking (already checked in, holding no slot).
CREATE TABLE walk_ins (
    walk_in_id     uuid PRIMARY KEY,
    branch_id      text        NOT NULL REFERENCES branches (branch_id),
    customer_id    uuid        NOT NULL,
    vehicle_id     uuid        NOT NULL,
    service_type   text        NOT NULL,
    skill          text        NOT NULL,
    labour_seconds integer     NOT NULL,
    priority       text        NOT NULL,
    symptoms       text        NOT NULL DEFAULT '',
    status         text        NOT NULL,
    arrived_at     timestamptz NOT NULL,
    booking_id     uuid,
    left_at        timestamptz
);
CREATE INDEX walk_ins_waiting ON walk_ins (branch_id, arrived_at) WHERE status = 'waiting';
