-- A clock's pauses, found by their clock: resuming a clock reads its open pause through this
-- index, not through every pause ever recorded (tests/integration/test_indexes.py).
CREATE INDEX sla_pauses_clock ON sla_pauses (clock_id, paused_at);
