-- A supplement: a quote for a finding during the repair, approved line by line like the first one
-- (domain.RepairOrder.request_supplement); the order's approved amount is the sum of both.
ALTER TABLE quotes ADD COLUMN kind text NOT NULL DEFAULT 'initial' CHECK (kind IN ('initial', 'supplement'));
-- declined lines are listed per customer or vehicle for later reminders (GET /declined-lines)
CREATE INDEX quote_lines_declined ON quote_lines (quote_id) WHERE decision = 'declined';
