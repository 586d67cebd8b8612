-- The skill the booked service type needs (booking.checked_in's `skill`): a technician without it
-- is refused when clocking on (domain.RepairOrder.check_skill).
ALTER TABLE repair_orders ADD COLUMN skill text;
