-- Every lookup by the record a row belongs to is served by an index, not by a scan of every
-- row (tests/integration/test_indexes.py). A repair order's view reads its findings and its
-- current quote on every command; a customer's or vehicle's history and a technician's jobs
-- are lists filtered by them, in keyset order, so the index carries that order too.
CREATE INDEX findings_repair_order ON findings (repair_order_id, id);
CREATE INDEX quotes_repair_order ON quotes (repair_order_id, created_at, quote_id);
CREATE INDEX quality_checks_repair_order ON quality_checks (repair_order_id);
CREATE INDEX repair_orders_customer ON repair_orders (customer_id, created_at, repair_order_id);
CREATE INDEX repair_orders_vehicle ON repair_orders (vehicle_id, created_at, repair_order_id);
CREATE INDEX jobs_technician ON jobs (technician_id, created_at, job_id);
