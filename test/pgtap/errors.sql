-- errors.sql: every bad input of the event-table API gets its SQLSTATE (and,
-- where the text is part of the contract, its message); the good cases next
-- to them live. SPEC §1, §2 and §7.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
BEGIN;
SELECT plan(125);

-- Helpers (temporary, gone with the session).
-- as_role runs q as role r, then returns to the session role; on error the
-- caller's subtransaction (throws_ok's) undoes the role switch.
CREATE FUNCTION pg_temp.as_role(r text, q text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE pg_catalog.format('SET LOCAL ROLE %I', r);
  EXECUTE q;
  RESET ROLE;
END
$f$;
-- error_of runs q and returns 'SQLSTATE|message|detail' of its error (NULL
-- when it succeeds).
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  st text;
  msg text;
  det text;
BEGIN
  EXECUTE q;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || '|' || msg || '|' || coalesce(det, '');
END
$f$;
CREATE TEMP TABLE tap_pos (name text PRIMARY KEY, pos bigint NOT NULL);
CREATE TABLE tap_plain (stream text, type text, payload jsonb);
CREATE VIEW tap_view AS SELECT 1 AS x;
CREATE SCHEMA tap_err_s;

-------------------------------------------------------------------------------
-- create_event_table
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT chronicle.create_event_table('tap_err')$$,
  'create_event_table creates an event table');
SELECT lives_ok($$SELECT chronicle.create_event_table('tap_err_s."Mixed Case"')$$,
  'create_event_table accepts a schema-qualified, quoted name');
SELECT isnt(pg_catalog.to_regclass('tap_err_s."Mixed Case"'), NULL,
  'the quoted name is kept as written');
SELECT throws_ok($$SELECT chronicle.create_event_table('tap_err')$$,
  '42P07', 'relation "tap_err" already exists',
  'create_event_table refuses an existing name (42P07)');
SELECT throws_ok($$SELECT chronicle.create_event_table(NULL)$$,
  '22004', 'argument "tbl" must not be null',
  'create_event_table refuses a NULL name (22004)');
SELECT throws_ok($$SELECT chronicle.create_event_table('')$$,
  '22023', 'event table name must not be empty',
  'create_event_table refuses an empty name (22023)');
SELECT throws_ok($$SELECT chronicle.create_event_table('a.b.c')$$,
  '42602', 'improper event table name "a.b.c"',
  'create_event_table refuses a three-part name (42602)');
SELECT throws_ok($$SELECT chronicle.create_event_table('a"b')$$,
  '22023', NULL,
  'create_event_table refuses an unparsable identifier (22023)');
SELECT throws_ok($$SELECT chronicle.create_event_table('tap_no_such_schema.t')$$,
  '3F000', 'schema "tap_no_such_schema" does not exist',
  'create_event_table refuses an unknown schema (3F000)');
-- 63 bytes is the longest identifier PostgreSQL accepts; the derived index,
-- constraint and sequence names must not collide when truncated.
SELECT lives_ok(pg_catalog.format('SELECT chronicle.create_event_table(%L)', pg_catalog.repeat('e', 63)),
  'create_event_table accepts a 63-character name');
SELECT lives_ok(pg_catalog.format('SELECT chronicle.create_event_table(%L)', pg_catalog.repeat('f', 61)),
  'create_event_table accepts a 61-character name');

-------------------------------------------------------------------------------
-- unknown tables and tables that are not event tables
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT chronicle.append('tap_no_such_table', 's', 't', '{}')$$,
  '42P01', 'relation "tap_no_such_table" does not exist', 'append: unknown table (42P01)');
SELECT throws_ok($$SELECT * FROM chronicle.events('tap_no_such_table')$$,
  '42P01', 'relation "tap_no_such_table" does not exist', 'events: unknown table (42P01)');
SELECT throws_ok($$SELECT chronicle.state('tap_no_such_table', 's')$$,
  '42P01', 'relation "tap_no_such_table" does not exist', 'state: unknown table (42P01)');
