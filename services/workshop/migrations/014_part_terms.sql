-- A quote line shows its part's origin and warranty (issue 24): workshop's copy of the catalogue
-- keeps them from part.catalogued, and a part line keeps the terms it was quoted with, as it keeps
-- its price (a later catalogue change does not alter a quote the customer was given).
ALTER TABLE part_prices ADD COLUMN origin text;
ALTER TABLE part_prices ADD COLUMN warranty_months integer;
ALTER TABLE part_prices ADD COLUMN warranty_km integer;
ALTER TABLE quote_lines ADD COLUMN origin text;
ALTER TABLE quote_lines ADD COLUMN warranty_months integer;
ALTER TABLE quote_lines ADD COLUMN warranty_km integer;
