-- When the box began handing a job's document to its printer, until the printer's answer is
-- recorded. A job found with it set after a restart (or after a connection lost mid-way) may
-- have reached the printer: the box asks the printer for it before sending it again, so a
-- crash never prints a receipt twice; a printer that cannot tell fails the job for staff to
-- check and re-print by hand.
ALTER TABLE print_jobs ADD COLUMN handed_at TEXT;