SELECT throws_ok($$SELECT chronicle.correct('tap_no_such_table', 1, '{}')$$,
  '42P01', 'relation "tap_no_such_table" does not exist', 'correct: unknown table (42P01)');

SELECT throws_ok($$SELECT chronicle.append('tap_plain', 's', 't', '{}')$$,
  '42809', '"tap_plain" is not a chronicle event table', 'append: plain table (42809)');
SELECT throws_ok($$SELECT chronicle.correct('tap_plain', 1, '{}')$$,
  '42809', '"tap_plain" is not a chronicle event table', 'correct: plain table (42809)');
SELECT throws_ok($$SELECT chronicle.retract('tap_plain', 1)$$,
  '42809', '"tap_plain" is not a chronicle event table', 'retract: plain table (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.events('tap_plain')$$,
  '42809', '"tap_plain" is not a chronicle event table', 'events: plain table (42809)');
SELECT throws_ok($$SELECT chronicle.state('tap_plain', 's')$$,
  '42809', '"tap_plain" is not a chronicle event table', 'state: plain table (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.history('tap_plain', 's')$$,
  '42809', '"tap_plain" is not a chronicle event table', 'history: plain table (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.timeline('tap_plain', 's')$$,
  '42809', '"tap_plain" is not a chronicle event table', 'timeline: plain table (42809)');
SELECT throws_ok($$SELECT chronicle.erase('tap_plain', 's')$$,
  '42809', '"tap_plain" is not a chronicle event table', 'erase: plain table (42809)');
SELECT throws_ok($$SELECT * FROM chronicle.events('tap_view')$$,
  '42809', '"tap_view" is not a chronicle event table', 'events: a view (42809)');
-- A look-alike: a trigger with chronicle's name but not chronicle's function.
CREATE TABLE tap_fake (LIKE tap_err);
CREATE FUNCTION pg_temp.fake_stamp() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN RETURN NEW; END$f$;
CREATE TRIGGER zz_chronicle_stamp BEFORE INSERT ON tap_fake FOR EACH ROW EXECUTE FUNCTION pg_temp.fake_stamp();
SELECT throws_ok($$SELECT * FROM chronicle.events('tap_fake')$$,
  '42809', '"tap_fake" is not a chronicle event table',
  'events: a look-alike table whose trigger is not chronicle''s (42809)');

-------------------------------------------------------------------------------
-- nulls
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT chronicle.append(NULL, 's', 't', '{}')$$,
  '22004', 'argument "tbl" must not be null', 'append: null tbl (22004)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', NULL, 't', '{}')$$,
  '22004', 'argument "stream" must not be null', 'append: null stream (22004)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 's', NULL, '{}')$$,
  '22004', 'argument "type" must not be null', 'append: null type (22004)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 's', 't', NULL)$$,
  '22004', 'argument "payload" must not be null', 'append: null payload (22004)');
SELECT throws_ok($$SELECT chronicle.correct('tap_err', NULL, '{}')$$,
  '22004', 'argument "position" must not be null', 'correct: null position (22004)');
SELECT throws_ok($$SELECT chronicle.retract('tap_err', NULL)$$,
  '22004', 'argument "position" must not be null', 'retract: null position (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.events(NULL)$$,
  '22004', 'argument "tbl" must not be null', 'events: null tbl (22004)');
SELECT throws_ok($$SELECT chronicle.state(NULL, 's')$$,
  '22004', 'argument "tbl" must not be null', 'state: null tbl (22004)');
SELECT throws_ok($$SELECT chronicle.state('tap_err', NULL)$$,
  '22004', 'argument "stream" must not be null', 'state: null stream (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.history('tap_err', NULL)$$,
  '22004', 'argument "stream" must not be null', 'history: null stream (22004)');
SELECT throws_ok($$SELECT * FROM chronicle.timeline('tap_err', NULL)$$,
  '22004', 'argument "stream" must not be null', 'timeline: null stream (22004)');
