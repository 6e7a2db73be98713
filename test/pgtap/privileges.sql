-- privileges.sql: who may do what through chronicle (SPEC §7), with real
-- roles: reading history needs SELECT on the table, tracking needs
-- ownership, nobody (the owner included) rewrites events through DML, only
-- chronicle_admin erases, row-level security is never bypassed, and no
-- object planted by an unprivileged role on search_path is ever called by
-- chronicle. The roles vanish with the final ROLLBACK.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
BEGIN;
SELECT plan(197);

-- as_role runs q as role r, then returns to the session role; on error the
-- caller's subtransaction (throws_ok's) undoes the role switch.
CREATE FUNCTION pg_temp.as_role(r text, q text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE pg_catalog.format('SET LOCAL ROLE %I', r);
  EXECUTE q;
  RESET ROLE;
END
$f$;
-- as_role_val runs q as role r and returns the first column of its first row.
CREATE FUNCTION pg_temp.as_role_val(r text, q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  v text;
BEGIN
  EXECUTE pg_catalog.format('SET LOCAL ROLE %I', r);
  EXECUTE q INTO v;
  RESET ROLE;
  RETURN v;
END
$f$;
-- outcome runs q as role r and undoes it; it returns 'ok' or the SQLSTATE
-- of its error (for refusals that may wrongly succeed).
CREATE FUNCTION pg_temp.outcome(r text, q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  st text;
BEGIN
  BEGIN
    EXECUTE pg_catalog.format('SET LOCAL ROLE %I', r);
    EXECUTE q;
    RAISE EXCEPTION USING ERRCODE = 'ZZ999';
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
  END;
  RETURN CASE st WHEN 'ZZ999' THEN 'ok' ELSE st END;
END
$f$;

-------------------------------------------------------------------------------
-- search_path hijacking (SPEC §7: every internal reference is
-- schema-qualified). An unprivileged role plants, in a schema it owns and in
-- public, functions, aggregates, operators and types named like those
-- chronicle's SQL, PL/pgSQL and SPI queries use; each one counts its calls
-- (a sequence: not undone when the call fails) and logs its name. A
-- superuser then runs every chronicle function with that schema first on
-- search_path (and, second pass, with the default search_path and the
-- planted public objects). No planted object may run.
-------------------------------------------------------------------------------
CREATE ROLE tap_pv_att NOLOGIN;
CREATE SCHEMA tap_att AUTHORIZATION tap_pv_att;
GRANT USAGE ON SCHEMA tap_att TO PUBLIC;
GRANT CREATE ON SCHEMA public TO tap_pv_att;
CREATE TEMP TABLE hj_result (pass text, ord integer, label text, err text, hits bigint, hit text);
GRANT ALL ON hj_result TO PUBLIC;

SET ROLE tap_pv_att;
SET search_path = pg_catalog;
CREATE SEQUENCE tap_att.hits;
CREATE TABLE tap_att.log (obj pg_catalog.text);
GRANT USAGE ON SEQUENCE tap_att.hits TO PUBLIC;
GRANT INSERT, SELECT ON tap_att.log TO PUBLIC;
CREATE FUNCTION tap_att.spy(obj pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM pg_catalog.nextval('tap_att.hits'::pg_catalog.regclass);
  INSERT INTO tap_att.log VALUES (obj);
  RETURN true;
END
$f$;
-- plant(s) creates the look-alikes in schema s; each does the real work
-- after calling spy, so that a hijack is seen, not a breakage.
CREATE FUNCTION tap_att.plant(s pg_catalog.text) RETURNS void LANGUAGE plpgsql AS $plant$
DECLARE
  d pg_catalog.text;
  f pg_catalog.text[];
BEGIN
  -- types: domains over chronicle's types, checked by spy
  FOREACH d IN ARRAY ARRAY['text', 'jsonb', 'timestamptz', 'regclass', 'regnamespace', 'name', 'int2',
                           'int4', 'int8', 'bool', 'oid', 'interval', 'varchar', 'json', 'regtype'] LOOP
    EXECUTE pg_catalog.format('CREATE DOMAIN %I.%I AS pg_catalog.%I CHECK (tap_att.spy(%L))',
                              s, d, d, pg_catalog.format('type %s.%s', s, d));
  END LOOP;
  -- functions: name, argument list, return type, real call
  FOREACH f SLICE 1 IN ARRAY ARRAY[
      ['format', 'a pg_catalog.text, b pg_catalog.text', 'pg_catalog.text', 'pg_catalog.format(a, b)'],
      ['format', 'a pg_catalog.text, b pg_catalog.text, c pg_catalog.text', 'pg_catalog.text', 'pg_catalog.format(a, b, c)'],
      ['format', 'a pg_catalog.text, b pg_catalog.regclass', 'pg_catalog.text', 'pg_catalog.format(a, b)'],
      ['format', 'a pg_catalog.text, b pg_catalog.text, c pg_catalog.regclass', 'pg_catalog.text', 'pg_catalog.format(a, b, c)'],
      ['concat', 'a pg_catalog.text, b pg_catalog.text', 'pg_catalog.text', 'pg_catalog.concat(a, b)'],
      ['concat', 'a pg_catalog.text, b pg_catalog.text, c pg_catalog.int4', 'pg_catalog.text', 'pg_catalog.concat(a, b, c)'],
      ['now', '', 'pg_catalog.timestamptz', 'pg_catalog.now()'],
      ['clock_timestamp', '', 'pg_catalog.timestamptz', 'pg_catalog.clock_timestamp()'],
      ['length', 'a pg_catalog.text', 'pg_catalog.int4', 'pg_catalog.length(a)'],
      ['parse_ident', 'a pg_catalog.text', 'pg_catalog.text[]', 'pg_catalog.parse_ident(a)'],
      ['parse_ident', 'a pg_catalog.text, b pg_catalog.bool', 'pg_catalog.text[]', 'pg_catalog.parse_ident(a, b)'],
      ['to_regclass', 'a pg_catalog.text', 'pg_catalog.regclass', 'pg_catalog.to_regclass(a)'],
      ['jsonb_populate_record', 'a anyelement, b pg_catalog.jsonb', 'anyelement', 'pg_catalog.jsonb_populate_record(a, b)'],
      ['date_trunc', 'a pg_catalog.text, b pg_catalog.timestamptz', 'pg_catalog.timestamptz', 'pg_catalog.date_trunc(a, b)'],
      ['date_trunc', 'a pg_catalog.text, b pg_catalog.timestamp', 'pg_catalog.timestamp', 'pg_catalog.date_trunc(a, b)'],
      ['quote_ident', 'a pg_catalog.text', 'pg_catalog.text', 'pg_catalog.quote_ident(a)'],
      ['quote_literal', 'a pg_catalog.text', 'pg_catalog.text', 'pg_catalog.quote_literal(a)'],
      ['current_setting', 'a pg_catalog.text', 'pg_catalog.text', 'pg_catalog.current_setting(a)'],
      ['current_setting', 'a pg_catalog.text, b pg_catalog.bool', 'pg_catalog.text', 'pg_catalog.current_setting(a, b)'],
      ['set_config', 'a pg_catalog.text, b pg_catalog.text, c pg_catalog.bool', 'pg_catalog.text', 'pg_catalog.set_config(a, b, c)'],
      ['left', 'a pg_catalog.text, b pg_catalog.int4', 'pg_catalog.text', 'pg_catalog.left(a, b)'],
      ['array_length', 'a anyarray, b pg_catalog.int4', 'pg_catalog.int4', 'pg_catalog.array_length(a, b)'],
      ['current_schemas', 'a pg_catalog.bool', 'pg_catalog.name[]', 'pg_catalog.current_schemas(a)'],
      ['regexp_match', 'a pg_catalog.text, b pg_catalog.text', 'pg_catalog.text[]', 'pg_catalog.regexp_match(a, b)'],
      ['to_char', 'a pg_catalog.timestamp, b pg_catalog.text', 'pg_catalog.text', 'pg_catalog.to_char(a, b)'],
      ['has_table_privilege', 'a pg_catalog.regclass, b pg_catalog.text', 'pg_catalog.bool', 'pg_catalog.has_table_privilege(a, b)'],
      ['pg_get_expr', 'a pg_catalog.pg_node_tree, b pg_catalog.regclass', 'pg_catalog.text', 'pg_catalog.pg_get_expr(a, b)'],
      ['split_part', 'a pg_catalog.text, b pg_catalog.text, c pg_catalog.int4', 'pg_catalog.text', 'pg_catalog.split_part(a, b, c)'],
      ['encode', 'a pg_catalog.bytea, b pg_catalog.text', 'pg_catalog.text', 'pg_catalog.encode(a, b)'],
      ['jsonb_build_object', 'a pg_catalog.text, b pg_catalog.timestamptz, c pg_catalog.text, d pg_catalog.timestamptz', 'pg_catalog.jsonb',
       'pg_catalog.jsonb_build_object(a, b, c, d)'],
      ['jsonb_build_object', 'a pg_catalog.text, b pg_catalog.jsonb', 'pg_catalog.jsonb', 'pg_catalog.jsonb_build_object(a, b)'],
      ['jsonb_array_elements', 'a pg_catalog.jsonb', 'SETOF pg_catalog.jsonb', 'pg_catalog.jsonb_array_elements(a)'],
      ['nextval', 'a pg_catalog.regclass', 'pg_catalog.int8', 'pg_catalog.nextval(a)'],
      ['array_to_string', 'a anyarray, b pg_catalog.text', 'pg_catalog.text', 'pg_catalog.array_to_string(a, b)'],
      ['timezone', 'a pg_catalog.text, b pg_catalog.timestamptz', 'pg_catalog.timestamp', 'pg_catalog.timezone(a, b)'],
      ['timezone', 'a pg_catalog.text, b pg_catalog.timestamp', 'pg_catalog.timestamptz', 'pg_catalog.timezone(a, b)'],
      ['textlike', 'a pg_catalog.text, b pg_catalog.text', 'pg_catalog.bool', 'pg_catalog.textlike(a, b)'],
      ['pg_event_trigger_dropped_objects', '', 'SETOF pg_catalog.record', 'NULL'],
      ['lower', 'a pg_catalog.text', 'pg_catalog.text', 'pg_catalog.lower(a)'],
      ['upper', 'a pg_catalog.text', 'pg_catalog.text', 'pg_catalog.upper(a)'],
      ['replace', 'a pg_catalog.text, b pg_catalog.text, c pg_catalog.text', 'pg_catalog.text', 'pg_catalog.replace(a, b, c)']] LOOP
    IF f[3] LIKE 'SETOF %' THEN
      CONTINUE WHEN f[4] = 'NULL';
      EXECUTE pg_catalog.format('CREATE FUNCTION %I.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L', s, f[1], f[2], f[3],
        pg_catalog.format('BEGIN PERFORM tap_att.spy(%L); RETURN QUERY SELECT * FROM %s; END',
                          pg_catalog.format('function %s.%s(%s)', s, f[1], f[2]), f[4]));
    ELSE
      EXECUTE pg_catalog.format('CREATE FUNCTION %I.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L', s, f[1], f[2], f[3],
        pg_catalog.format('BEGIN PERFORM tap_att.spy(%L); RETURN %s; END',
                          pg_catalog.format('function %s.%s(%s)', s, f[1], f[2]), f[4]));
    END IF;
  END LOOP;
  -- aggregates
  EXECUTE pg_catalog.format($a$
    CREATE FUNCTION %1$I.max_sf(a pg_catalog.timestamptz, b pg_catalog.timestamptz) RETURNS pg_catalog.timestamptz
      LANGUAGE plpgsql AS $b$BEGIN PERFORM tap_att.spy(%2$L); RETURN pg_catalog.timestamptz_larger(a, b); END$b$;
    CREATE AGGREGATE %1$I.max(pg_catalog.timestamptz) (SFUNC = %1$I.max_sf, STYPE = pg_catalog.timestamptz);
    CREATE FUNCTION %1$I.sagg_sf(a pg_catalog.text, b pg_catalog.text, c pg_catalog.text) RETURNS pg_catalog.text
      LANGUAGE plpgsql AS $b$BEGIN PERFORM tap_att.spy(%3$L); RETURN pg_catalog.concat_ws(c, a, b); END$b$;
    CREATE AGGREGATE %1$I.string_agg(pg_catalog.text, pg_catalog.text) (SFUNC = %1$I.sagg_sf, STYPE = pg_catalog.text);
    CREATE FUNCTION %1$I.cnt_sf(a pg_catalog.int8) RETURNS pg_catalog.int8
      LANGUAGE plpgsql AS $b$BEGIN PERFORM tap_att.spy(%4$L); RETURN a OPERATOR(pg_catalog.+) 1; END$b$;
    CREATE AGGREGATE %1$I.count(*) (SFUNC = %1$I.cnt_sf, STYPE = pg_catalog.int8, INITCOND = '0');
    $a$, s, pg_catalog.format('aggregate %s.max(timestamptz)', s), pg_catalog.format('aggregate %s.string_agg(text, text)', s),
    pg_catalog.format('aggregate %s.count(*)', s));
  -- operators: symbol, left type, right type, result, real operator
  FOREACH f SLICE 1 IN ARRAY ARRAY[
      ['=', 'text', 'text', 'bool'], ['=', 'int8', 'int8', 'bool'], ['=', 'oid', 'oid', 'bool'],
      ['=', 'regclass', 'regclass', 'bool'], ['=', 'oid', 'regclass', 'bool'], ['=', 'regclass', 'oid', 'bool'],
      ['=', 'name', 'name', 'bool'], ['=', 'name', 'text', 'bool'], ['=', 'char', 'char', 'bool'],
      ['=', 'int2', 'int2', 'bool'], ['=', 'int4', 'int4', 'bool'], ['=', 'timestamptz', 'timestamptz', 'bool'],
      ['=', 'jsonb', 'jsonb', 'bool'], ['<>', 'text', 'text', 'bool'], ['<>', 'char', 'char', 'bool'],
      ['<', 'timestamptz', 'timestamptz', 'bool'], ['<=', 'timestamptz', 'timestamptz', 'bool'],
      ['>', 'timestamptz', 'timestamptz', 'bool'], ['>=', 'timestamptz', 'timestamptz', 'bool'],
      ['<', 'int8', 'int8', 'bool'], ['<=', 'int8', 'int8', 'bool'], ['>', 'int8', 'int8', 'bool'], ['>=', 'int8', 'int8', 'bool'],
      ['>', 'int2', 'int2', 'bool'], ['+', 'int8', 'int8', 'int8'], ['+', 'int4', 'int4', 'int4'],
      ['+', 'timestamptz', 'interval', 'timestamptz'], ['+', 'timestamp', 'interval', 'timestamp'],
      ['||', 'text', 'text', 'text'], ['||', 'jsonb', 'jsonb', 'jsonb'], ['->>', 'jsonb', 'text', 'text'],
      ['->', 'jsonb', 'text', 'jsonb'], ['~~', 'text', 'text', 'bool'], ['~~', 'name', 'text', 'bool']] LOOP
    d := pg_catalog.format('op_%s', pg_catalog.md5(pg_catalog.array_to_string(f, ',')));
    EXECUTE pg_catalog.format(
      'CREATE FUNCTION %I.%I(a pg_catalog.%I, b pg_catalog.%I) RETURNS pg_catalog.%I LANGUAGE plpgsql AS %L',
      s, d, f[2], f[3], f[4],
      pg_catalog.format('BEGIN PERFORM tap_att.spy(%L); RETURN a OPERATOR(pg_catalog.%s) b; END',
                        pg_catalog.format('operator %s.%s(%s, %s)', s, f[1], f[2], f[3]), f[1]));
    EXECUTE pg_catalog.format('CREATE OPERATOR %I.%s (LEFTARG = pg_catalog.%I, RIGHTARG = pg_catalog.%I, FUNCTION = %I.%I)',
                              s, f[1], f[2], f[3], s, d);
  END LOOP;
END
$plant$;
SELECT tap_att.plant('tap_att') IS NULL AS planted \gset
SELECT tap_att.plant('public') IS NULL AS planted \gset
RESET search_path;
RESET ROLE;

-- hostile(pass, ord, label, path, q) runs q with search_path = path and
-- records its error and the planted objects it called. Every name in it is
-- qualified: it runs under the hostile search_path itself.
CREATE FUNCTION pg_temp.hostile(pass pg_catalog.text, ord pg_catalog.int4, label pg_catalog.text,
                                path pg_catalog.text, q pg_catalog.text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  before pg_catalog.int8;
  logged pg_catalog.int8;
  err pg_catalog.text;
  hit pg_catalog.text;
  old pg_catalog.text := pg_catalog.current_setting('search_path');
BEGIN
  before := pg_catalog.nextval('tap_att.hits'::pg_catalog.regclass);
  SELECT pg_catalog.count(*) INTO logged FROM tap_att.log;
  PERFORM pg_catalog.set_config('search_path', path, true);
  BEGIN
    EXECUTE q;
  EXCEPTION WHEN OTHERS THEN
    err := pg_catalog.concat(SQLSTATE, ': ', SQLERRM);
  END;
  PERFORM pg_catalog.set_config('search_path', old, true);
  SELECT pg_catalog.string_agg(DISTINCT l.obj, ', ') INTO hit
    FROM (SELECT obj FROM tap_att.log OFFSET logged) AS l;
  INSERT INTO pg_temp.hj_result
    VALUES (pass, ord, label, err,
            pg_catalog.nextval('tap_att.hits'::pg_catalog.regclass) OPERATOR(pg_catalog.-) before OPERATOR(pg_catalog.-) 1, hit);
END
$f$;

-- Fixtures, made with a clean search_path: an event table with events, a
-- partitioned event table, a tracked table with history, a table to track.
CREATE TEMP TABLE hj_calls (ord serial, label text, q text);
CREATE FUNCTION pg_temp.hj_fixtures(sfx text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM chronicle.create_event_table('tap_hj_e' || sfx);
  PERFORM chronicle.append('tap_hj_e' || sfx, 's', 't', '{"a": 1}');
  PERFORM chronicle.append('tap_hj_e' || sfx, 's', 't', '{"b": 2}', valid_from => '2020-01-01');
  PERFORM chronicle.append('tap_hj_e' || sfx, 'x', 't', '{"x": 1}');
  PERFORM chronicle.create_event_table('tap_hj_pe' || sfx, partition_by => 'month');
  EXECUTE format('CREATE TABLE %I (id integer PRIMARY KEY, v text)', 'tap_hj_t' || sfx);
  EXECUTE format('INSERT INTO %I VALUES (1, %L), (2, %L)', 'tap_hj_t' || sfx, 'one', 'two');
  PERFORM chronicle.track(('tap_hj_t' || sfx)::regclass);
  EXECUTE format('UPDATE %I SET v = %L WHERE id = 1', 'tap_hj_t' || sfx, 'uno');
  EXECUTE format('CREATE TABLE %I (id integer PRIMARY KEY, v text)', 'tap_hj_u' || sfx);
  EXECUTE format('INSERT INTO %I VALUES (1, %L)', 'tap_hj_u' || sfx, 'one');
  EXECUTE format('CREATE SCHEMA %I', 'tap_hj_view' || sfx);
  EXECUTE format('CREATE TABLE %I (id integer)', 'tap_hj_drop' || sfx);
END
$f$;
-- The calls; %1$s is the pass's suffix. Every chronicle function, the
-- triggers behind DML on tracked and event tables, and the event triggers.
INSERT INTO hj_calls (label, q) VALUES
  ('create_event_table', $$SELECT chronicle.create_event_table('tap_hj_new%1$s')$$),
  ('create_event_table(partition_by)', $$SELECT chronicle.create_event_table('tap_hj_newp%1$s', partition_by => 'day')$$),
  ('append', $$SELECT chronicle.append('tap_hj_e%1$s', 's', 't', '{"c": 3}', meta => '{"m": 1}', expected_version => 2)$$),
  ('append to a partitioned event table', $$SELECT chronicle.append('tap_hj_pe%1$s', 's', 't', '{"c": 3}')$$),
  ('INSERT into an event table', $$INSERT INTO tap_hj_e%1$s (stream, type, payload) VALUES ('s', 't', '{"d": 4}')$$),
  ('correct', $$SELECT chronicle.correct('tap_hj_e%1$s', 1, '{"a": 10}')$$),
  ('retract', $$SELECT chronicle.retract('tap_hj_e%1$s', 2)$$),
  ('events', $$SELECT pg_catalog.count(*) FROM chronicle.events('tap_hj_e%1$s', 's', pg_catalog.now(), pg_catalog.now())$$),
  ('state', $$SELECT chronicle.state('tap_hj_e%1$s', 's')$$),
  ('history(regclass, text)', $$SELECT pg_catalog.count(*) FROM chronicle.history('tap_hj_e%1$s'::pg_catalog.regclass, 's')$$),
  ('history(text, text)', $$SELECT pg_catalog.count(*) FROM chronicle.history('tap_hj_e%1$s', 's')$$),
  ('timeline', $$SELECT pg_catalog.count(*) FROM chronicle.timeline('tap_hj_e%1$s', 's')$$),
  ('read', $$SELECT pg_catalog.count(*) FROM chronicle.read('tap_hj_e%1$s')$$),
  ('consume', $$SELECT pg_catalog.count(*) FROM chronicle.consume('g', 'tap_hj_e%1$s')$$),
  ('commit', $$SELECT chronicle.commit('g', 'tap_hj_e%1$s', 0)$$),
  ('reset', $$SELECT chronicle.reset('g', 'tap_hj_e%1$s', 0)$$),
  ('channel', $$SELECT chronicle.channel('tap_hj_e%1$s')$$),
  ('erase', $$SELECT chronicle.erase('tap_hj_e%1$s', 'x')$$),
  ('add_partitions', $$SELECT chronicle.add_partitions('tap_hj_pe%1$s', '6 months')$$),
  ('track', $$SELECT chronicle.track('tap_hj_u%1$s')$$),
  ('INSERT into a tracked table', $$INSERT INTO tap_hj_t%1$s VALUES (3, 'three')$$),
  ('UPDATE of a tracked table', $$UPDATE tap_hj_t%1$s SET v = 'dos' WHERE id OPERATOR(pg_catalog.=) 2$$),
  ('UPDATE of a tracked table, valid in the past',
   $$SELECT pg_catalog.set_config('chronicle.valid_from', '1999-01-01', true), pg_catalog.set_config('chronicle.valid_to', '2000-01-01', true); UPDATE tap_hj_t%1$s SET v = 'old' WHERE id OPERATOR(pg_catalog.=) 2; SELECT pg_catalog.set_config('chronicle.valid_from', '', true), pg_catalog.set_config('chronicle.valid_to', '', true)$$),
  ('DELETE from a tracked table', $$DELETE FROM tap_hj_t%1$s WHERE id OPERATOR(pg_catalog.=) 3$$),
  ('as_of', $$SELECT pg_catalog.count(*) FROM chronicle.as_of(NULL::public.tap_hj_t%1$s)$$),
  ('as_of with a key', $$SELECT pg_catalog.count(*) FROM chronicle.as_of(NULL::public.tap_hj_t%1$s, NULL, NULL, 1)$$),
  ('diff', $$SELECT pg_catalog.count(*) FROM chronicle.diff(NULL::public.tap_hj_t%1$s, '-infinity')$$),
  ('history of a tracked row', $$SELECT pg_catalog.count(*) FROM chronicle.history(NULL::public.tap_hj_t%1$s, 1)$$),
  ('restore into a new table', $$SELECT chronicle.restore('tap_hj_t%1$s', pg_catalog.now(), NULL, 'tap_hj_r%1$s')$$),
  ('restore in place', $$SELECT chronicle.restore('tap_hj_t%1$s', '-infinity')$$),
  ('apply_due', $$SELECT chronicle.apply_due('tap_hj_t%1$s')$$),
  ('create_time_travel_view', $$SELECT chronicle.create_time_travel_view('tap_hj_t%1$s', 'tap_hj_view%1$s')$$),
  ('reading the time-travel view', $$SELECT pg_catalog.count(*) FROM tap_hj_view%1$s.tap_hj_t%1$s$$),
  ('tracked_tables', $$SELECT pg_catalog.count(*) FROM chronicle.tracked_tables$$),
  ('consumer_groups', $$SELECT pg_catalog.count(*) FROM chronicle.consumer_groups$$),
  ('ALTER TABLE of a tracked table (event trigger)', $$ALTER TABLE tap_hj_t%1$s ADD COLUMN w integer$$),
  ('ALTER TABLE of an event table (event trigger)', $$ALTER TABLE tap_hj_e%1$s ENABLE TRIGGER chronicle_immutable$$),
  ('TRUNCATE of a tracked table', $$TRUNCATE tap_hj_t%1$s$$),
  ('untrack', $$SELECT chronicle.untrack('tap_hj_t%1$s')$$),
  ('DROP TABLE (event trigger)', $$DROP TABLE tap_hj_drop%1$s$$),
  ('DROP TABLE of an event table (event trigger)', $$DROP TABLE tap_hj_new%1$s$$),
  ('DML on the table tracked under the hostile search_path, later',
   $$INSERT INTO tap_hj_u%1$s VALUES (2, 'two'); UPDATE tap_hj_u%1$s SET v = 'uno' WHERE id OPERATOR(pg_catalog.=) 1$$),
  ('append to the table created under the hostile search_path, later',
   $$SELECT chronicle.append('tap_hj_newp%1$s', 's', 't', '{}')$$);

-- PL/pgSQL compiles a function once per session, under the search_path of
-- its first call: touch chronicle's PL/pgSQL functions so that they are
-- compiled afresh here, as in a new session, and again afterwards.
CREATE FUNCTION pg_temp.touch_plpgsql() RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  p regprocedure;
BEGIN
  FOR p IN SELECT oid FROM pg_proc
            WHERE pronamespace = 'chronicle'::regnamespace
              AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql') LOOP
    EXECUTE format('ALTER FUNCTION %s COST %s', p, (SELECT procost + 1 FROM pg_proc WHERE oid = p));
  END LOOP;
END
$f$;

SELECT pg_temp.hj_fixtures('_a') IS NULL AS made \gset
-- The attacker also shadows the row types of the victim's tables by name
-- (a domain over each, in its schema): chronicle must not name a row type
-- by an unqualified name.
SET ROLE tap_pv_att;
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tap_hj_t_a', 'tap_hj_u_a'] LOOP
    EXECUTE pg_catalog.format('CREATE DOMAIN tap_att.%I AS public.%I CHECK (tap_att.spy(%L))', t, t, 'row type tap_att.' || t);
  END LOOP;
END
$$;
RESET ROLE;
SELECT pg_temp.touch_plpgsql() IS NULL AS touched \gset
SELECT count(pg_temp.hostile('schema first', c.ord, c.label, 'tap_att, pg_catalog, public', format(c.q, '_a'))) AS ran
  FROM (SELECT * FROM hj_calls ORDER BY ord) AS c \gset
SELECT pg_temp.touch_plpgsql() IS NULL AS touched \gset
SELECT pg_temp.hj_fixtures('_b') IS NULL AS made \gset
SELECT pg_temp.touch_plpgsql() IS NULL AS touched \gset
SELECT count(pg_temp.hostile('public', c.ord, c.label, '"$user", public', format(c.q, '_b'))) AS ran
  FROM (SELECT * FROM hj_calls ORDER BY ord) AS c \gset
SELECT pg_temp.touch_plpgsql() IS NULL AS touched \gset
-- the planted objects go (they would otherwise shadow pgTAP's own calls)
DROP OWNED BY tap_pv_att CASCADE;
REVOKE CREATE ON SCHEMA public FROM tap_pv_att;

SELECT is(current_user::text, session_user::text, 'hijack: back to the session role');
SELECT is((SELECT count(*) FROM hj_result), 86::bigint, 'hijack: every call ran, in both passes');
-- The calls below were hijacked before 0.2 qualified them: unqualified
-- type names in chronicle's PL/pgSQL (DECLARE … text, ::regclass,
-- ::timestamptz, ::jsonb, ::int2[], attname::text) and in the column types
-- of the event tables it creates (text, jsonb, timestamptz), payload::text
-- in the row-history query, the row type named by its unqualified regclass
-- text (NULL::%s) in restore, _sync and the time-travel view, and LIKE
-- (operator ~~) in the sql_drop event trigger's query.
CREATE TEMP TABLE hj_known (label text PRIMARY KEY);
INSERT INTO hj_known VALUES
  ('create_event_table'), ('create_event_table(partition_by)'), ('add_partitions'), ('track'),
  ('history of a tracked row'), ('restore into a new table'), ('restore in place'), ('apply_due'),
  ('create_time_travel_view'), ('reading the time-travel view'), ('untrack'),
  ('append to the table created under the hostile search_path, later');
SELECT is(CASE WHEN r.hits = 0 AND r.err IS NULL THEN 'clean'
               ELSE pg_catalog.format('%s call(s) of planted objects (%s); error: %s', r.hits, r.hit, r.err) END,
          'clean', pg_catalog.format('hijack (%s): %s calls nothing planted and works', r.pass, r.label))
  FROM hj_result AS r
 WHERE NOT (r.pass = 'schema first' AND r.label IN (SELECT label FROM hj_known))
 ORDER BY r.pass DESC, r.ord;
SELECT is(CASE WHEN r.hits = 0 AND r.err IS NULL THEN 'clean'
               ELSE pg_catalog.format('%s call(s) of planted objects (%s); error: %s', r.hits, r.hit, r.err) END,
          'clean', pg_catalog.format('hijack (%s): %s calls nothing planted and works', r.pass, r.label))
  FROM hj_result AS r
 WHERE r.pass = 'schema first' AND r.label IN (SELECT label FROM hj_known)
 ORDER BY r.ord;

-------------------------------------------------------------------------------
-- fixtures: a schema owned by an ordinary role, its event tables and a
-- tracked table; roles with less
-------------------------------------------------------------------------------
CREATE ROLE tap_pv_owner NOLOGIN;
CREATE ROLE tap_pv_nobody NOLOGIN;
CREATE ROLE tap_pv_reader NOLOGIN;
CREATE ROLE tap_pv_colreader NOLOGIN;
CREATE ROLE tap_pv_evreader NOLOGIN;
CREATE ROLE tap_pv_dml NOLOGIN;
CREATE ROLE tap_pv_rls NOLOGIN;
CREATE ROLE tap_pv_bypass NOLOGIN BYPASSRLS;
CREATE ROLE tap_pv_admin NOLOGIN IN ROLE chronicle_admin;
CREATE ROLE tap_pv_noinherit NOLOGIN NOINHERIT IN ROLE chronicle_admin;
CREATE SCHEMA tap_pv AUTHORIZATION tap_pv_owner;
GRANT USAGE ON SCHEMA tap_pv TO PUBLIC;
CREATE SCHEMA tap_pv_views;
GRANT USAGE, CREATE ON SCHEMA tap_pv_views TO PUBLIC;

SET ROLE tap_pv_owner;
SELECT chronicle.create_event_table('tap_pv.ev') IS NOT NULL AS made \gset
SELECT chronicle.append('tap_pv.ev', 'a', 't', '{"a": 1}') IS NOT NULL AS made \gset
SELECT chronicle.append('tap_pv.ev', 'b', 't', '{"b": "secret"}') IS NOT NULL AS made \gset
SELECT chronicle.create_event_table('tap_pv.pev', partition_by => 'month') IS NOT NULL AS made \gset
SELECT chronicle.append('tap_pv.pev', 'a', 't', '{"a": 1}') IS NOT NULL AS made \gset
CREATE TABLE tap_pv.t (id integer PRIMARY KEY, owner_name text NOT NULL, v text);
INSERT INTO tap_pv.t VALUES (1, 'tap_pv_rls', 'mine'), (2, 'someone else', 'hidden');
SELECT chronicle.track('tap_pv.t') IS NOT NULL AS tracked \gset
UPDATE tap_pv.t SET v = 'hidden too' WHERE id = 2;
CREATE TABLE tap_pv.u (id integer PRIMARY KEY);
SELECT chronicle.commit('g', 'tap_pv.ev', 0) IS NOT NULL AS committed \gset
GRANT SELECT ON tap_pv.t, tap_pv.t_events, tap_pv.ev, tap_pv.pev TO tap_pv_reader;
GRANT SELECT (id) ON tap_pv.t TO tap_pv_colreader;
GRANT SELECT ON tap_pv.t_events TO tap_pv_evreader;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON tap_pv.t, tap_pv.u, tap_pv.ev TO tap_pv_dml;
GRANT SELECT ON tap_pv.t TO tap_pv_rls, tap_pv_bypass;
RESET ROLE;

-------------------------------------------------------------------------------
-- without SELECT, no history: every reading function refuses (42501)
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.read(''tap_pv.ev'')')$$,
  '42501', 'permission denied for table ev', 'read: an event table without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.read(''tap_pv.t'')')$$,
  '42501', 'permission denied for table t', 'read: a tracked table without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.read(''tap_pv.pev'')')$$,
  '42501', 'permission denied for table pev', 'read: a partitioned event table without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.consume(''g'', ''tap_pv.ev'')')$$,
  '42501', 'permission denied for table ev', 'consume: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.consume(''g'', ''tap_pv.t'')')$$,
  '42501', 'permission denied for table t', 'consume: a tracked table without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.commit(''g'', ''tap_pv.ev'', 2)')$$,
  '42501', 'permission denied for table ev', 'commit: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.reset(''g'', ''tap_pv.ev'')')$$,
  '42501', 'permission denied for table ev', 'reset: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.channel(''tap_pv.ev'')')$$,
  '42501', 'permission denied for table ev', 'channel: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.events(''tap_pv.ev'')')$$,
  '42501', 'permission denied for table ev', 'events: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.events(''tap_pv.t_events'')')$$,
  '42501', 'permission denied for table t_events', 'events: a tracked table''s event table without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.state(''tap_pv.ev'', ''b'')')$$,
  '42501', 'permission denied for table ev', 'state: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.history(''tap_pv.ev''::regclass, ''b'')')$$,
  '42501', 'permission denied for table ev', 'history(regclass, text): without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.history(''tap_pv.ev'', ''b'')')$$,
  '42501', 'permission denied for table ev', 'history(text, text): without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.timeline(''tap_pv.ev'', ''b'')')$$,
  '42501', 'permission denied for table ev', 'timeline: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.as_of(NULL::tap_pv.t)')$$,
  '42501', 'permission denied for table t', 'as_of: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.as_of(NULL::tap_pv.t, NULL, NULL, 2)')$$,
  '42501', 'permission denied for table t', 'as_of with a key: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.diff(NULL::tap_pv.t, ''-infinity'')')$$,
  '42501', 'permission denied for table t', 'diff: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.history(NULL::tap_pv.t, 2)')$$,
  '42501', 'permission denied for table t', 'history (tracked row): without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.restore(''tap_pv.t'', now(), NULL, ''tap_pv_views.r_nobody'')')$$,
  '42501', 'permission denied for table t', 'restore into a new table: without SELECT (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.restore(''tap_pv.t'', ''-infinity'')')$$,
  '42501', NULL, 'restore in place: without any privilege (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.apply_due(''tap_pv.t'')')$$,
  '42501', 'must be owner of table t', 'apply_due: not the owner (42501)');
