-- Extras as resources (issue 23): loaner cars, pickup and delivery, each with a capacity per day or per slot
-- at a branch; a booking takes its extras with its slot, atomically, like the slot's places.
CREATE TABLE branch_extras (
    branch_id text    NOT NULL REFERENCES branches (branch_id),
    extra     text    NOT NULL,
    per       text    NOT NULL CHECK (per IN ('day', 'slot')),
    capacity  integer NOT NULL CHECK (capacity >= 0),
    PRIMARY KEY (branch_id, extra)
);

-- How many of an extra are taken in each period (a day's local midnight, or a slot's start).
CREATE TABLE extra_load (
    branch_id    text        NOT NULL REFERENCES branches (branch_id),
    extra        text        NOT NULL,
    period_start timestamptz NOT NULL,
    taken        integer     NOT NULL CHECK (taken >= 0),
    PRIMARY KEY (branch_id, extra, period_start)
);

ALTER TABLE bookings ADD COLUMN extras text[] NOT NULL DEFAULT '{}';
