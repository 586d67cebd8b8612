-- The boards' lists: a branch's orders still in the workshop, and its jobs not finished.
CREATE INDEX IF NOT EXISTS repair_orders_open ON repair_orders (branch_id, created_at, repair_order_id)
    WHERE status NOT IN ('delivered', 'closed', 'cancelled');
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (branch_id, created_at, job_id) WHERE finished_at IS NULL;
