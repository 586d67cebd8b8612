-- A quote may offer options (basic / standard / premium, domain.md s3): the lines of one option are
-- an alternative to the others'; the customer approves one option at most (domain.Quote.decide).
ALTER TABLE quote_lines ADD COLUMN option text CHECK (option IN ('basic', 'standard', 'premium'));
