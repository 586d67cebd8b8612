-- The evening list of tomorrow's arrivals says which parts to pick (issue 23): a branch's own service type may
-- give its own standard kit, [{part_number, quantity}]. NULL: the entry gave none, the shipped kit applies.
ALTER TABLE branch_service_types ADD COLUMN parts jsonb;
