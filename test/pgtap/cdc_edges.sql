-- cdc_edges.sql: edge cases of CDC found in review: metadata that cannot
-- pass for another user, restore's metadata scope, _sync with awkward column
-- names and identity columns, partitions created after track(), untrack of a
-- partition or with the event table gone, long table names, corrections of a
-- tracked table's history.
-- It runs in autocommit (restore needs committed history) and drops what it
-- creates at the end.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
\set QUIET on
SELECT plan(22);

-- chronicle.meta cannot override who made the change.
CREATE TABLE e_meta (id int PRIMARY KEY, v text);
SELECT chronicle.track('e_meta') \g /dev/null
BEGIN;
SET LOCAL chronicle.meta = '{"user": "mallory", "application": "forged", "reason": "x"}';
INSERT INTO e_meta VALUES (1, 'a');
COMMIT;
SELECT is((SELECT meta->>'user' FROM e_meta_events WHERE type = 'insert'), session_user::text,
          'chronicle.meta cannot set the recorded user');
SELECT is((SELECT meta->>'reason' FROM e_meta_events WHERE type = 'insert'), 'x',
          '... and its other keys are kept');

-- An in-place restore marks its own changes only.
CREATE TABLE e_rest (id int PRIMARY KEY, v text);
INSERT INTO e_rest VALUES (1, 'a');
SELECT chronicle.track('e_rest') \g /dev/null
CREATE TEMP TABLE e_t AS SELECT clock_timestamp() AS t;
UPDATE e_rest SET v = 'b';
SELECT is(chronicle.restore('e_rest', known_at => (SELECT t FROM e_t)), 1::bigint, 'in-place restore changes one row');
UPDATE e_rest SET v = 'c';
SELECT is((SELECT meta ? 'restore' FROM e_rest_events ORDER BY position DESC LIMIT 1), false,
          'a change after an in-place restore does not carry the restore marker');
SELECT is(COALESCE(current_setting('chronicle.meta', true), ''), '', 'chronicle.meta is as it was before the restore');

-- _sync (restore in place, apply_due) with columns named like its aliases
-- and a GENERATED ALWAYS identity column.
CREATE TABLE e_alias (id int PRIMARY KEY, a text, t text, n int GENERATED ALWAYS AS IDENTITY);
INSERT INTO e_alias (id, a, t) VALUES (1, 'x', 'y'), (2, 'p', 'q');
SELECT chronicle.track('e_alias') \g /dev/null
TRUNCATE e_t;
INSERT INTO e_t SELECT clock_timestamp();
UPDATE e_alias SET a = 'changed' WHERE id = 1;
DELETE FROM e_alias WHERE id = 2;
SELECT lives_ok($$SELECT chronicle.restore('e_alias', known_at => (SELECT t FROM e_t))$$,
                'in-place restore works with columns named a and t and an identity column');
SELECT results_eq('SELECT id, a, t FROM e_alias ORDER BY id', $$VALUES (1, 'x'::text, 'y'::text), (2, 'p', 'q')$$,
                  '... and brings the rows back');

-- A partition created after track() gets the statement triggers: its own
-- TRUNCATE is recorded as deletes.
CREATE TABLE e_part (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE e_part_1 PARTITION OF e_part FOR VALUES FROM (0) TO (100);
SELECT chronicle.track('e_part') \g /dev/null
CREATE TABLE e_part_2 PARTITION OF e_part FOR VALUES FROM (100) TO (200);
INSERT INTO e_part VALUES (1, 'a'), (150, 'b');
TRUNCATE e_part_2;
SELECT is((SELECT count(*) FROM chronicle.as_of(NULL::e_part)), 1::bigint,
          'TRUNCATE of a partition created after track() is recorded');
SELECT is((SELECT type FROM e_part_events WHERE stream = '150' ORDER BY position DESC LIMIT 1), 'delete',
          '... as a delete of its row');
SELECT throws_ok($$SELECT chronicle.untrack('e_part_1')$$, '55000', NULL, 'untrack of a partition is refused');

-- untrack works when the event table is gone.
CREATE TABLE e_gone (id int PRIMARY KEY);
SELECT chronicle.track('e_gone') \g /dev/null
DROP TABLE e_gone_events;
SELECT throws_ok('INSERT INTO e_gone VALUES (1)', '42P01', NULL, 'writing with the event table gone fails clearly');
SELECT is(chronicle.untrack('e_gone'), NULL, 'untrack works without the event table');
SELECT lives_ok('INSERT INTO e_gone VALUES (1)', '... and the table is writable again');

-- A long table name: the event table's name is cut to fit.
CREATE TABLE e_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id int PRIMARY KEY);
SELECT isnt(chronicle.track('e_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), NULL,
            'track of a 62-character table name returns its event table');
SELECT ok(to_regclass('e_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_events') IS NOT NULL,
          '... named <first 56 characters>_events');

-- A tracked table's history is changed by changing the table, not by correct().
SELECT throws_ok($$SELECT chronicle.correct('e_meta_events', (SELECT position FROM e_meta_events WHERE type = 'insert'), '{}')$$,
                 '0A000', NULL, 'correct() of a captured change is refused');
SELECT lives_ok($$SELECT chronicle.retract('e_meta_events', (SELECT position FROM e_meta_events WHERE type = 'insert'))$$,
                'retract() of a captured change works');

-- as_of with a key folds one row's stream and agrees with the whole table.
CREATE TABLE e_key (a text, b int, v text, PRIMARY KEY (a, b));
INSERT INTO e_key VALUES ('x', 1, 'one'), ('x', 2, 'two'), ('y', 1, 'three');
SELECT chronicle.track('e_key') \g /dev/null
UPDATE e_key SET v = 'uno' WHERE b = 1;
TRUNCATE e_t;
INSERT INTO e_t SELECT clock_timestamp();
TRUNCATE e_key;
INSERT INTO e_key VALUES ('x', 2, 'deux');
SELECT results_eq($$SELECT * FROM chronicle.as_of(NULL::e_key, (SELECT t FROM e_t), NULL, 'x', 1)$$,
                  $$SELECT * FROM chronicle.as_of(NULL::e_key, (SELECT t FROM e_t)) WHERE a = 'x' AND b = 1$$,
                  'as_of with a key equals the whole-table as_of for that row (before a truncate)');
SELECT is((SELECT count(*) FROM chronicle.as_of(NULL::e_key, NULL, NULL, 'x', 1)), 0::bigint,
          'as_of with a key: the row a truncate removed is absent now');
SELECT results_eq($$SELECT * FROM chronicle.as_of(NULL::e_key, NULL, NULL, 'x', 2)$$,
                  $$VALUES ('x'::text, 2, 'deux'::text)$$, 'as_of with a key: the row inserted after the truncate');
SELECT throws_ok($$SELECT * FROM chronicle.as_of(NULL::e_key, NULL, NULL, 'x')$$, '22023', NULL,
                 'as_of with a key of the wrong arity is refused');
SELECT throws_ok($$SELECT * FROM chronicle.history(NULL::e_key, 'nobody', 9)$$, '42704', NULL,
                 'history of a key never recorded: key not found');

SELECT * FROM finish();
DROP TABLE e_meta, e_meta_events, e_rest, e_rest_events, e_alias, e_alias_events, e_part, e_part_events,
           e_gone, e_key, e_key_events, e_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,
           e_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_events, pg_temp.e_t;
