-- The clocks of one record (GET /sla/clocks?subject_id=): a repair order's, a complaint's, a booking's.
CREATE INDEX IF NOT EXISTS sla_clocks_subject ON sla_clocks (subject_id);
