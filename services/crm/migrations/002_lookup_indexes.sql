-- A customer's vehicles, follow-ups and complaints, in keyset order, through an index rather
-- than a scan of every row (tests/integration/test_indexes.py).
CREATE INDEX vehicles_customer ON vehicles (customer_id, created_at, vehicle_id);
CREATE INDEX follow_ups_customer ON follow_ups (customer_id, created_at, follow_up_id);
CREATE INDEX complaints_customer ON complaints (customer_id, created_at, complaint_id);
