-- PostgreSQL version of ../0015_supervisor_role.sql: the supervisor role (issue 19).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('operator', 'investigator', 'auditor', 'admin', 'analyst', 'moderator', 'supervisor'));
