-- Each service's own copy of the organisation tree, built from branch.configured events.
CREATE TABLE branches (
    branch_id         text PRIMARY KEY,
    region_id         text        NOT NULL,
    name              text        NOT NULL,
    timezone          text        NOT NULL,
    business_hours    jsonb       NOT NULL,
    holidays          jsonb       NOT NULL DEFAULT '[]',
    labour_rate_cents integer     NOT NULL CHECK (labour_rate_cents >= 0),
    tax_rate_bp       integer     NOT NULL CHECK (tax_rate_bp >= 0),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
