-- A clock whose subject is cancelled (a repair order called off) ends `cancelled`: counted
-- neither met nor breached (shared/sla.py, Clock.cancel).
ALTER TABLE sla_clocks DROP CONSTRAINT sla_clocks_outcome_check;
ALTER TABLE sla_clocks ADD CONSTRAINT sla_clocks_outcome_check
    CHECK (outcome IN ('met', 'breached', 'cancelled'));
