-- A customer's and a vehicle's bookings, in keyset order, through an index rather than a scan
-- of every booking (tests/integration/test_indexes.py).
CREATE INDEX bookings_customer ON bookings (customer_id, created_at, booking_id);
CREATE INDEX bookings_vehicle ON bookings (vehicle_id, created_at, booking_id);