SELECT throws_ok($$SELECT chronicle.erase('tap_err', NULL)$$,
  '22004', 'argument "stream" must not be null', 'erase: null stream (22004)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload) VALUES (NULL, 't', '{}')$$,
  '23502', 'null value in column "stream" of event table "tap_err"', 'INSERT: null stream (23502)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload) VALUES ('s', NULL, '{}')$$,
  '23502', 'null value in column "type" of event table "tap_err"', 'INSERT: null type (23502)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload) VALUES ('s', 't', NULL)$$,
  '23502', 'null value in column "payload" of event table "tap_err"', 'INSERT: null payload (23502)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type) VALUES ('s', 't')$$,
  '23502', 'null value in column "payload" of event table "tap_err"', 'INSERT: missing payload (23502)');

-------------------------------------------------------------------------------
-- valid time
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'vt', 't', '{}', valid_from => '2026-01-01', valid_to => '2026-01-01')$$,
  '22000', 'valid_from must be earlier than valid_to', 'append: empty valid range (22000)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'vt', 't', '{}', valid_from => '2026-02-01', valid_to => '2026-01-01')$$,
  '22000', 'valid_from must be earlier than valid_to', 'append: reversed valid range (22000)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'vt', 't', '{}', valid_from => 'infinity')$$,
  '22000', 'valid_from must be earlier than valid_to', 'append: valid_from infinity with the default valid_to (22000)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'vt', 't', '{}', valid_to => '2000-01-01')$$,
  '22000', 'valid_from must be earlier than valid_to', 'append: valid_to before the default valid_from (now) (22000)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload, valid_from, valid_to) VALUES ('vt', 't', '{}', '2026-02-01', '2026-01-01')$$,
  '22000', 'valid_from must be earlier than valid_to', 'INSERT: reversed valid range (22000)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload, valid_to) VALUES ('vt', 't', '{}', '2000-01-01')$$,
  '22000', 'valid_from must be earlier than valid_to', 'INSERT: valid_to before the default valid_from (22000)');
SELECT matches(
  pg_temp.error_of($$INSERT INTO tap_err (stream, type, payload, valid_from, valid_to) VALUES ('vt', 't', '{}', '2026-02-01', '2026-01-01')$$),
  '^22000\|[^|]*\|valid_from is 2026-02-01 00:00:00\+00 and valid_to is 2026-01-01 00:00:00\+00\.$',
  'the 22000 detail names both bounds, each with its own value');
SELECT lives_ok($$SELECT chronicle.append('tap_err', 'vt', 't', '{}', valid_from => '-infinity', valid_to => '2026-01-01')$$,
  'append: a range from -infinity is valid');
SELECT lives_ok($$INSERT INTO tap_err (stream, type, payload, valid_from, valid_to) VALUES ('vt', 't', '{}', '2026-01-01', '2026-01-01 00:00:00.000001')$$,
  'INSERT: a one-microsecond range is valid');
SELECT is((SELECT count(*) FROM tap_err WHERE stream = 'vt'), 2::bigint,
  'the refused events of stream vt were not written');

-------------------------------------------------------------------------------
-- expected_version
-------------------------------------------------------------------------------
DO $$
BEGIN
  INSERT INTO tap_pos SELECT 'ev1', position FROM chronicle.append('tap_err', 'ev', 'E', '{"n": 1}');
  INSERT INTO tap_pos SELECT 'ev2', position FROM chronicle.append('tap_err', 'ev', 'E', '{"n": 2}');
  INSERT INTO tap_pos SELECT 'ev3', position FROM chronicle.append('tap_err', 'ev', 'E', '{"n": 3}');
END
$$;
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'ev', 'E', '{}', expected_version => 2)$$,
  '40001', 'version conflict on stream "ev": expected version 2, actual version 3',
  'append: expected_version behind the stream (40001)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'ev', 'E', '{}', expected_version => 4)$$,
  '40001', 'version conflict on stream "ev": expected version 4, actual version 3',
  'append: expected_version ahead of the stream (40001)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'ev-new', 'E', '{}', expected_version => 1)$$,
  '40001', 'version conflict on stream "ev-new": expected version 1, actual version 0',
  'append: expected_version 1 on a stream that does not exist (40001)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'ev', 'E', '{}', expected_version => -1)$$,
  '22023', 'expected_version must not be negative', 'append: negative expected_version (22023)');
