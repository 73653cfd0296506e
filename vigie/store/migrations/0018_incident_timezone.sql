-- Issue 20 (one clock): each crime-map import keeps the IANA time zone its file's local times were in
-- (Toronto's incidents in America/Toronto), so that its hour-by-weekday table is counted on its own
-- clock, not the site's. NULL: imported before this column, read in the site's zone as then.
ALTER TABLE incident_imports ADD COLUMN timezone TEXT;
