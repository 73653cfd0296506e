-- PostgreSQL version of ../0019_user_language.sql: the language a user chose while logged in ('fr', 'en'),
-- applied at their next log-in on any browser; NULL: no choice yet (the site's language).
ALTER TABLE users ADD COLUMN language TEXT;
