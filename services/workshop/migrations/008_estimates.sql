-- A quote's time estimate: shortest / likely / longest hours for diagnosis, parts and labour
-- (domain.md s2); the likely total plus the branch's buffer is the repair's promised time.
ALTER TABLE quotes ADD COLUMN estimate jsonb;
ALTER TABLE workshop_settings ADD COLUMN promise_buffer_pct integer CHECK (promise_buffer_pct BETWEEN 0 AND 100);
