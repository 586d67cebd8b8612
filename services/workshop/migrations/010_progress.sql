-- Progress for the customer (domain.md s4): while work runs an update is always due (`update_due`,
-- the progress_update SLA clock's subject, numbered by `progress_seq`); `last_progress_at` tells the
-- timer when the customer last heard. A repair 20 % past its estimate is told once (`delayed_at`).
ALTER TABLE repair_orders ADD COLUMN progress_seq integer NOT NULL DEFAULT 0;
ALTER TABLE repair_orders ADD COLUMN update_due text;
ALTER TABLE repair_orders ADD COLUMN last_progress_at timestamptz;
ALTER TABLE repair_orders ADD COLUMN approved_at timestamptz;
ALTER TABLE repair_orders ADD COLUMN estimate_seconds integer;
ALTER TABLE repair_orders ADD COLUMN delayed_at timestamptz;
ALTER TABLE repair_orders ADD COLUMN hold_reason text;
ALTER TABLE workshop_settings ADD COLUMN progress_every_seconds integer CHECK (progress_every_seconds > 0);
ALTER TABLE workshop_settings ADD COLUMN delay_threshold_pct integer CHECK (delay_threshold_pct BETWEEN 0 AND 100);
-- the timer's look: orders whose work is under way
CREATE INDEX repair_orders_under_way ON repair_orders (status)
    WHERE status IN ('approved', 'waiting_for_parts', 'in_progress', 'on_hold', 'quality_check');
