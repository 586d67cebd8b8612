-- A quote awaiting approval is withdrawn when a new finding changes what the repair needs
-- (domain.RepairOrder.record_diagnosis); the repair order goes back to diagnosed for a new quote.
ALTER TABLE quotes DROP CONSTRAINT quotes_status_check;
ALTER TABLE quotes ADD CONSTRAINT quotes_status_check
    CHECK (status IN ('open', 'approved', 'declined', 'superseded', 'withdrawn'));