SELECT lives_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.create_time_travel_view(''tap_pv.t'', ''tap_pv_views'')')$$,
  'create_time_travel_view: anyone with CREATE on the view schema may create the view');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM tap_pv_views.t')$$,
  '42501', 'permission denied for table t', 'but reading it needs SELECT on the tracked table (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_reader', 'SELECT * FROM tap_pv_views.t')$$,
  '42501', 'permission denied for view t', 'and SELECT on the view (42501)');
SELECT is(pg_temp.as_role_val('tap_pv_nobody', 'SELECT events FROM chronicle.tracked_tables WHERE table_name = ''tap_pv.t''::regclass'), NULL,
  'tracked_tables: no event count of an event table one may not read');
SELECT is(pg_temp.as_role_val('tap_pv_nobody', 'SELECT count(*) FROM chronicle.consumer_groups WHERE event_table = ''tap_pv.ev''::regclass'), '0',
  'consumer_groups: no offsets of an event table one may not read');
SELECT is(pg_temp.as_role_val('tap_pv_reader', 'SELECT count(*) FROM chronicle.consumer_groups WHERE event_table = ''tap_pv.ev''::regclass'), '1',
  'consumer_groups: the offsets of an event table one may read');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT * FROM chronicle.consumer_offsets')$$,
  '42501', 'permission denied for table consumer_offsets', 'consumer_offsets cannot be read directly (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_reader', 'UPDATE chronicle.consumer_offsets SET position = 0')$$,
  '42501', 'permission denied for table consumer_offsets', 'consumer_offsets cannot be written directly (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT pg_catalog.setval(''chronicle.clock'', 1)')$$,
  '42501', NULL, 'the transaction-time clock cannot be moved (42501)');
