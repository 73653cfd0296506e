-- PostgreSQL version of ../0018_incident_timezone.sql: each crime-map import keeps the IANA time zone
-- its file's local times were in; NULL (imported before) is read in the site's zone.
ALTER TABLE incident_imports ADD COLUMN timezone TEXT;
