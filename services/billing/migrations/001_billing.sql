CREATE TABLE number_counters (branch_id text PRIMARY KEY, last integer NOT NULL);

CREATE TABLE invoices (
    invoice_id      uuid PRIMARY KEY,
    number          text        NOT NULL UNIQUE,
    repair_order_id uuid        NOT NULL UNIQUE,  -- one invoice per repair order, however often delivery is announced
    branch_id       text        NOT NULL,
    customer_id     uuid        NOT NULL,
    subtotal_cents  integer     NOT NULL CHECK (subtotal_cents >= 0),
    tax_rate_bp     integer     NOT NULL,
    tax_cents       integer     NOT NULL CHECK (tax_cents >= 0),
    total_cents     integer     NOT NULL CHECK (total_cents >= 0),
    covered_cents   integer     NOT NULL DEFAULT 0,
    paid_cents      integer     NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
    status          text        NOT NULL CHECK (status IN ('issued', 'paid')),
    issued_at       timestamptz NOT NULL,
    paid_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (paid_cents <= total_cents)
);
CREATE INDEX invoices_page ON invoices (created_at, invoice_id);

CREATE TABLE invoice_lines (
    invoice_id       uuid        NOT NULL REFERENCES invoices,
    position         integer     NOT NULL,
    line_id          uuid        NOT NULL,
    kind             text        NOT NULL,
    description      text        NOT NULL,
    part_number      text,
    quantity         numeric(10, 2) NOT NULL,
    unit_price_cents integer     NOT NULL,
    net_cents        integer     NOT NULL,
    pay_type         text        NOT NULL,
    charged_cents    integer     NOT NULL,
    PRIMARY KEY (invoice_id, position)
);

CREATE TABLE payments (
    payment_id   uuid PRIMARY KEY,
    invoice_id   uuid        NOT NULL REFERENCES invoices,
    branch_id    text        NOT NULL,
    amount_cents integer     NOT NULL CHECK (amount_cents > 0),
    method       text        NOT NULL,
    reference    text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX payments_page ON payments (created_at, payment_id);

-- Warranty lines of delivered repair orders, waiting to be claimed from the manufacturer.
CREATE TABLE warranty_claims (
    claim_id        uuid PRIMARY KEY,
    repair_order_id uuid        NOT NULL UNIQUE,
    invoice_id      uuid        NOT NULL REFERENCES invoices,
    branch_id       text        NOT NULL,
    status          text        NOT NULL DEFAULT 'draft',
    value_cents     integer     NOT NULL,
    lines           jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX warranty_claims_page ON warranty_claims (created_at, claim_id);