SELECT is((SELECT count(*) FROM tap_err WHERE stream IN ('ev', 'ev-new')), 3::bigint,
  'a version conflict writes nothing');
SELECT is((SELECT version FROM chronicle.append('tap_err', 'ev', 'E', '{"n": 4}', expected_version => 3)), 4,
  'append: matching expected_version succeeds with the next version');
SELECT is((SELECT version FROM chronicle.append('tap_err', 'ev-new', 'E', '{}', expected_version => 0)), 1,
  'append: expected_version 0 on a new stream succeeds with version 1');
-- corrections and retractions are versions of the stream too
SELECT is((SELECT version FROM chronicle.correct('tap_err', (SELECT pos FROM tap_pos WHERE name = 'ev1'), '{"n": 10}')), 5,
  'a correction takes the next version');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'ev', 'E', '{}', expected_version => 4)$$,
  '40001', 'version conflict on stream "ev": expected version 4, actual version 5',
  'expected_version counts corrections (40001)');
SELECT is((SELECT version FROM chronicle.retract('tap_err', (SELECT pos FROM tap_pos WHERE name = 'ev2'))), 6,
  'a retraction takes the next version');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'ev', 'E', '{}', expected_version => 5)$$,
  '40001', 'version conflict on stream "ev": expected version 5, actual version 6',
  'expected_version counts retractions (40001)');
SELECT is((SELECT version FROM chronicle.append('tap_err', 'ev', 'E', '{}', expected_version => 6)), 7,
  'expected_version equal to the version after a retraction succeeds');

-------------------------------------------------------------------------------
-- correct and retract: targets
-------------------------------------------------------------------------------
DO $$
DECLARE
  a bigint;
  b bigint;
BEGIN
  SELECT position INTO a FROM chronicle.append('tap_err', 'cr', 'A', '{"a": 1}');
  SELECT position INTO b FROM chronicle.append('tap_err', 'cr', 'B', '{"b": 1}');
  INSERT INTO tap_pos VALUES ('a', a), ('b', b);
  INSERT INTO tap_pos SELECT 'a2', position FROM chronicle.correct('tap_err', a, '{"a": 2}');
  INSERT INTO tap_pos SELECT 'br', position FROM chronicle.retract('tap_err', b);
END
$$;
SELECT throws_ok($$SELECT chronicle.correct('tap_err', 999999, '{}')$$,
  '42704', 'no event at position 999999 in "tap_err"', 'correct: unknown position (42704)');
SELECT throws_ok($$SELECT chronicle.retract('tap_err', 999999)$$,
  '42704', 'no event at position 999999 in "tap_err"', 'retract: unknown position (42704)');
