CREATE TABLE customers (
    customer_id       uuid PRIMARY KEY,
    branch_id         text        NOT NULL,
    name              text        NOT NULL,
    email             text,
    phone             text,
    consent_marketing boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX customers_page ON customers (created_at, customer_id);

CREATE TABLE vehicles (
    vehicle_id  uuid PRIMARY KEY,
    customer_id uuid        NOT NULL REFERENCES customers (customer_id),
    branch_id   text        NOT NULL,
    vin         text        NOT NULL UNIQUE,
    plate       text        NOT NULL,
    model       text        NOT NULL,
    year        integer,
    odometer_km integer,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX vehicles_page ON vehicles (created_at, vehicle_id);

-- A branch may follow up sooner or later than the default.
CREATE TABLE follow_up_settings (
    branch_id text PRIMARY KEY,
    hours     integer NOT NULL CHECK (hours BETWEEN 1 AND 720)
);

CREATE TABLE follow_ups (
    follow_up_id    uuid PRIMARY KEY,
    repair_order_id uuid        NOT NULL UNIQUE,
    branch_id       text        NOT NULL,
    customer_id     uuid        NOT NULL,
    delivered_at    timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'due',
    outcome         text,
    notes           text,
    completed_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX follow_ups_page ON follow_ups (created_at, follow_up_id);
CREATE INDEX follow_ups_due ON follow_ups (due_at) WHERE status = 'due';

-- Every contact with a customer, whatever its channel.
CREATE TABLE contacts (
    id          bigserial PRIMARY KEY,
    customer_id uuid        NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind        text        NOT NULL,
    note        text        NOT NULL DEFAULT ''
);

CREATE TABLE surveys (
    survey_id       uuid PRIMARY KEY,
    repair_order_id uuid        NOT NULL UNIQUE,
    branch_id       text        NOT NULL,
    customer_id     uuid        NOT NULL,
    score           integer     NOT NULL CHECK (score BETWEEN 1 AND 10),
    comment         text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX surveys_page ON surveys (created_at, survey_id);

CREATE TABLE complaints (
    complaint_id    uuid PRIMARY KEY,
    branch_id       text        NOT NULL,
    customer_id     uuid        NOT NULL,
    repair_order_id uuid,
    what_happened   text        NOT NULL,
    customer_wants  text        NOT NULL DEFAULT '',
    category        text        NOT NULL,
    severity        text        NOT NULL,
    owner           text,
    level           integer     NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 3),
    status          text        NOT NULL DEFAULT 'open',
    source          text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    resolved_at     timestamptz
);
CREATE INDEX complaints_page ON complaints (created_at, complaint_id);

-- Repair orders as workshop announced their delivery: who the customer was, where.
CREATE TABLE deliveries (
    repair_order_id uuid PRIMARY KEY,
    branch_id       text        NOT NULL,
    customer_id     uuid        NOT NULL,
    delivered_at    timestamptz NOT NULL
);
