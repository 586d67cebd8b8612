-- Reminders and no-shows (issue 23): the mark that a booking's reminder went out (once, across restarts),
-- and the indexes the timer reads by.
ALTER TABLE bookings ADD COLUMN reminder_sent_at timestamptz;
CREATE INDEX bookings_reminder_due ON bookings (slot_start)
    WHERE status IN ('requested', 'confirmed') AND reminder_sent_at IS NULL;
CREATE INDEX bookings_no_show_due ON bookings (slot_start) WHERE status = 'confirmed' AND arrived_at IS NULL;
