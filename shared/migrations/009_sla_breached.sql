-- The clocks that breached in a window (GET /sla/clocks?breached_from=): the operations screen's
-- "breached today". Few clocks ever breach, so the index holds those only.
CREATE INDEX IF NOT EXISTS sla_clocks_breached ON sla_clocks (breached_at) WHERE breached_at IS NOT NULL;
