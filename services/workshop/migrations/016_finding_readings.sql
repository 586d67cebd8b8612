-- A finding's measured reading and the standard it is compared with (domain.md s2), as the technician
-- wrote them with their unit ("2 mm", "3 mm"); neither when the finding is no measurement.
ALTER TABLE findings ADD COLUMN IF NOT EXISTS reading text, ADD COLUMN IF NOT EXISTS standard text;