-- column privileges are not table privileges: as_of would show every column
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_colreader', 'SELECT * FROM chronicle.as_of(NULL::tap_pv.t)')$$,
  '42501', 'permission denied for table t', 'as_of: SELECT on one column only (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_colreader', 'SELECT * FROM chronicle.history(NULL::tap_pv.t, 1)')$$,
  '42501', 'permission denied for table t', 'history (tracked row): SELECT on one column only (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_colreader', 'SELECT * FROM chronicle.read(''tap_pv.t'')')$$,
  '42501', 'permission denied for table t', 'read: SELECT on one column only (42501)');
-- SELECT on the event table is not SELECT on the tracked table
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_evreader', 'SELECT * FROM chronicle.as_of(NULL::tap_pv.t)')$$,
  '42501', 'permission denied for table t', 'as_of: SELECT on the event table only (42501)');
SELECT is(pg_temp.as_role_val('tap_pv_evreader', 'SELECT count(*) FROM chronicle.events(''tap_pv.t_events'')'), '4',
  'events: SELECT on the event table is enough to read it');
-- and with SELECT, the same calls work
SELECT is(pg_temp.as_role_val('tap_pv_reader', 'SELECT count(*) FROM chronicle.as_of(NULL::tap_pv.t)'), '2',
  'as_of: with SELECT');
