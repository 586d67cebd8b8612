-- Reschedule requests (issue 23): the customer asks, the branch offers 2 to 3 alternatives, the customer picks.
ALTER TABLE bookings
    ADD COLUMN reschedule_requested_at timestamptz,
    ADD COLUMN reschedule_offered_at   timestamptz,
    ADD COLUMN reschedule_offer        jsonb NOT NULL DEFAULT '[]';
