-- The catalogue (issue 24): whether a part is a wear part, where its warranty terms came from (the
-- rule by kind, or the supplier's own: services/parts/catalogue.py warranty_terms), approved
-- substitutes with their differences, and fitment by make, model and model years.
ALTER TABLE parts ADD COLUMN wear_part boolean NOT NULL DEFAULT false;
-- Parts catalogued before this gave their terms themselves.
ALTER TABLE parts ADD COLUMN warranty_source text NOT NULL DEFAULT 'supplier'
    CHECK (warranty_source IN ('rule', 'supplier'));

-- `substitute_part_number` may be fitted where `part_number` is wanted. The key is what stops one
-- pair being approved twice, also by two coordinators at once (the second gets a conflict).
CREATE TABLE part_substitutes (
    part_number            text        NOT NULL REFERENCES parts,
    substitute_part_number text        NOT NULL REFERENCES parts,
    differences            text        NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (part_number, substitute_part_number),
    CHECK (part_number <> substitute_part_number)
);

CREATE TABLE part_fitments (
    id          bigserial PRIMARY KEY,
    part_number text        NOT NULL REFERENCES parts,
    make        text        NOT NULL,
    model       text        NOT NULL,
    year_from   integer     NOT NULL,
    year_to     integer,  -- null: still fits current models
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (year_to IS NULL OR year_to >= year_from)
);
-- One fitment once (make and model without regard to case), and the catalogue filtered by model
-- through an index rather than a scan.
CREATE UNIQUE INDEX part_fitments_once ON part_fitments
    (part_number, lower(make), lower(model), year_from, coalesce(year_to, -1));
CREATE INDEX part_fitments_model ON part_fitments (lower(make), lower(model), year_from);
-- A part is removed or renumbered rarely, but then its being someone's substitute is found by an index.
CREATE INDEX part_substitutes_substitute ON part_substitutes (substitute_part_number);
