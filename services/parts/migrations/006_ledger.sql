-- The ledger's fourth quantity: units ordered from the supplier and not received yet (purchase
-- orders, services/parts/ledger.py). Like the others it moves only with a movement (store.apply).
ALTER TABLE stock ADD COLUMN on_order integer NOT NULL DEFAULT 0 CHECK (on_order >= 0);
ALTER TABLE movements ADD COLUMN purchase_order_id uuid;

-- A purchase order: `quantity` units of one part for one branch, received in one or more
-- receipts (received_quantity) until all is in (received) or the rest is called off (cancelled).
CREATE TABLE purchase_orders (
    purchase_order_id uuid PRIMARY KEY,
    branch_id         text        NOT NULL,
    part_number       text        NOT NULL REFERENCES parts,
    quantity          integer     NOT NULL CHECK (quantity > 0),
    received_quantity integer     NOT NULL DEFAULT 0 CHECK (received_quantity >= 0),
    cancelled_quantity integer    NOT NULL DEFAULT 0 CHECK (cancelled_quantity >= 0),
    status            text        NOT NULL CHECK (status IN ('open', 'received', 'cancelled')),
    expected_at       timestamptz NOT NULL,
    repair_order_id   uuid,
    supplier_reference text,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (received_quantity + cancelled_quantity <= quantity)
);
-- Lists by creation; a part's orders (the coordinator's and the desk's view) and a branch's.
CREATE INDEX purchase_orders_page ON purchase_orders (created_at, purchase_order_id);
CREATE INDEX purchase_orders_part ON purchase_orders (part_number, created_at, purchase_order_id);
CREATE INDEX purchase_orders_branch ON purchase_orders (branch_id, created_at, purchase_order_id);
-- The desk's outlook: a part's open orders and its dispatched transfers, without reading closed ones.
CREATE INDEX purchase_orders_open_part ON purchase_orders (part_number) WHERE status = 'open';
CREATE INDEX transfers_dispatched_part ON transfers (part_number) WHERE status = 'dispatched';
-- Units a delivered repair order used are "issued to the job", as users say (was "consumption").
UPDATE movements SET kind = 'issue_to_job' WHERE kind = 'consumption';
-- A transfer's movements (what is still on the road: the desk's outlook, a write-off).
CREATE INDEX movements_transfer ON movements (transfer_id) WHERE transfer_id IS NOT NULL;