SELECT throws_ok($$SELECT chronicle.correct('tap_err', -1, '{}')$$,
  '42704', 'no event at position -1 in "tap_err"', 'correct: negative position (42704)');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, %L)', 'tap_err', a.pos, '{"a": 3}'),
  '55000', pg_catalog.format('event at position %s is already superseded by position %s', a.pos, a2.pos),
  'correct: an event already corrected (55000)')
  FROM tap_pos a, tap_pos a2 WHERE a.name = 'a' AND a2.name = 'a2';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.retract(%L, %s)', 'tap_err', a.pos),
  '55000', pg_catalog.format('event at position %s is already superseded by position %s', a.pos, a2.pos),
  'retract: an event already corrected (55000)')
  FROM tap_pos a, tap_pos a2 WHERE a.name = 'a' AND a2.name = 'a2';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, %L)', 'tap_err', b.pos, '{"b": 2}'),
  '55000', pg_catalog.format('event at position %s is already superseded by position %s', b.pos, br.pos),
  'correct: an event already retracted (55000)')
  FROM tap_pos b, tap_pos br WHERE b.name = 'b' AND br.name = 'br';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.retract(%L, %s)', 'tap_err', b.pos),
  '55000', pg_catalog.format('event at position %s is already superseded by position %s', b.pos, br.pos),
  'retract: an event already retracted (55000)')
  FROM tap_pos b, tap_pos br WHERE b.name = 'b' AND br.name = 'br';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, %L)', 'tap_err', br.pos, '{"b": 2}'),
  '55000', pg_catalog.format('event at position %s is a "$retract" marker and cannot be corrected or retracted', br.pos),
  'correct: a $retract marker (55000)')
  FROM tap_pos br WHERE br.name = 'br';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.retract(%L, %s)', 'tap_err', br.pos),
  '55000', pg_catalog.format('event at position %s is a "$retract" marker and cannot be corrected or retracted', br.pos),
  'retract: a $retract marker (55000)')
  FROM tap_pos br WHERE br.name = 'br';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, %L, type => %L)', 'tap_err', a2.pos, '{}', '$x'),
  '22023', 'event type "$x" is reserved', 'correct: a reserved type (22023)')
  FROM tap_pos a2 WHERE a2.name = 'a2';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, %L)', 'tap_err', a2.pos, '{"a": '),
  '22P02', NULL, 'correct: malformed json (22P02)')
  FROM tap_pos a2 WHERE a2.name = 'a2';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, NULL)', 'tap_err', a2.pos),
  '22004', 'argument "payload" must not be null', 'correct: null payload (22004)')
  FROM tap_pos a2 WHERE a2.name = 'a2';
SELECT throws_ok(pg_catalog.format(
    'SELECT chronicle.correct(%L, %s, %L, valid_from => %L, valid_to => %L)',
    'tap_err', a2.pos, '{}', '2026-03-01', '2026-02-01'),
  '22000', 'valid_from must be earlier than valid_to', 'correct: reversed valid range (22000)')
  FROM tap_pos a2 WHERE a2.name = 'a2';
SELECT throws_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, %L, valid_to => %L)',
    'tap_err', a2.pos, '{}', '2000-01-01'),
  '22000', 'valid_from must be earlier than valid_to',
  'correct: a valid_to before the kept valid_from (22000)')
  FROM tap_pos a2 WHERE a2.name = 'a2';
SELECT lives_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, %L)', 'tap_err', a2.pos, '{"a": 3}'),
  'correct: the head of a correction chain can be corrected')
  FROM tap_pos a2 WHERE a2.name = 'a2';
SELECT is((SELECT count(*) FROM tap_err WHERE stream = 'cr'), 5::bigint,
  'the refused corrections and retractions wrote nothing');
-- the '$erase' marker is not an event either
SELECT lives_ok($$SELECT chronicle.erase('tap_err', 'er')$$, 'erase of a stream by a superuser');
SELECT throws_ok(pg_catalog.format('SELECT chronicle.correct(%L, %s, %L)', 'tap_err', e.position, '{}'),
  '55000', pg_catalog.format('event at position %s is a "$erase" marker and cannot be corrected or retracted', e.position),
  'correct: a $erase marker (55000)')
  FROM tap_err e WHERE e.stream = 'er' AND e.type = '$erase';

-------------------------------------------------------------------------------
-- system columns and reserved types
-------------------------------------------------------------------------------
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload, position) VALUES ('sys', 't', '{}', 424242)$$,
  '428C9', 'cannot insert a value into column "position" of event table "tap_err"',
  'INSERT: caller-supplied position (428C9)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload, version) VALUES ('sys', 't', '{}', 1)$$,
  '428C9', 'cannot insert a value into column "version" of event table "tap_err"',
  'INSERT: caller-supplied version (428C9)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload, recorded_at) VALUES ('sys', 't', '{}', '2020-01-01')$$,
  '428C9', 'cannot insert a value into column "recorded_at" of event table "tap_err"',
  'INSERT: caller-supplied recorded_at (428C9)');
