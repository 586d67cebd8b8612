-- Comebacks (domain.md s4): the fault family of each order (domain.fault_family), and the earlier
-- order a comeback repeats; first-time-fix per branch counts delivered orders and their comebacks.
ALTER TABLE repair_orders ADD COLUMN fault_family text;
ALTER TABLE repair_orders ADD COLUMN comeback_of uuid REFERENCES repair_orders;
ALTER TABLE workshop_settings ADD COLUMN comeback_window_seconds integer
    CHECK (comeback_window_seconds BETWEEN 0 AND 90 * 86400);
CREATE INDEX repair_orders_comeback_of ON repair_orders (comeback_of);
CREATE INDEX repair_orders_branch_delivered ON repair_orders (branch_id, delivered_at) WHERE delivered_at IS NOT NULL;
