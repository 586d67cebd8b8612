-- A part's stock across branches, its movements and its transfers, through an index rather
-- than a scan of every row (tests/integration/test_indexes.py). Stock's key leads with the
-- branch, which serves one branch's shelf, not one part everywhere.
CREATE INDEX stock_part ON stock (part_number);
CREATE INDEX movements_part_number ON movements (part_number, id);
CREATE INDEX transfers_part ON transfers (part_number, created_at, transfer_id);
