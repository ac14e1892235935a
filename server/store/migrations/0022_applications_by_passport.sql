-- The passport of a foreign applicant, as a match key (country and number, letters and digits
-- only, upper case), so the hub finds one person's open applications at two offices by passport
-- as it does by NIK. Filled for older records once at start (applications::index_passports_once).
ALTER TABLE applications ADD COLUMN passport TEXT;
CREATE INDEX applications_by_passport ON applications (passport) WHERE passport IS NOT NULL;
