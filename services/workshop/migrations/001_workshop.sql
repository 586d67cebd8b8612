CREATE TABLE number_counters (
    branch_id text PRIMARY KEY,
    last      integer NOT NULL
);

CREATE TABLE repair_orders (
    repair_order_id      uuid PRIMARY KEY,
    number               text        NOT NULL UNIQUE,
    branch_id            text        NOT NULL,
    booking_id           uuid UNIQUE,
    customer_id          uuid        NOT NULL,
    vehicle_id           uuid        NOT NULL,
    plate                text        NOT NULL,
    plate_key            text        NOT NULL,
    priority             text        NOT NULL,
    fault_description    text        NOT NULL,
    odometer_km          integer,
    status               text        NOT NULL,
    parts_status         text        NOT NULL DEFAULT 'none',
    approved_total_cents integer     NOT NULL DEFAULT 0,
    delivered_at         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX repair_orders_page ON repair_orders (created_at, repair_order_id);
CREATE INDEX repair_orders_branch_status ON repair_orders (branch_id, status);

CREATE TABLE findings (
    id              bigserial PRIMARY KEY,
    repair_order_id uuid        NOT NULL REFERENCES repair_orders,
    code            text,
    description     text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('red', 'amber', 'green')),
    diagnosed_by    text        NOT NULL,
    at              timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE quotes (
    quote_id        uuid PRIMARY KEY,
    repair_order_id uuid        NOT NULL REFERENCES repair_orders,
    branch_id       text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('open', 'approved', 'declined', 'superseded')),
    total_cents     integer     NOT NULL,
    consent_method  text,
    consent_by      text,
    decided_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX quotes_page ON quotes (created_at, quote_id);
CREATE UNIQUE INDEX one_open_quote ON quotes (repair_order_id) WHERE status = 'open';

CREATE TABLE quote_lines (
    line_id          uuid PRIMARY KEY,
    quote_id         uuid        NOT NULL REFERENCES quotes,
    position         integer     NOT NULL,
    kind             text        NOT NULL,
    "group"          text        NOT NULL,
    description      text        NOT NULL,
    part_number      text,
    quantity         numeric(10, 2) NOT NULL CHECK (quantity > 0),
    unit_price_cents integer     NOT NULL CHECK (unit_price_cents >= 0),
    net_cents        integer     NOT NULL,
    pay_type         text        NOT NULL,
    decision         text CHECK (decision IN ('approved', 'declined'))
);
CREATE INDEX quote_lines_quote ON quote_lines (quote_id, position);

CREATE TABLE jobs (
    job_id          uuid PRIMARY KEY,
    repair_order_id uuid        NOT NULL REFERENCES repair_orders,
    branch_id       text        NOT NULL,
    technician_id   text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    notes           text        NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    clocked_seconds integer,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX jobs_page ON jobs (created_at, job_id);
CREATE INDEX jobs_repair_order ON jobs (repair_order_id);

CREATE TABLE quality_checks (
    id              bigserial PRIMARY KEY,
    repair_order_id uuid        NOT NULL REFERENCES repair_orders,
    checked_by      text        NOT NULL,
    passed          boolean     NOT NULL,
    notes           text        NOT NULL DEFAULT '',
    at              timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- What happened to a repair order; `public` rows are what the customer may read.
CREATE TABLE timeline (
    id              bigserial PRIMARY KEY,
    repair_order_id uuid        NOT NULL REFERENCES repair_orders,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    status          text        NOT NULL,
    note            text        NOT NULL DEFAULT '',
    public          boolean     NOT NULL DEFAULT true
);
CREATE INDEX timeline_repair_order ON timeline (repair_order_id, id);

-- Part prices as parts announced them, so a quote can be priced without asking parts.
CREATE TABLE part_prices (
    part_number text PRIMARY KEY,
    description text    NOT NULL,
    price_cents integer NOT NULL
);
