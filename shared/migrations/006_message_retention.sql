-- Published outbox rows and applied inbox marks are removed after PITLANE_MESSAGES_KEEP_DAYS
-- (shared/outbox.py, Retention). BRIN indexes on their age find the old block ranges for the
-- cost of a few pages, and cost next to nothing on insert: rows arrive in age order.
CREATE INDEX outbox_age ON outbox USING brin (created_at);
CREATE INDEX inbox_age ON inbox USING brin (applied_at);