SELECT is(pg_temp.as_role_val('tap_pv_reader', 'SELECT chronicle.state(''tap_pv.ev'', ''b'')::text'), '{"b": "secret"}',
  'state: with SELECT');
-- (nothing is committed inside this test's transaction: the batch is empty)
SELECT is(pg_temp.as_role_val('tap_pv_reader', 'SELECT count(*) FROM chronicle.consume(''g2'', ''tap_pv.ev'')'), '0',
  'consume: with SELECT');

-------------------------------------------------------------------------------
-- tracking needs ownership
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_dml', 'SELECT chronicle.track(''tap_pv.u'')')$$,
  '42501', 'must be owner of table u', 'track: every privilege but ownership is not enough (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_nobody', 'SELECT chronicle.track(''tap_pv.u'')')$$,
  '42501', 'must be owner of table u', 'track: no privilege (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_dml', 'SELECT chronicle.untrack(''tap_pv.t'')')$$,
  '42501', 'must be owner of table t', 'untrack: every privilege but ownership is not enough (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_reader', 'SELECT chronicle.untrack(''tap_pv.t'')')$$,
  '42501', 'must be owner of table t', 'untrack: a reader (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_dml', 'SELECT chronicle.apply_due(''tap_pv.t'')')$$,
  '42501', 'must be owner of table t', 'apply_due: not the owner (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_reader', 'SELECT chronicle.restore(''tap_pv.t'', ''-infinity'')')$$,
  '42501', NULL, 'restore in place: SELECT alone does not allow rewriting the table (42501)');
