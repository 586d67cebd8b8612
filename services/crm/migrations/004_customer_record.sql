-- The customer record (language for messages, VIP, preferred advisor, other contact
-- entries, erasure), vehicles' purchase date and odometer history, one timeline per customer.
ALTER TABLE customers ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh'));
ALTER TABLE customers ADD COLUMN vip boolean NOT NULL DEFAULT false;
ALTER TABLE customers ADD COLUMN preferred_advisor text;
ALTER TABLE customers ADD COLUMN contacts jsonb NOT NULL DEFAULT '[]';
ALTER TABLE customers ADD COLUMN erased_at timestamptz;

ALTER TABLE vehicles ADD COLUMN purchase_date date;

CREATE TABLE odometer_readings (
    reading_id  bigserial PRIMARY KEY,
    vehicle_id  uuid        NOT NULL REFERENCES vehicles (vehicle_id),
    odometer_km integer     NOT NULL CHECK (odometer_km >= 0),
    read_at     timestamptz NOT NULL,
    source      text        NOT NULL,
    correction  boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX odometer_readings_vehicle ON odometer_readings (vehicle_id, reading_id);

-- the contact log is the timeline: each entry may name the record it is about, and its branch
ALTER TABLE contacts ADD COLUMN ref_id text;
ALTER TABLE contacts ADD COLUMN branch_id text;
CREATE INDEX contacts_timeline ON contacts (customer_id, at DESC, id DESC);

-- deliveries: enough to tell a first-time customer and to invite the survey with the order's number
ALTER TABLE deliveries ADD COLUMN number text;
ALTER TABLE deliveries ADD COLUMN vehicle_id uuid;
CREATE INDEX deliveries_customer ON deliveries (customer_id, delivered_at);

-- a branch's own thresholds (domain.py, surveys.py); a branch without a row has the defaults
CREATE TABLE crm_settings (
    branch_id             text PRIMARY KEY,
    survey_threshold      integer NOT NULL DEFAULT 6 CHECK (survey_threshold BETWEEN 1 AND 10),
    survey_reminder_hours integer NOT NULL DEFAULT 48 CHECK (survey_reminder_hours BETWEEN 1 AND 720),
    major_total_cents     bigint  NOT NULL DEFAULT 100000 CHECK (major_total_cents >= 0),
    major_labour_hours    numeric NOT NULL DEFAULT 4 CHECK (major_labour_hours > 0)
);
