-- The currency a branch charges in (ISO 4217): the console and the customer's page show money in it.
ALTER TABLE branches ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'EUR'
    CHECK (currency ~ '^[A-Z]{3}$');
