-- Billing in depth: approvals held per repair order, discounts, tax per line, numbers taken
-- last, warranty decisions and register, claim steps, complaints' copy, credit notes and refunds.

-- What billing knows of a repair order (from repair_order.opened): its branch, customer and vehicle.
CREATE TABLE repair_orders (
    repair_order_id uuid PRIMARY KEY,
    branch_id       text NOT NULL,
    customer_id     uuid NOT NULL,
    vehicle_id      uuid NOT NULL,
    number          text NOT NULL,
    plate           text NOT NULL,
    findings        jsonb NOT NULL DEFAULT '[]',   -- diagnosis.recorded, for the claim packet
    clocked_seconds integer NOT NULL DEFAULT 0      -- job.finished, summed, for the claim packet
);

-- Every line the customer approved (quote.approved, supplement.approved): the most billing may charge.
CREATE TABLE approved_lines (
    repair_order_id uuid NOT NULL,
    line_id         uuid NOT NULL,
    quote_id        uuid NOT NULL,
    line            jsonb NOT NULL,
    net_cents       integer NOT NULL,
    PRIMARY KEY (repair_order_id, line_id)
);

-- Discounts recorded before the invoice is issued; applied at issue.
CREATE TABLE discounts (
    discount_id     uuid PRIMARY KEY,
    repair_order_id uuid NOT NULL,
    branch_id       text NOT NULL,
    line_id         uuid,
    percent_bp      integer CHECK (percent_bp BETWEEN 1 AND 10000),
    amount_cents    integer CHECK (amount_cents > 0),
    reason          text NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((percent_bp IS NULL) <> (amount_cents IS NULL))
);
CREATE INDEX discounts_repair_order ON discounts (repair_order_id, created_at);

-- An invoice is inserted with its lines first and numbered as its transaction's last step.
ALTER TABLE invoices ALTER COLUMN number DROP NOT NULL;
ALTER TABLE invoices ADD COLUMN discount_cents integer NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN credited_cents integer NOT NULL DEFAULT 0 CHECK (credited_cents >= 0);
ALTER TABLE invoices ADD CONSTRAINT invoices_credit_within_total CHECK (credited_cents <= total_cents);
ALTER TABLE invoice_lines ADD COLUMN approved_cents integer;
ALTER TABLE invoice_lines ADD COLUMN billing_note text;
ALTER TABLE invoice_lines ADD COLUMN discount_cents integer NOT NULL DEFAULT 0 CHECK (discount_cents >= 0);
ALTER TABLE invoice_lines ADD COLUMN tax_cents integer NOT NULL DEFAULT 0 CHECK (tax_cents >= 0);
ALTER TABLE invoice_lines ADD COLUMN warranty_eligible boolean;
ALTER TABLE invoice_lines ADD COLUMN warranty_reason text;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_charged_not_negative CHECK (charged_cents >= 0);

-- Refunds are negative payments against a credit note.
ALTER TABLE payments DROP CONSTRAINT payments_amount_cents_check;
ALTER TABLE payments ADD CONSTRAINT payments_amount_not_zero CHECK (amount_cents <> 0);
ALTER TABLE payments ADD COLUMN credit_note_id uuid;

-- Warranty decisions per line, with their reason, before the work; the latest one counts.
CREATE TABLE warranty_checks (
    check_id        uuid PRIMARY KEY,
    repair_order_id uuid NOT NULL,
    line_id         uuid NOT NULL,
    branch_id       text NOT NULL,
    eligible        boolean NOT NULL,
    reason          text NOT NULL,
    terms           text NOT NULL,
    installed_on    date,
    ends_on         date,
    odometer_km     integer,
    exclusions      text[] NOT NULL DEFAULT '{}',
    decided_by      text NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX warranty_checks_line ON warranty_checks (repair_order_id, line_id, decided_at);
CREATE INDEX warranty_checks_page ON warranty_checks (decided_at, check_id);

-- The parts invoiced on a vehicle, with their terms: where a later check finds the install date.
CREATE TABLE warranty_register (
    invoice_id      uuid NOT NULL,
    line_id         uuid NOT NULL,
    branch_id       text NOT NULL,
    customer_id     uuid NOT NULL,
    vehicle_id      uuid NOT NULL,
    part_number     text NOT NULL,
    terms           text NOT NULL,
    installed_on    date NOT NULL,
    ends_on         date NOT NULL,
    reminded_at     timestamptz,
    PRIMARY KEY (invoice_id, line_id)
);
CREATE INDEX warranty_register_part ON warranty_register (vehicle_id, part_number, installed_on);
CREATE INDEX warranty_register_ending ON warranty_register (ends_on) WHERE reminded_at IS NULL;

ALTER TABLE warranty_claims ADD COLUMN steps jsonb NOT NULL DEFAULT '[]';

-- crm's complaints as billing needs them for credit authority.
CREATE TABLE complaints (
    complaint_id uuid PRIMARY KEY,
    branch_id    text NOT NULL,
    customer_id  uuid NOT NULL,
    level        integer NOT NULL,
    status       text NOT NULL
);

-- Per-group credit authority by complaint level; NULL: up to the invoice's full amount.
CREATE TABLE credit_authority (level integer PRIMARY KEY CHECK (level BETWEEN 1 AND 3), limit_cents integer
                               CHECK (limit_cents >= 0));
INSERT INTO credit_authority VALUES (1, 10000), (2, 50000), (3, NULL);

CREATE TABLE credit_note_counters (branch_id text PRIMARY KEY, last integer NOT NULL);
CREATE TABLE credit_notes (
    credit_note_id uuid PRIMARY KEY,
    number         text UNIQUE,
    invoice_id     uuid NOT NULL REFERENCES invoices,
    complaint_id   uuid NOT NULL,
    branch_id      text NOT NULL,
    customer_id    uuid NOT NULL,
    amount_cents   integer NOT NULL CHECK (amount_cents > 0),
    refunded_cents integer NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0),
    kind           text NOT NULL,
    reason         text NOT NULL,
    level          integer NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (refunded_cents <= amount_cents)
);
CREATE INDEX credit_notes_page ON credit_notes (created_at, credit_note_id);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id, created_at, credit_note_id);
CREATE INDEX credit_notes_complaint ON credit_notes (complaint_id, created_at, credit_note_id);
