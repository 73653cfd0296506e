-- PostgreSQL version of ../0010_roles.sql: two more roles, analyst (crime map,
-- incident imports) and moderator (citizen reports). SQLite rebuilds `users` to
-- change its CHECK; PostgreSQL replaces the constraint in place.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('operator', 'investigator', 'auditor', 'admin', 'analyst', 'moderator'));
