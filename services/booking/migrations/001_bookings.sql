-- Capacity settings of a branch (the branch itself is in the shared `branches` table).
CREATE TABLE branch_capacity (
    branch_id    text PRIMARY KEY REFERENCES branches (branch_id),
    bays         integer NOT NULL CHECK (bays > 0),
    slot_minutes integer NOT NULL CHECK (slot_minutes BETWEEN 15 AND 480)
);

-- A branch may lower or raise one slot's maximum.
CREATE TABLE slot_overrides (
    branch_id  text        NOT NULL REFERENCES branches (branch_id),
    slot_start timestamptz NOT NULL,
    capacity   integer     NOT NULL CHECK (capacity >= 0),
    PRIMARY KEY (branch_id, slot_start)
);

-- Bookings holding each slot; the conditional upsert on this row is what prevents overbooking.
CREATE TABLE slot_load (
    branch_id  text        NOT NULL REFERENCES branches (branch_id),
    slot_start timestamptz NOT NULL,
    booked     integer     NOT NULL CHECK (booked >= 0),
    PRIMARY KEY (branch_id, slot_start)
);

-- Vehicles as crm announced them, so a booking can be checked without asking crm.
CREATE TABLE vehicles (
    vehicle_id  uuid PRIMARY KEY,
    customer_id uuid NOT NULL,
    plate       text NOT NULL
);

CREATE TABLE bookings (
    booking_id        uuid PRIMARY KEY,
    branch_id         text        NOT NULL REFERENCES branches (branch_id),
    customer_id       uuid        NOT NULL,
    vehicle_id        uuid        NOT NULL,
    slot_start        timestamptz NOT NULL,
    slot_end          timestamptz NOT NULL,
    service_type      text        NOT NULL,
    priority          text        NOT NULL,
    channel           text        NOT NULL,
    symptoms          text        NOT NULL DEFAULT '',
    status            text        NOT NULL,
    advisor           text,
    odometer_km       integer,
    fault_description text,
    requested_at      timestamptz NOT NULL,
    confirmed_at      timestamptz,
    checked_in_at     timestamptz,
    cancelled_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX bookings_branch_slot ON bookings (branch_id, slot_start);
CREATE INDEX bookings_page ON bookings (created_at, booking_id);

-- Every status change and move of a booking, kept for the advisor and for disputes.
CREATE TABLE booking_history (
    id          bigserial PRIMARY KEY,
    booking_id  uuid        NOT NULL REFERENCES bookings (booking_id),
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    from_status text,
    to_status   text        NOT NULL,
    slot_start  timestamptz,
    note        text        NOT NULL DEFAULT ''
);
CREATE INDEX booking_history_booking ON booking_history (booking_id, id);
