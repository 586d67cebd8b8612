-- A delivered repair order is closed when its invoice is paid, or a set time after delivery
-- (domain.RepairOrder.close_on_payment / close_if_due).
ALTER TABLE repair_orders ADD COLUMN closed_at timestamptz;
CREATE INDEX repair_orders_delivered ON repair_orders (delivered_at) WHERE status = 'delivered';

-- The workshop's per-branch settings (domain.md: every number is a branch setting with a default);
-- a NULL column takes the default of domain.WorkshopSettings.
CREATE TABLE workshop_settings (
    branch_id                    text PRIMARY KEY,
    close_after_delivery_seconds integer CHECK (close_after_delivery_seconds >= 0),
    updated_at                   timestamptz NOT NULL DEFAULT clock_timestamp()
);