SELECT throws_ok(pg_catalog.format(
    'INSERT INTO tap_err (stream, type, payload, supersedes) VALUES (%L, %L, %L, %s)', 'ev', 'E', '{}', p.pos),
  '428C9', 'cannot insert a value into column "supersedes" of event table "tap_err"',
  'INSERT: caller-supplied supersedes (428C9)')
  FROM tap_pos p WHERE p.name = 'ev3';
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'sys', '$retract', '{}')$$,
  '22023', 'event type "$retract" is reserved', 'append: type $retract is reserved (22023)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'sys', '$erase', '{}')$$,
  '22023', 'event type "$erase" is reserved', 'append: type $erase is reserved (22023)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'sys', '$anything', '{}')$$,
  '22023', 'event type "$anything" is reserved', 'append: every type beginning with $ is reserved (22023)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload) VALUES ('sys', '$retract', '{}')$$,
  '22023', 'event type "$retract" is reserved', 'INSERT: type $retract is reserved (22023)');
SELECT lives_ok($$SELECT chronicle.append('tap_err', 'sys', 'price$', '{}')$$,
  'append: a $ that is not the first character is an ordinary type');
SELECT lives_ok($$INSERT INTO tap_err (stream, type, payload, valid_from, valid_to, meta) VALUES ('sys', 't', '{}', '2026-01-01', '2026-02-01', '{"by": "tap"}')$$,
  'INSERT: stream, type, payload, valid_from, valid_to and meta may be given');
SELECT lives_ok($$INSERT INTO tap_err (stream, type, payload, position, version, recorded_at, supersedes) VALUES ('sys', 't', '{}', NULL, NULL, NULL, NULL)$$,
  'INSERT: explicit nulls for the system columns are accepted');
SELECT is((SELECT count(*) FROM tap_err WHERE stream = 'sys'), 3::bigint,
  'the refused inserts wrote nothing');

-------------------------------------------------------------------------------
-- immutability
-------------------------------------------------------------------------------
SELECT throws_ok($$UPDATE tap_err SET payload = '{}'$$, '0A000',
  'cannot update event table "tap_err": events are immutable', 'UPDATE is refused (0A000)');
SELECT throws_ok($$UPDATE tap_err SET payload = '{}' WHERE false$$, '0A000', NULL,
  'UPDATE is refused even when it matches no row (0A000)');
SELECT throws_ok($$DELETE FROM tap_err$$, '0A000',
  'cannot delete from event table "tap_err": events are immutable', 'DELETE is refused (0A000)');
SELECT throws_ok($$TRUNCATE tap_err$$, '0A000',
  'cannot truncate event table "tap_err": events are immutable', 'TRUNCATE is refused (0A000)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload) VALUES ('s', 't', '{}') ON CONFLICT (position) DO UPDATE SET payload = '{}'$$,
  '0A000', NULL, 'INSERT ... ON CONFLICT DO UPDATE is refused (0A000)');
SELECT throws_ok($$MERGE INTO tap_err t USING (SELECT 1 AS p) s ON t.position = s.p WHEN MATCHED THEN DELETE$$,
  '0A000', NULL, 'MERGE ... DELETE is refused (0A000)');

-------------------------------------------------------------------------------
-- privileges
-------------------------------------------------------------------------------
CREATE ROLE tap_nobody NOLOGIN;
CREATE ROLE tap_direct NOLOGIN;
CREATE ROLE tap_writer NOLOGIN;
CREATE ROLE tap_admin NOLOGIN;
GRANT EXECUTE ON FUNCTION chronicle.erase(regclass, text) TO tap_direct;
GRANT ALL ON tap_err TO tap_writer;
GRANT chronicle_admin TO tap_admin;

SELECT throws_ok($$SELECT pg_temp.as_role('tap_writer', 'UPDATE tap_err SET payload = NULL')$$,
  '0A000', NULL, 'UPDATE is refused to a role granted UPDATE (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_writer', 'DELETE FROM tap_err')$$,
  '0A000', NULL, 'DELETE is refused to a role granted DELETE (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_writer', 'TRUNCATE tap_err')$$,
  '0A000', NULL, 'TRUNCATE is refused to a role granted TRUNCATE (0A000)');
