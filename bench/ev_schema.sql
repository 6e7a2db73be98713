-- bench/ev_schema.sql: a fresh chronicle event table ev (event tables refuse
-- TRUNCATE, so each run drops and re-creates it).
SET client_min_messages = warning;
DROP TABLE IF EXISTS ev;
SELECT chronicle.create_event_table('ev');
