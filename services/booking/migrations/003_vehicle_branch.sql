-- The branch of each vehicle in our copy of crm's (its owner's branch, the branch_id of the
-- vehicle.registered event), so a booking can check the vehicle against the caller's scope.
-- Copies made before this column are NULL: for a scoped caller, crm is asked once and the copy filled in.
ALTER TABLE vehicles ADD COLUMN branch_id text;