SELECT lives_ok($$SELECT pg_temp.as_role('tap_writer', $q$SELECT chronicle.append('tap_err', 'w', 't', '{}')$q$)$$,
  'a role with INSERT and SELECT on the table can append');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_nobody', $q$SELECT chronicle.append('tap_err', 'w', 't', '{}')$q$)$$,
  '42501', 'permission denied for table tap_err', 'append without INSERT privilege (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_nobody', $q$SELECT * FROM chronicle.events('tap_err')$q$)$$,
  '42501', 'permission denied for table tap_err', 'events without SELECT privilege (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_nobody', $q$SELECT chronicle.state('tap_err', 'ev')$q$)$$,
  '42501', 'permission denied for table tap_err', 'state without SELECT privilege (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_nobody', $q$SELECT * FROM chronicle.history('tap_err', 'ev')$q$)$$,
  '42501', 'permission denied for table tap_err', 'history without SELECT privilege (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_nobody', $q$SELECT chronicle.erase('tap_err', 'ev')$q$)$$,
  '42501', 'permission denied for function erase', 'erase without EXECUTE (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_direct', $q$SELECT chronicle.erase('tap_err', 'ev')$q$)$$,
  '42501', 'permission denied to erase events', 'erase with EXECUTE but without chronicle_admin (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_writer', $q$SELECT chronicle.erase('tap_err', 'ev')$q$)$$,
  '42501', NULL, 'erase: table privileges do not replace chronicle_admin (42501)');
SELECT is((SELECT count(*) FROM tap_err WHERE stream = 'ev' AND payload IS NULL AND type <> '$retract'), 0::bigint,
  'the refused erasures erased nothing');
SELECT lives_ok($$SELECT pg_temp.as_role('tap_admin', $q$SELECT chronicle.erase('tap_err', 'ev')$q$)$$,
  'erase by a member of chronicle_admin');
SELECT is(current_user::text, session_user::text, 'the role switches were undone');

-------------------------------------------------------------------------------
-- malformed json
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'j', 't', '{bad')$$,
  '22P02', 'invalid input syntax for type json', 'append: malformed payload (22P02)');
SELECT throws_ok($$SELECT chronicle.append('tap_err', 'j', 't', '{}', meta => '{"a": ')$$,
  '22P02', 'invalid input syntax for type json', 'append: malformed meta (22P02)');
SELECT throws_ok($$INSERT INTO tap_err (stream, type, payload) VALUES ('j', 't', '[1, 2')$$,
  '22P02', 'invalid input syntax for type json', 'INSERT: malformed payload (22P02)');
SELECT is((SELECT count(*) FROM tap_err WHERE stream = 'j'), 0::bigint, 'malformed json wrote nothing');

-------------------------------------------------------------------------------
-- a failed erase must not leave chronicle's internal-write permission behind
-------------------------------------------------------------------------------
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_err_trg'); END $$;
CREATE FUNCTION pg_temp.refuse_erase() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF NEW.type = '$erase' THEN
    RAISE EXCEPTION 'no erasure here';
  END IF;
  RETURN NEW;
END
$f$;
CREATE TRIGGER aa_refuse_erase BEFORE INSERT ON tap_err_trg FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_erase();
INSERT INTO tap_pos SELECT 'trg1', position FROM chronicle.append('tap_err_trg', 'g', 't', '{"x": 1}');
SELECT throws_ok($$SELECT chronicle.erase('tap_err_trg', 'g')$$, 'P0001', 'no erasure here',
  'erase fails when a user trigger refuses its marker');
SELECT throws_ok(pg_catalog.format(
    'INSERT INTO tap_err_trg (stream, type, payload, supersedes) VALUES (%L, %L, NULL, %s)', 'g', '$retract', p.pos),
  '428C9', NULL,
  'after a failed erase, a plain INSERT still cannot forge a retraction (428C9)')
  FROM tap_pos p WHERE p.name = 'trg1';
