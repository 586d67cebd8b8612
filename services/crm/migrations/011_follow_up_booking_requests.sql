-- A follow-up that found an issue and asked for the car back keeps that request, when it was made, and
-- the booking that answered it: the branch's list of customers to book (GET /follow-ups?booking_requested=true).
ALTER TABLE follow_ups ADD COLUMN booking_requested_at timestamptz;
ALTER TABLE follow_ups ADD COLUMN booked_at timestamptz;
CREATE INDEX follow_ups_to_book ON follow_ups (branch_id, booking_requested_at)
    WHERE booking_requested_at IS NOT NULL AND booked_at IS NULL;
