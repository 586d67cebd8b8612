-- Arrival and the check-in record (issue 23): when the car arrived (the reception clock starts), and what
-- was recorded at check-in besides odometer and fault: fuel or charge, exterior damage, belongings.
ALTER TABLE bookings
    ADD COLUMN arrived_at       timestamptz,
    ADD COLUMN fuel_level_pct   smallint CHECK (fuel_level_pct BETWEEN 0 AND 100),
    ADD COLUMN charge_level_pct smallint CHECK (charge_level_pct BETWEEN 0 AND 100),
    ADD COLUMN damage           jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN belongings       jsonb NOT NULL DEFAULT '[]';
