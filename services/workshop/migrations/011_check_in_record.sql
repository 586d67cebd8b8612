-- The check-in record booking sends (fuel or charge, damage notes with photo references,
-- belongings), and the case owner: the advisor who checked the car in keeps the case.
ALTER TABLE repair_orders ADD COLUMN case_owner text;
ALTER TABLE repair_orders ADD COLUMN check_in_record jsonb;
