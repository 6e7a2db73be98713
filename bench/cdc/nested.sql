-- bench/cdc/nested.sql (psql -v T="'…'", as a superuser): DIAGNOSTIC. Logs
-- every statement, nested ones included, with its duration (auto_explain,
-- loaded into this session only), so the time of chronicle's reading and
-- writing functions splits into the SQL they run and the rest (C++ work:
-- JSON, fold, tuple building, the commit-time stamp).
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_analyze = on;
SET client_min_messages = log;
\echo '-- history of one row, first call in the session'
SELECT count(*) FROM chronicle.history(NULL::items, 42::bigint);
\echo '-- history of one row, second call'
SELECT count(*) FROM chronicle.history(NULL::items, 42::bigint);
\echo '-- the whole table as of T'
SELECT count(*) FROM chronicle.as_of(NULL::items, known_at => :T);
\echo '-- a single-row UPDATE (autocommit)'
UPDATE items SET qty = qty + 1, updated_at = now() WHERE id = 42;
