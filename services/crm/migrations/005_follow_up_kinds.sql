-- Several follow-ups per delivery, one of each kind; each opens at opens_at, when
-- follow_up.due is announced once (announced_at).
ALTER TABLE follow_ups ADD COLUMN kind text NOT NULL DEFAULT 'after_72h';
ALTER TABLE follow_ups ADD COLUMN opens_at timestamptz;
ALTER TABLE follow_ups ADD COLUMN announced_at timestamptz;
UPDATE follow_ups SET opens_at = delivered_at, announced_at = created_at;
ALTER TABLE follow_ups ALTER COLUMN opens_at SET NOT NULL;
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_repair_order_id_key;
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_one_per_kind UNIQUE (repair_order_id, kind);
CREATE INDEX follow_ups_to_announce ON follow_ups (opens_at) WHERE announced_at IS NULL;