SELECT is((SELECT count(*) FROM tap_pv.t), 2::bigint, 'the refused restores changed nothing');
SELECT is(pg_temp.as_role_val('tap_pv_owner', 'SELECT chronicle.track(''tap_pv.u'')::text'), 'tap_pv.u_events',
  'track: the owner may');
SELECT is(pg_temp.as_role_val('tap_pv_owner', 'SELECT chronicle.untrack(''tap_pv.u'')::text'), 'tap_pv.u_events',
  'untrack: the owner may');
SELECT is(pg_temp.outcome('tap_pv_dml', 'DROP TRIGGER zz_chronicle_capture ON tap_pv.t'), '42501',
  'the capture triggers cannot be dropped by a non-owner (42501)');

-------------------------------------------------------------------------------
-- nobody, the owner included, rewrites an event through DML
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'UPDATE tap_pv.ev SET payload = ''{}''')$$,
  '0A000', 'cannot update event table "ev": events are immutable', 'the owner cannot UPDATE events (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'DELETE FROM tap_pv.ev')$$,
  '0A000', 'cannot delete from event table "ev": events are immutable', 'the owner cannot DELETE events (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'TRUNCATE tap_pv.ev')$$,
  '0A000', 'cannot truncate event table "ev": events are immutable', 'the owner cannot TRUNCATE events (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'UPDATE tap_pv.t_events SET payload = ''{}''')$$,
  '0A000', 'cannot update event table "t_events": events are immutable', 'the owner cannot UPDATE captured history (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'DELETE FROM tap_pv.t_events WHERE stream = ''2''')$$,
  '0A000', 'cannot delete from event table "t_events": events are immutable', 'the owner cannot DELETE captured history (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'TRUNCATE tap_pv.t_events')$$,
  '0A000', 'cannot truncate event table "t_events": events are immutable', 'the owner cannot TRUNCATE captured history (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'UPDATE tap_pv.pev SET payload = ''{}''')$$,
  '0A000', 'cannot update event table "pev": events are immutable', 'the owner cannot UPDATE a partitioned event table (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'DELETE FROM tap_pv.pev_default')$$,
  '0A000', 'cannot delete from event table "pev_default": events are immutable', 'nor DELETE from its default partition (0A000)');
SELECT throws_ok(pg_catalog.format('SELECT pg_temp.as_role(%L, %L)', 'tap_pv_owner',
    pg_catalog.format('UPDATE tap_pv.%I SET payload = NULL', p.relname)),
  '0A000', NULL, 'nor UPDATE a partition made by create_event_table (0A000)')
  FROM (SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'tap_pv.pev'::regclass AND c.relname <> 'pev_default' ORDER BY 1 LIMIT 1) AS p;
SELECT throws_ok(pg_catalog.format('SELECT pg_temp.as_role(%L, %L)', 'tap_pv_owner',
    pg_catalog.format('TRUNCATE tap_pv.%I', p.relname)),
  '0A000', NULL, 'nor TRUNCATE a partition made by add_partitions (0A000)')
  FROM (SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'tap_pv.pev'::regclass AND c.relname <> 'pev_default' ORDER BY 1 DESC LIMIT 1) AS p;
SET ROLE tap_pv_owner;
CREATE VIEW tap_pv.ev_view AS SELECT * FROM tap_pv.ev;
CREATE TABLE tap_pv.pev_hand PARTITION OF tap_pv.pev FOR VALUES FROM ('2090-01-01') TO ('2091-01-01');
RESET ROLE;
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'UPDATE tap_pv.ev_view SET payload = ''{}''')$$,
  '0A000', NULL, 'the owner cannot UPDATE events through an updatable view (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'WITH d AS (DELETE FROM tap_pv.ev RETURNING 1) SELECT count(*) FROM d')$$,
  '0A000', NULL, 'the owner cannot DELETE events in a writable CTE (0A000)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_dml', 'MERGE INTO tap_pv.ev AS e USING (SELECT 1 AS p) AS s ON e.position = s.p WHEN MATCHED THEN UPDATE SET payload = NULL')$$,
  '0A000', NULL, 'a role granted UPDATE cannot MERGE … UPDATE events (0A000)');
