CREATE TABLE probe_effects (
    event_id   uuid PRIMARY KEY,
    booking_id uuid NOT NULL,
    applied    integer NOT NULL DEFAULT 1
);
CREATE TABLE probe_switch (name text PRIMARY KEY, failing boolean NOT NULL);
