-- Waiting customers (issue 23): the time promised to a walk-in when it arrived, and how many apologies each
-- waiting customer was sent (the next is due 30 minutes after the last).
ALTER TABLE bookings ADD COLUMN apologies_sent integer NOT NULL DEFAULT 0;
ALTER TABLE walk_ins ADD COLUMN promised_at timestamptz, ADD COLUMN apologies_sent integer NOT NULL DEFAULT 0;
UPDATE walk_ins SET promised_at = arrived_at WHERE promised_at IS NULL;
ALTER TABLE walk_ins ALTER COLUMN promised_at SET NOT NULL;
CREATE INDEX bookings_waiting ON bookings (arrived_at) WHERE arrived_at IS NOT NULL
    AND status IN ('requested', 'confirmed');
