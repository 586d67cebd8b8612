-- Issue 24, thresholds and replenishment: the louder alert below safety stock has its own flag (once per
-- crossing, cleared when available stock is back at the safety stock), and each alert's replenishment
-- proposal is kept: proposed -> accepted | dismissed | superseded (stock recovered above the reorder point).
ALTER TABLE stock ADD COLUMN IF NOT EXISTS below_safety boolean NOT NULL DEFAULT false;

CREATE TABLE replenishments (
    replenishment_id uuid PRIMARY KEY,
    branch_id        text        NOT NULL,  -- the branch short of the part, that the stock is for
    region_id        text,
    part_number      text        NOT NULL,
    alert            text        NOT NULL CHECK (alert IN ('reorder_point', 'safety_stock')),
    kind             text        NOT NULL CHECK (kind IN ('transfer', 'purchase')),
    from_branch_id   text,                  -- the donor of a transfer; none for a purchase
    quantity         integer     NOT NULL CHECK (quantity > 0),
    lead_time_hours  integer     NOT NULL,
    available        integer     NOT NULL,  -- at the branch when proposed
    incoming         integer     NOT NULL,  -- in transit, on order and requested for the branch then
    target           integer     NOT NULL,  -- reorder point + safety stock
    status           text        NOT NULL CHECK (status IN ('proposed', 'accepted', 'dismissed', 'superseded')),
    transfer_id      uuid,                  -- the transfer an accepted transfer proposal became
    purchase_order_id uuid,                 -- the purchase order an accepted purchase proposal became
    accepted_by      text,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- one open proposal per shelf: a second alert while one is proposed proposes nothing new
CREATE UNIQUE INDEX replenishments_open ON replenishments (branch_id, part_number) WHERE status = 'proposed';
CREATE INDEX replenishments_page ON replenishments (created_at, replenishment_id);
CREATE INDEX replenishments_from ON replenishments (from_branch_id) WHERE from_branch_id IS NOT NULL;
CREATE INDEX replenishments_part ON replenishments (part_number, created_at, replenishment_id);

-- Shortage escalation: a repair order that waits for parts moves through the tiers local -> region ->
-- group, each an SLA clock (parts_shortage_<tier>); its proposal and the actions taken for it.
CREATE TABLE escalations (
    repair_order_id uuid PRIMARY KEY,
    branch_id       text        NOT NULL,
    region_id       text,
    needs           jsonb       NOT NULL,  -- part number -> units short when the order started to wait
    tier            text        NOT NULL CHECK (tier IN ('local', 'region', 'group')),
    tier_since      timestamptz NOT NULL,
    proposal        jsonb       NOT NULL,  -- the current tier's proposal, one entry per part short
    actions         jsonb       NOT NULL DEFAULT '[]',
    waiting_since   timestamptz NOT NULL,
    status          text        NOT NULL CHECK (status IN ('open', 'served', 'cancelled')),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX escalations_page ON escalations (created_at, repair_order_id);
CREATE INDEX escalations_open ON escalations (branch_id) WHERE status = 'open';
