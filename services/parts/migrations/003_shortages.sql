-- Repair orders whose approved parts their branch could not all give. Each waits, open, until stock
-- arriving at the branch covers all it wants (served, with parts.reserved) or the order is
-- cancelled (closed); stock is given in order of need: priority, then approval time.
CREATE TABLE shortages (
    repair_order_id uuid PRIMARY KEY,
    branch_id       text        NOT NULL,
    wanted          jsonb       NOT NULL,  -- part number -> quantity, every part line approved
    priority        text        NOT NULL,
    approved_at     timestamptz NOT NULL,  -- the quote.approved event's occurred_at
    status          text        NOT NULL CHECK (status IN ('open', 'served', 'closed')),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Stock arriving at a branch asks which of its open shortages want the part: a handful of rows.
CREATE INDEX shortages_open ON shortages (branch_id) WHERE status = 'open';

-- A transfer is the business of both its branches: a scoped list reads either side.
CREATE INDEX transfers_from_branch ON transfers (from_branch_id, created_at, transfer_id);
CREATE INDEX transfers_branch ON transfers (branch_id, created_at, transfer_id);