SELECT is(pg_temp.outcome('tap_pv_owner', 'UPDATE tap_pv.pev_hand SET payload = NULL'), '0A000',
  'the owner cannot UPDATE a partition made by hand (0A000)');
SELECT is(pg_temp.outcome('tap_pv_owner', 'TRUNCATE tap_pv.pev_hand'), '0A000',
  'the owner cannot TRUNCATE a partition made by hand (0A000)');
-- chronicle's own rewrites (erase) must not open a window for DML: a
-- trigger of the owner's on the event table runs inside erase().
SET ROLE tap_pv_owner;
SELECT chronicle.create_event_table('tap_pv.ev2') IS NOT NULL AS made \gset
SELECT chronicle.append('tap_pv.ev2', 'x', 't', '{"x": 1}') IS NOT NULL AS made \gset
SELECT chronicle.append('tap_pv.ev2', 'y', 't', '{"y": 1}') IS NOT NULL AS made \gset
CREATE FUNCTION tap_pv.sneaky() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF pg_catalog.pg_trigger_depth() OPERATOR(pg_catalog.<) 2 THEN
    UPDATE tap_pv.ev2 SET payload = '{"y": "forged"}' WHERE stream OPERATOR(pg_catalog.=) 'y';
  END IF;
  RETURN NEW;
