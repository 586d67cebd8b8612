CREATE TABLE parts (
    part_number     text PRIMARY KEY,
    description     text        NOT NULL,
    origin          text        NOT NULL CHECK (origin IN ('oem', 'alternative')),
    price_cents     integer     NOT NULL CHECK (price_cents >= 0),
    warranty_months integer     NOT NULL CHECK (warranty_months >= 0),
    warranty_km     integer,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The quantities of one part at one branch, kept in the same transaction as each ledger movement.
CREATE TABLE stock (
    branch_id       text        NOT NULL,
    part_number     text        NOT NULL REFERENCES parts,
    on_hand         integer     NOT NULL DEFAULT 0,
    reserved        integer     NOT NULL DEFAULT 0,
    in_transit      integer     NOT NULL DEFAULT 0,
    reorder_point   integer,
    safety_stock    integer,
    below_reorder   boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (branch_id, part_number),
    CHECK (on_hand >= 0), CHECK (reserved >= 0), CHECK (reserved <= on_hand), CHECK (in_transit >= 0)
);
CREATE INDEX stock_page ON stock (created_at, part_number);

CREATE TABLE movements (
    id              bigserial PRIMARY KEY,
    branch_id       text        NOT NULL,
    part_number     text        NOT NULL,
    kind            text        NOT NULL,
    quantity        integer     NOT NULL,
    repair_order_id uuid,
    transfer_id     uuid,
    reference       text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX movements_part ON movements (branch_id, part_number, id);

CREATE TABLE reservations (
    reservation_id  uuid PRIMARY KEY,
    repair_order_id uuid        NOT NULL,
    branch_id       text        NOT NULL,
    part_number     text        NOT NULL,
    quantity        integer     NOT NULL CHECK (quantity > 0),
    status          text        NOT NULL CHECK (status IN ('held', 'consumed', 'released')),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX reservations_page ON reservations (created_at, reservation_id);
CREATE INDEX reservations_repair_order ON reservations (repair_order_id);

CREATE TABLE transfers (
    transfer_id      uuid PRIMARY KEY,
    branch_id        text        NOT NULL,  -- the requesting (receiving) branch
    from_branch_id   text        NOT NULL,
    part_number      text        NOT NULL REFERENCES parts,
    quantity         integer     NOT NULL CHECK (quantity > 0),
    received_quantity integer    NOT NULL DEFAULT 0,
    status           text        NOT NULL,
    repair_order_id  uuid,
    tracking_reference text,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX transfers_page ON transfers (created_at, transfer_id);
