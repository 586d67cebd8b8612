-- Sites (docs/sites.md). When a shelf's figures last changed, for the figures this site sends the
-- others (stock.site_figures): stamped by a trigger whatever statement moves the quantities. Read by a
-- scan every interval, so not indexed: an index would cost every stock update its HOT path.
ALTER TABLE stock ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now();
CREATE FUNCTION stock_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER stock_changed BEFORE UPDATE ON stock FOR EACH ROW
    WHEN (OLD.on_hand IS DISTINCT FROM NEW.on_hand OR OLD.reserved IS DISTINCT FROM NEW.reserved
          OR OLD.safety_stock IS DISTINCT FROM NEW.safety_stock)
    EXECUTE FUNCTION stock_changed();

-- The other sites' shelves, from their figures: what donor ranking reads besides this site's stock.
CREATE TABLE remote_stock (
    branch_id    text        NOT NULL,
    part_number  text        NOT NULL,
    site         text        NOT NULL,
    region_id    text,
    available    integer     NOT NULL,
    safety_stock integer,
    as_of        timestamptz NOT NULL,  -- the time of the figures this shelf came with
    PRIMARY KEY (branch_id, part_number)
);
CREATE INDEX remote_stock_part ON remote_stock (part_number);

-- Each other site's figures are good as of as_of: the latest of an unbroken run of its publications.
CREATE TABLE remote_sites (
    site        text        PRIMARY KEY,
    regions     text[]      NOT NULL DEFAULT '{}',
    as_of       timestamptz,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- A transfer between branches of two sites: each site keeps its copy; the sites of its two branches.
ALTER TABLE transfers ADD COLUMN from_site text, ADD COLUMN to_site text;