END
$f$;
CREATE TRIGGER a_sneaky BEFORE UPDATE ON tap_pv.ev2 FOR EACH ROW EXECUTE FUNCTION tap_pv.sneaky();
RESET ROLE;
-- erase() runs its UPDATE with session_replication_role = replica: the
-- owner's trigger does not run at all (the other safe outcome would be 0A000).
SELECT is(pg_temp.outcome('tap_pv_admin', $q$SELECT chronicle.erase('tap_pv.ev2', 'x')$q$), 'ok',
  'erase() does not run the owner''s triggers on the event table');
SELECT lives_ok($$SELECT pg_temp.as_role('tap_pv_admin', 'SELECT chronicle.erase(''tap_pv.ev2'', ''x'')')$$,
  'erase() by an admin, with the owner''s trigger on the table');
SELECT is((SELECT payload FROM tap_pv.ev2 WHERE stream = 'y'), '{"y": 1}'::jsonb,
  'the event of stream y was not rewritten during the erasure');
SELECT is(pg_temp.outcome('tap_pv_owner', 'UPDATE tap_pv.ev2 SET payload = NULL'), '0A000',
  'after erase() the event table is immutable again (0A000)');

-------------------------------------------------------------------------------
-- only chronicle_admin erases
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'SELECT chronicle.erase(''tap_pv.ev'', ''b'')')$$,
  '42501', 'permission denied for function erase', 'erase: the table''s owner is not chronicle_admin (42501)');
GRANT EXECUTE ON FUNCTION chronicle.erase(regclass, text) TO tap_pv_owner;
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'SELECT chronicle.erase(''tap_pv.ev'', ''b'')')$$,
  '42501', 'permission denied to erase events', 'erase: the owner with EXECUTE granted is still refused (42501)');
