-- Capacity from resources (issue 23): technicians on shift with their skills, the hours each slot's
-- bookings need, and a branch's own estimates per service type.
CREATE TABLE technicians (
    branch_id     text   NOT NULL REFERENCES branches (branch_id),
    technician_id text   NOT NULL,
    skills        text[] NOT NULL,
    PRIMARY KEY (branch_id, technician_id)
);

-- One shift per technician per day, kept as given (local times) and as the UTC instants it covers.
CREATE TABLE technician_shifts (
    branch_id     text        NOT NULL,
    technician_id text        NOT NULL,
    day           date        NOT NULL,
    start_local   text        NOT NULL,
    end_local     text        NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL CHECK (ends_at > starts_at),
    PRIMARY KEY (branch_id, technician_id, day),
    FOREIGN KEY (branch_id, technician_id) REFERENCES technicians (branch_id, technician_id)
);
CREATE INDEX technician_shifts_time ON technician_shifts (branch_id, starts_at);

-- A branch's own skill and estimate for a service type, over the defaults in code (domain.CATALOGUE).
CREATE TABLE branch_service_types (
    branch_id     text    NOT NULL REFERENCES branches (branch_id),
    service_type  text    NOT NULL,
    skill         text    NOT NULL,
    labour_seconds integer NOT NULL CHECK (labour_seconds > 0),
    PRIMARY KEY (branch_id, service_type)
);

-- Labour seconds the slot's bookings need, in all and per skill; taken with the bay, in one statement.
ALTER TABLE slot_load ADD COLUMN booked_seconds bigint NOT NULL DEFAULT 0 CHECK (booked_seconds >= 0);
CREATE TABLE slot_skill_load (
    branch_id      text        NOT NULL REFERENCES branches (branch_id),
    slot_start     timestamptz NOT NULL,
    skill          text        NOT NULL,
    booked_seconds bigint      NOT NULL CHECK (booked_seconds >= 0),
    PRIMARY KEY (branch_id, slot_start, skill)
);

-- The skill and labour a booking was given when it took its slot (NULL: booked before this).
ALTER TABLE bookings ADD COLUMN skill text, ADD COLUMN labour_seconds integer;
