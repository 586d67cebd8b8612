-- A branch's walk-ins, whatever their status: the partial index of 005 serves only the waiting queue, so
-- deleting or re-keying a branch (the foreign key) and reading a branch's past walk-ins would scan them all
-- (tests/integration/test_indexes.py).
CREATE INDEX walk_ins_branch ON walk_ins (branch_id, arrived_at);