SELECT is(chronicle.state('tap_err_trg', 'g'), '{"x": 1}'::jsonb,
  'after a failed erase, the stream is untouched');

-------------------------------------------------------------------------------
-- search_path: internal references are schema-qualified (SPEC §7)
-------------------------------------------------------------------------------
-- A schema ahead of pg_catalog in search_path shadows "=" for text and
-- bigint with "<>". chronicle's own queries must not pick these up.
CREATE SCHEMA tap_evil;
CREATE FUNCTION tap_evil.text_ne(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE
  AS 'SELECT $1 OPERATOR(pg_catalog.<>) $2';
CREATE OPERATOR tap_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = tap_evil.text_ne);
CREATE FUNCTION tap_evil.int8_ne(bigint, bigint) RETURNS boolean LANGUAGE sql IMMUTABLE
  AS 'SELECT $1 OPERATOR(pg_catalog.<>) $2';
CREATE OPERATOR tap_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = tap_evil.int8_ne);
DO $$
BEGIN
  PERFORM chronicle.create_event_table('tap_sp');
  INSERT INTO tap_pos SELECT 'sp_a', position FROM chronicle.append('tap_sp', 'a', 'A', '{"a": 1}');
  PERFORM chronicle.append('tap_sp', 'b', 'B', '{"b": 1}');
END
$$;
SELECT pos AS sp_a FROM tap_pos WHERE name = 'sp_a' \gset
CREATE TEMP TABLE tap_sp_out (k text, v text);
-- capture stores the first column of q's first row, or its error, under k
-- (no operator in its body: it runs under the hostile search_path).
CREATE FUNCTION pg_temp.capture(k text, q text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  v text;
BEGIN
  BEGIN
    EXECUTE q INTO v;
  EXCEPTION WHEN OTHERS THEN
    v := 'ERROR: ' || SQLERRM;
  END;
  INSERT INTO tap_sp_out VALUES (k, v);
END
$f$;
SET search_path = tap_evil, pg_catalog, public;
DO $$
BEGIN
  PERFORM pg_temp.capture('state', $q$SELECT chronicle.state('tap_sp', 'a')::text$q$);
  PERFORM pg_temp.capture('events', $q$SELECT string_agg(stream, ',' ORDER BY replay) FROM chronicle.events('tap_sp', 'a')$q$);
  PERFORM pg_temp.capture('history', $q$SELECT string_agg(type, ',' ORDER BY position) FROM chronicle.history('tap_sp', 'a')$q$);
  PERFORM pg_temp.capture('create', $q$SELECT chronicle.create_event_table('tap_sp2')::text$q$);
END
$$;
SELECT pg_temp.capture('correct', 'SELECT position::text FROM chronicle.correct(''tap_sp'', ' || :sp_a || ', ''{"a": 2}'')') IS NULL AS "captured" \gset
RESET search_path;
SELECT is((SELECT v FROM tap_sp_out WHERE k = 'state'), '{"a": 1}',
  'search_path: state() is not fooled by a shadowing "=" operator');
SELECT is((SELECT v FROM tap_sp_out WHERE k = 'events'), 'a',
  'search_path: events() is not fooled by a shadowing "=" operator');
SELECT is((SELECT v FROM tap_sp_out WHERE k = 'history'), 'A',
  'search_path: history() is not fooled by a shadowing "=" operator');
SELECT results_eq(pg_catalog.format('SELECT stream, type FROM tap_sp WHERE supersedes = %s', :sp_a),
  $$VALUES ('a', 'A')$$,
  'search_path: correct() corrects the event at the given position, in its stream');
SELECT matches((SELECT v FROM tap_sp_out WHERE k = 'create'), 'tap_sp2$',
  'search_path: create_event_table() is not fooled by a shadowing "=" operator');

SELECT * FROM finish();
ROLLBACK;
