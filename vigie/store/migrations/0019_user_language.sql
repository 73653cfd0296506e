-- Issue 20 (French by default, each user may switch): the language a user chose with the FR / EN switch
-- while logged in ('fr', 'en'), applied at their next log-in on any browser. NULL: no choice yet, the
-- site file's language (or the browser's own choice, its vigie_lang cookie).
ALTER TABLE users ADD COLUMN language TEXT;
