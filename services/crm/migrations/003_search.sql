-- Finding a customer by what the advisor has at hand: a part of a name, an email, a phone number,
-- a plate or a VIN (GET /customers?q=, GET /vehicles?q=; docs/api.md "Finding a customer").
-- Each is matched with LIKE '%...%' on a normalised column with a GIN trigram index, so a search
-- reads the rows that match, not every row (tests/api/test_customer_search.py checks the plan).

-- pg_trgm ships with Debian's PostgreSQL (postgresql-contrib); trusted, so a database owner may
-- create it. In public, on every service's search_path; one creator at a time.
SELECT pg_advisory_xact_lock(hashtext('pitlane.extension.pg_trgm'));
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- The keys crm's domain computes on every write (domain.normalise_phone, domain.normalise_plate);
-- rows written before are filled here by the same rules.
ALTER TABLE customers ADD COLUMN phone_key text;
ALTER TABLE vehicles ADD COLUMN plate_key text;
UPDATE customers SET phone_key = NULLIF(ltrim(regexp_replace(phone, '[^0-9]', '', 'g'), '0'), '')
 WHERE phone IS NOT NULL;
UPDATE vehicles SET plate_key = upper(regexp_replace(plate, '[[:space:]-]', '', 'g'));
ALTER TABLE vehicles ALTER COLUMN plate_key SET NOT NULL;

CREATE INDEX customers_name_search ON customers USING gin (name gin_trgm_ops);
CREATE INDEX customers_email_search ON customers USING gin (email gin_trgm_ops);
CREATE INDEX customers_phone_search ON customers USING gin (phone_key gin_trgm_ops);
CREATE INDEX vehicles_plate_search ON vehicles USING gin (plate_key gin_trgm_ops);
CREATE INDEX vehicles_vin_search ON vehicles USING gin (vin gin_trgm_ops);
