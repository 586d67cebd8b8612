-- Quality (domain.md s4): a self-check by a technician who worked on the order, a road test and a
-- function test for work on brakes, steering or suspension, and the peer check; each is a row here.
ALTER TABLE quality_checks ADD COLUMN kind text NOT NULL DEFAULT 'peer'
    CHECK (kind IN ('self', 'peer', 'road_test', 'function_test'));
-- the booking's service type: one of the ways the order's work is found to need the tests
ALTER TABLE repair_orders ADD COLUMN service_type text;
-- a replaced part the customer wants to see or take home is kept for them (a flag on its part line)
ALTER TABLE quote_lines ADD COLUMN keep_for_customer boolean NOT NULL DEFAULT false;