REVOKE EXECUTE ON FUNCTION chronicle.erase(regclass, text) FROM tap_pv_owner;
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_noinherit', 'SELECT chronicle.erase(''tap_pv.ev'', ''b'')')$$,
  '42501', 'permission denied for function erase', 'erase: a NOINHERIT member of chronicle_admin, without SET ROLE (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_dml', 'SELECT chronicle.erase(''tap_pv.ev'', ''b'')')$$,
  '42501', 'permission denied for function erase', 'erase: a role with every table privilege (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'SET LOCAL chronicle.meta = ''{"erase": true}''; UPDATE tap_pv.ev SET payload = NULL WHERE stream = ''b''')$$,
  '0A000', NULL, 'erasing by hand is an UPDATE, refused (0A000)');
SELECT is((SELECT payload FROM tap_pv.ev WHERE stream = 'b'), '{"b": "secret"}'::jsonb, 'the refused erasures erased nothing');
SELECT is(pg_temp.as_role_val('tap_pv_admin', 'SELECT chronicle.erase(''tap_pv.ev'', ''b'')::text'), '1',
  'erase: chronicle_admin may, without any privilege on the table');
SELECT is((SELECT payload FROM tap_pv.ev WHERE stream = 'b' AND type = 't'), NULL, 'and the payload is gone');

-------------------------------------------------------------------------------
-- row-level security on a tracked table: nothing it hides leaks
-------------------------------------------------------------------------------
SET ROLE tap_pv_owner;
ALTER TABLE tap_pv.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON tap_pv.t USING (owner_name = current_user);
RESET ROLE;
SELECT is(pg_temp.as_role_val('tap_pv_rls', 'SELECT string_agg(v, '','') FROM tap_pv.t'), 'mine',
  'RLS: the policy shows tap_pv_rls its own row only');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.as_of(NULL::tap_pv.t)')$$,
  '42501', 'cannot reconstruct rows of "t" under row-level security', 'RLS: as_of refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.as_of(NULL::tap_pv.t, NULL, NULL, 2)')$$,
  '42501', 'cannot reconstruct rows of "t" under row-level security', 'RLS: as_of with the key of a hidden row refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.as_of(NULL::tap_pv.t, ''-infinity'', ''-infinity'')')$$,
  '42501', 'cannot reconstruct rows of "t" under row-level security', 'RLS: as_of refuses even for an empty past (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.diff(NULL::tap_pv.t, ''-infinity'')')$$,
  '42501', 'cannot reconstruct rows of "t" under row-level security', 'RLS: diff refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.history(NULL::tap_pv.t, 2)')$$,
  '42501', 'cannot reconstruct rows of "t" under row-level security', 'RLS: history of a hidden row refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT chronicle.restore(''tap_pv.t'', now(), NULL, ''tap_pv_views.r_rls'')')$$,
  '42501', 'cannot reconstruct rows of "t" under row-level security', 'RLS: restore into a new table refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.read(''tap_pv.t'')')$$,
  '42501', 'cannot read the log of "t" under row-level security', 'RLS: read refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.consume(''g'', ''tap_pv.t'')')$$,
  '42501', 'cannot read the log of "t" under row-level security', 'RLS: consume refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT chronicle.commit(''g'', ''tap_pv.t'', 0)')$$,
  '42501', 'cannot read the log of "t" under row-level security', 'RLS: commit refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT chronicle.reset(''g'', ''tap_pv.t'')')$$,
  '42501', 'cannot read the log of "t" under row-level security', 'RLS: reset refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT chronicle.channel(''tap_pv.t'')')$$,
  '42501', 'cannot read the log of "t" under row-level security', 'RLS: channel refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.events(''tap_pv.t_events'')')$$,
  '42501', 'permission denied for table t_events', 'RLS: the event table is not readable with SELECT on the tracked table alone (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT count(*) FROM tap_pv_views.t')$$,
  '42501', NULL, 'RLS: the time-travel view refuses (42501)');
SELECT is(pg_temp.as_role_val('tap_pv_bypass', 'SELECT count(*) FROM chronicle.as_of(NULL::tap_pv.t)'), '2',
  'RLS: a BYPASSRLS role reads every row');
SELECT is(pg_temp.as_role_val('tap_pv_owner', 'SELECT count(*) FROM chronicle.as_of(NULL::tap_pv.t)'), '2',
  'RLS: the owner, not subject to the policy, reads every row');
ALTER TABLE tap_pv.t FORCE ROW LEVEL SECURITY;
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'SELECT * FROM chronicle.as_of(NULL::tap_pv.t)')$$,
  '42501', 'cannot reconstruct rows of "t" under row-level security', 'RLS: FORCE makes as_of refuse the owner (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_owner', 'SELECT * FROM chronicle.read(''tap_pv.t'')')$$,
  '42501', 'cannot read the log of "t" under row-level security', 'RLS: FORCE makes read refuse the owner (42501)');
ALTER TABLE tap_pv.t NO FORCE ROW LEVEL SECURITY;
-- row-level security on an event table: events(), state(), history() and
-- timeline() read through queries, so the policies filter them
SET ROLE tap_pv_owner;
SELECT chronicle.create_event_table('tap_pv.ev3') IS NOT NULL AS made \gset
SELECT chronicle.append('tap_pv.ev3', 'open', 't', '{"o": 1}') IS NOT NULL AS made \gset
SELECT chronicle.append('tap_pv.ev3', 'closed', 't', '{"c": "secret"}') IS NOT NULL AS made \gset
SELECT chronicle.append('tap_pv.ev3', 'closed', 't', '{"c2": "secret"}', valid_from => '2020-01-01') IS NOT NULL AS made \gset
ALTER TABLE tap_pv.ev3 ENABLE ROW LEVEL SECURITY;
CREATE POLICY open_only ON tap_pv.ev3 FOR SELECT USING (stream = 'open');
GRANT SELECT ON tap_pv.ev3 TO tap_pv_rls;
RESET ROLE;
-- the superuser reads first, so that cached plans exist
SELECT is((SELECT count(*) FROM chronicle.events('tap_pv.ev3')), 3::bigint, 'RLS: the superuser sees every event');
SELECT is(chronicle.state('tap_pv.ev3', 'closed'), '{"c": "secret", "c2": "secret"}'::jsonb, 'RLS: and every stream');
SELECT is((SELECT count(*) FROM chronicle.history('tap_pv.ev3', 'closed')), 2::bigint, 'RLS: and its history');
SELECT is((SELECT count(*) FROM chronicle.timeline('tap_pv.ev3', 'closed')), 2::bigint, 'RLS: and its timeline');
SELECT is(pg_temp.as_role_val('tap_pv_rls', 'SELECT string_agg(stream, '','') FROM chronicle.events(''tap_pv.ev3'')'), 'open',
  'RLS: events() shows a role under a policy only what the policy lets through');
SELECT is(pg_temp.as_role_val('tap_pv_rls', 'SELECT count(*) FROM chronicle.events(''tap_pv.ev3'', ''closed'', ''infinity'', ''2021-01-01'')'), '0',
  'RLS: events() of a hidden stream, with known_at and valid_at, is empty');
SELECT is(pg_temp.as_role_val('tap_pv_rls', 'SELECT chronicle.state(''tap_pv.ev3'', ''closed'')::text'), NULL,
  'RLS: state() of a hidden stream is NULL');
SELECT is(pg_temp.as_role_val('tap_pv_rls', 'SELECT chronicle.state(''tap_pv.ev3'', ''open'')::text'), '{"o": 1}',
  'RLS: state() of a visible stream');
SELECT is(pg_temp.as_role_val('tap_pv_rls', 'SELECT count(*) FROM chronicle.history(''tap_pv.ev3'', ''closed'')'), '0',
  'RLS: history() of a hidden stream is empty');
SELECT is(pg_temp.as_role_val('tap_pv_rls', 'SELECT count(*) FROM chronicle.timeline(''tap_pv.ev3'', ''closed'')'), '0',
  'RLS: timeline() of a hidden stream is empty');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.read(''tap_pv.ev3'')')$$,
  '42501', 'cannot read the log of "ev3" under row-level security', 'RLS: read() of an event table under a policy refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT * FROM chronicle.consume(''g'', ''tap_pv.ev3'')')$$,
  '42501', 'cannot read the log of "ev3" under row-level security', 'RLS: consume() of an event table under a policy refuses (42501)');
SELECT throws_ok($$SELECT pg_temp.as_role('tap_pv_rls', 'SELECT chronicle.channel(''tap_pv.ev3'')')$$,
  '42501', 'cannot read the log of "ev3" under row-level security', 'RLS: channel() of an event table under a policy refuses (42501)');
SELECT throws_ok(pg_catalog.format('SELECT pg_temp.as_role(%L, %L)', 'tap_pv_rls',
    pg_catalog.format('SELECT chronicle.retract(%L, %s)', 'tap_pv.ev3', e.position)),
  '42704', NULL, 'RLS: retract() of a hidden event finds no event (42704)')
  FROM tap_pv.ev3 AS e WHERE e.stream = 'closed' ORDER BY e.position LIMIT 1;
SELECT is((SELECT count(*) FROM chronicle.events('tap_pv.ev3')), 3::bigint,
  'RLS: afterwards the superuser still sees every event (no plan cached for the other role)');
SELECT is(current_user::text, session_user::text, 'the role switches were undone');

SELECT * FROM finish();
ROLLBACK;
