-- A customer's invoices, an invoice's payments and claims, through an index rather than a scan
-- of every row (tests/integration/test_indexes.py).
CREATE INDEX invoices_customer ON invoices (customer_id, created_at, invoice_id);
CREATE INDEX payments_invoice ON payments (invoice_id, created_at, payment_id);
CREATE INDEX warranty_claims_invoice ON warranty_claims (invoice_id);
