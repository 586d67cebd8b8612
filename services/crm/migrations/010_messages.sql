-- Messages to customers: consent per channel and purpose with its history, the read models
-- that resolve events lacking a customer, branch templates, the messages and their delivery attempts.

-- What a customer said about consent; no row: the default (services/crm/messages.py, default_consents).
CREATE TABLE message_consents (
    customer_id uuid    NOT NULL,
    channel     text    NOT NULL CHECK (channel IN ('email', 'sms', 'chat')),
    purpose     text    NOT NULL CHECK (purpose IN ('service', 'marketing', 'surveys')),
    granted     boolean NOT NULL,
    PRIMARY KEY (customer_id, channel, purpose)
);
CREATE TABLE message_consent_changes (
    id          bigserial PRIMARY KEY,
    customer_id uuid        NOT NULL,
    channel     text        NOT NULL,
    purpose     text        NOT NULL,
    granted     boolean     NOT NULL,
    changed_by  text,
    source      text        NOT NULL,
    changed_at  timestamptz NOT NULL
);
CREATE INDEX message_consent_changes_customer ON message_consent_changes (customer_id, id);
CREATE TABLE message_preferences (
    customer_id       uuid PRIMARY KEY,
    preferred_channel text CHECK (preferred_channel IN ('email', 'sms', 'chat'))
);

-- Read models: bookings and repair orders as booking and workshop announced them.
CREATE TABLE message_bookings (
    booking_id   uuid PRIMARY KEY,
    branch_id    text        NOT NULL,
    customer_id  uuid        NOT NULL,
    vehicle_id   uuid,
    service_type text,
    slot_start   timestamptz
);
CREATE TABLE message_orders (
    repair_order_id uuid PRIMARY KEY,
    branch_id       text NOT NULL,
    customer_id     uuid NOT NULL,
    vehicle_id      uuid,
    number          text NOT NULL,
    plate           text,
    booking_id      uuid
);

CREATE TABLE message_templates (
    branch_id  text        NOT NULL,
    key        text        NOT NULL,
    language   text        NOT NULL CHECK (language IN ('en', 'zh')),
    subject    text        NOT NULL,
    body       text        NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (branch_id, key, language)
);

CREATE TABLE messages (
    message_id      uuid PRIMARY KEY,
    branch_id       text        NOT NULL,
    customer_id     uuid        NOT NULL,
    repair_order_id uuid,
    key             text        NOT NULL,
    purpose         text        NOT NULL,
    channel         text,
    address         text,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    -- one message per thing (a stage of one repair order, one booking's confirmation): the unique key
    -- decides when two events announce the same thing, atomically
    thing           text UNIQUE,
    status          text        NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'not_sent')),
    reason          text,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    erased          boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX messages_customer ON messages (customer_id, created_at, message_id);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'queued';

CREATE TABLE message_attempts (
    id         bigserial PRIMARY KEY,
    message_id uuid        NOT NULL REFERENCES messages (message_id),
    at         timestamptz NOT NULL,
    channel    text,
    result     text        NOT NULL CHECK (result IN ('sent', 'refused', 'unavailable')),
    answer     text        NOT NULL DEFAULT ''
);
CREATE INDEX message_attempts_message ON message_attempts (message_id, id);
