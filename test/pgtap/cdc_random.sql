-- cdc_random.sql: randomized test of CDC (SPEC §5) with fixed seeds.
--
-- For each seed: a table with a composite key (region text, id int) and
-- nullable text, numeric and jsonb columns gets a few rows, is tracked, and
-- then goes through :steps random transactions: inserts (single, multi-row,
-- ON CONFLICT DO UPDATE / DO NOTHING), updates (of random column subsets,
-- many rows, no-op, key-changing), deletes (one row, many rows), truncates and
-- apply_due, each transaction with a random valid range (default, backdated,
-- backdated to -infinity, bounded in the past, bounded in the future,
-- post-dated, and post-dated or bounded by a fraction of a second, which
-- falls due during the test). Every transaction commits on its own (psql
-- autocommit, \gexec), so recorded_at differs from step to step.
--
-- Checks, per seed:
--   * after each transaction, at t = clock_timestamp() after its commit,
--     as_of(known_at => t, valid_at => t) equals the independent reference
--     below, and equals a copy of the table taken at t, unless a post-dated
--     or bounded change has fallen due since the last apply_due (the table
--     then still holds the state valid earlier: the copy check is skipped);
--   * at :points random (known_at, valid_at) points (before and after
--     track(), exact recorded_at / valid_from / valid_to boundaries and one
--     microsecond before them, random past and future times, ±infinity)
--     as_of equals the reference;
--   * every TRUNCATE whose valid range does not contain the present was
--     refused (0A000);
--   * after apply_due, as_of(NULL::t) with its defaults equals the table.
-- Then: the random runs covered every kind of change and valid range; and
-- deterministic checks of what the random runs cannot see: a jsonb column
-- holding the JSON value null (the copies would differ, so the random values
-- leave it out), and INSERT … ON CONFLICT on an existing row with a
-- post-dated valid range (its effect lies in the future, where no copy is;
-- the reference replays what was recorded).
--
-- The reference (pg_temp.ref_as_of) replays the raw rows of the event table
-- with assertion semantics, written from SPEC §5 and calling no chronicle
-- function: the events with recorded_at <= known and valid_from <= valid <
-- valid_to, in position order; insert and snapshot set the row, update sets
-- the columns it assigned where the row exists, delete removes the row,
-- truncate removes every row.
--
-- Not one transaction: every statement below autocommits. Everything this
-- file creates is dropped at the end.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
\set steps 40
\set points 60

DROP TABLE IF EXISTS cdc_rand, cdc_rand_events, cdc_rand_jnull, cdc_rand_jnull_events,
                     cdc_rand_upsert, cdc_rand_upsert_events;

-- 3 seeds, each: 2 checks per copy (1 + 2 per step), :points points, the
-- refusal check and the final apply_due check; then coverage, JSON null and
-- two ON CONFLICT checks.
SELECT plan(3 * (2 * (1 + 2 * :steps) + :points + 2) + 4);

CREATE TABLE cdc_rand (
  region text,
  id     integer,
  name   text,
  qty    numeric,
  attrs  jsonb,
  PRIMARY KEY (region, id)
);

-------------------------------------------------------------------------------
-- Driver state (temporary tables)
-------------------------------------------------------------------------------
-- cur: the seed being run, its base time and a time before track().
CREATE TEMP TABLE cur (seed integer, base timestamptz, t_pre timestamptz);
-- universe: every key the random changes use.
CREATE TEMP TABLE universe AS
  SELECT r AS region, i AS id
    FROM unnest(ARRAY['eu', 'a"b', '[x,y]', 'é', '']) AS r,
         unnest(ARRAY[-1, 0, 1, 2, 3, 10]) AS i;
-- copy_times/copies: copies of the table, taken at t after a commit.
CREATE TEMP TABLE copy_times (seed integer, step integer, phase text, t timestamptz);
CREATE TEMP TABLE copies (seed integer, step integer, phase text,
                          region text, id integer, name text, qty numeric, attrs jsonb);
-- bounds: finite valid_from / valid_to later than their statement's start:
-- once one has passed, the table may differ from the state valid now until
-- the next apply_due.
CREATE TEMP TABLE bounds (seed integer, b timestamptz);
-- applies: apply_due calls (statement start) and the rows they changed.
CREATE TEMP TABLE applies (seed integer, a timestamptz, n bigint);
-- refusals: SQLSTATE of each TRUNCATE with a valid range not containing the
-- present ('none' when it was not refused).
CREATE TEMP TABLE refusals (seed integer, step integer, state text);
-- ops_log: what each step did.
CREATE TEMP TABLE ops_log (seed integer, step integer, mode text, op text, applied boolean, n bigint);
-- coverage: what the runs exercised.
CREATE TEMP TABLE coverage (what text);

-------------------------------------------------------------------------------
-- The reference: assertion semantics over the raw event rows (SPEC §5)
-------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.ref_as_of(known timestamptz, valid timestamptz)
RETURNS TABLE (region text, id integer, name text, qty numeric, attrs jsonb)
LANGUAGE plpgsql AS $f$
DECLARE
  st jsonb := '{}';   -- stream (encoded key) -> row image
  e record;
  patch jsonb;
BEGIN
  FOR e IN SELECT ev.stream, ev.type, ev.payload, ev.assigned
             FROM cdc_rand_events AS ev
            WHERE ev.recorded_at <= known
              AND ev.valid_from <= valid AND valid < ev.valid_to
            ORDER BY ev.position LOOP
    CASE e.type
      WHEN 'snapshot', 'insert' THEN
        st := st || jsonb_build_object(e.stream, e.payload);
      WHEN 'update' THEN
        IF st ? e.stream THEN
          SELECT coalesce(jsonb_object_agg(c, e.payload -> c), '{}') INTO patch
            FROM unnest(e.assigned) AS c WHERE e.payload ? c;
          st := jsonb_set(st, ARRAY[e.stream], (st -> e.stream) || patch);
        END IF;
      WHEN 'delete' THEN
        st := st - e.stream;
      WHEN 'truncate' THEN
        st := '{}';
      WHEN 'schema' THEN
        NULL;
      ELSE
        RAISE EXCEPTION 'reference: unexpected event type %', e.type;
    END CASE;
  END LOOP;
  RETURN QUERY
    SELECT r.value ->> 'region', (r.value ->> 'id')::integer, r.value ->> 'name',
           (r.value ->> 'qty')::numeric, nullif(r.value -> 'attrs', 'null'::jsonb)
      FROM jsonb_each(st) AS r;
END
$f$;

-- The queries compared (rows as text: numeric scale, jsonb and NULL versus
-- empty string all count).
CREATE FUNCTION pg_temp.q_asof(k timestamptz, v timestamptz) RETURNS text LANGUAGE sql AS $f$
  SELECT format('SELECT r::text FROM chronicle.as_of(NULL::cdc_rand, known_at => %L::timestamptz, valid_at => %L::timestamptz) AS r', k, v)
$f$;
CREATE FUNCTION pg_temp.q_ref(k timestamptz, v timestamptz) RETURNS text LANGUAGE sql AS $f$
  SELECT format('SELECT ROW(x.*)::text FROM pg_temp.ref_as_of(%L::timestamptz, %L::timestamptz) AS x', k, v)
$f$;

-------------------------------------------------------------------------------
-- Random values and keys (each consumes a fixed number of random() draws)
-------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.pick(n integer) RETURNS integer LANGUAGE sql AS $f$
  SELECT floor(random() * n)::integer   -- 0 .. n-1
$f$;

CREATE FUNCTION pg_temp.rnd_name() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
  i integer := pg_temp.pick(1000);
  odd text[] := ARRAY['', 'null', 'NULL', 'a"b', E'back\\slash', E'line\nbreak', E'tab\tx',
                      'é日本🙂', '{"json": 1}', '[1,2]', ' lead', 'x,y', '(paren)'];
BEGIN
  IF r < 0.2 THEN RETURN NULL; END IF;
  IF r < 0.6 THEN RETURN odd[1 + i % array_length(odd, 1)]; END IF;
  RETURN 'n' || i;
END
$f$;

CREATE FUNCTION pg_temp.rnd_qty() RETURNS numeric LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
  x float8 := random();
  sc integer := pg_temp.pick(5);
BEGIN
  IF r < 0.15 THEN RETURN NULL; END IF;
  IF r < 0.19 THEN RETURN 'NaN'; END IF;
  IF r < 0.22 THEN RETURN 'Infinity'; END IF;
  IF r < 0.24 THEN RETURN '-Infinity'; END IF;
  IF r < 0.28 THEN RETURN 0.000; END IF;
  IF r < 0.32 THEN RETURN 123456789012345678901234567890.123456789; END IF;
  RETURN round(((x - 0.3) * 1000)::numeric, sc);   -- scale 0..4, trailing zeros kept
END
$f$;

-- rnd_attrs never returns the top-level JSON value null (see the last check).
CREATE FUNCTION pg_temp.rnd_attrs() RETURNS jsonb LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
  i integer := pg_temp.pick(1000);
  fixed jsonb[] := ARRAY['{}', '[]', '"str"', '"null"', '3.10', 'true', 'false', '0', '1e30',
                         '{"a": null}', '[null, 1, "x"]', '{"é": "日本", "q": "a\"b\\c"}',
                         '{"deep": {"er": {"est": [1, {"x": null}]}}}']::jsonb[];
BEGIN
  IF r < 0.15 THEN RETURN NULL; END IF;
  IF r < 0.55 THEN RETURN fixed[1 + i % array_length(fixed, 1)]; END IF;
  RETURN jsonb_build_object('k', i, 'tags', jsonb_build_array('t' || (i % 7), i % 3 = 0),
                            'price', round((i / 7.0)::numeric, 2));
END
$f$;

-- A random existing row's key (NULLs when the table is empty).
CREATE FUNCTION pg_temp.pick_row(OUT kr text, OUT ki integer) LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
BEGIN
  SELECT c.region, c.id INTO kr, ki FROM cdc_rand AS c
   ORDER BY c.region COLLATE "C", c.id
  OFFSET floor(r * (SELECT count(*) FROM cdc_rand)) LIMIT 1;
END
$f$;

-- A random key of the universe the table does not hold (NULLs when none).
CREATE FUNCTION pg_temp.pick_absent(OUT kr text, OUT ki integer) LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
BEGIN
  SELECT u.region, u.id INTO kr, ki FROM pg_temp.universe AS u
   WHERE NOT EXISTS (SELECT FROM cdc_rand AS c WHERE c.region = u.region AND c.id = u.id)
   ORDER BY u.region COLLATE "C", u.id
  OFFSET floor(r * (SELECT count(*) FROM pg_temp.universe AS u
                     WHERE NOT EXISTS (SELECT FROM cdc_rand AS c WHERE c.region = u.region AND c.id = u.id)))
  LIMIT 1;
END
$f$;

-- Any key of the universe.
CREATE FUNCTION pg_temp.pick_any(OUT kr text, OUT ki integer) LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
BEGIN
  SELECT u.region, u.id INTO kr, ki FROM pg_temp.universe AS u
   ORDER BY u.region COLLATE "C", u.id OFFSET floor(r * 30) LIMIT 1;
END
$f$;

-- pick_key: for a change applied to the table a key it does not hold, for
-- one only recorded any key (the physical row is left as it is).
-- (An INSERT of a key the table holds fails with a unique violation, whatever
-- its valid range: plain inserts take absent keys; upserts take any.)
CREATE FUNCTION pg_temp.pick_key(applied boolean, OUT kr text, OUT ki integer) LANGUAGE plpgsql AS $f$
BEGIN
  SELECT * INTO kr, ki FROM pg_temp.pick_absent();
END
$f$;

-- A random time in the past: 20% an existing finite event time (ties), else
-- uniform in [base - 3 hours, statement start - 1 ms).
CREATE FUNCTION pg_temp.rnd_past() RETURNS timestamptz LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
  x float8 := random();
  lo timestamptz := (SELECT base FROM pg_temp.cur) - interval '3 hours';
  hi timestamptz := statement_timestamp() - interval '1 ms';
  t timestamptz;
BEGIN
  IF r < 0.2 THEN
    SELECT u.tm INTO t FROM (
      SELECT e.valid_from AS tm FROM cdc_rand_events AS e UNION
      SELECT e.valid_to FROM cdc_rand_events AS e UNION
      SELECT e.recorded_at FROM cdc_rand_events AS e) AS u
     WHERE u.tm > '-infinity' AND u.tm < hi
     ORDER BY u.tm
    OFFSET floor(x * (SELECT count(*) FROM (
      SELECT e.valid_from AS tm FROM cdc_rand_events AS e UNION
      SELECT e.valid_to FROM cdc_rand_events AS e UNION
      SELECT e.recorded_at FROM cdc_rand_events AS e) AS u
     WHERE u.tm > '-infinity' AND u.tm < hi)) LIMIT 1;
    IF t IS NOT NULL THEN RETURN t; END IF;
  END IF;
  RETURN lo + x * (hi - lo);
END
$f$;

-------------------------------------------------------------------------------
-- The steps (each CALL is one autocommitted transaction)
-------------------------------------------------------------------------------
-- begin_seed: fresh table content, untracked; then t_pre.
CREATE PROCEDURE pg_temp.begin_seed(s integer, seedval float8) LANGUAGE plpgsql AS $f$
DECLARE
  k record;
BEGIN
  PERFORM setseed(seedval);
  DELETE FROM pg_temp.cur;
  INSERT INTO pg_temp.cur VALUES (s, clock_timestamp(), NULL);
  FOR i IN 1..8 LOOP
    SELECT * INTO k FROM pg_temp.pick_absent();
    INSERT INTO cdc_rand VALUES (k.kr, k.ki, pg_temp.rnd_name(), pg_temp.rnd_qty(), pg_temp.rnd_attrs());
  END LOOP;
  UPDATE pg_temp.cur SET t_pre = clock_timestamp();
END
$f$;

CREATE PROCEDURE pg_temp.do_track() LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM chronicle.track('cdc_rand');
END
$f$;

-- take_copy: a copy of the table at t = clock_timestamp(), after the commit
-- of the previous statement.
CREATE PROCEDURE pg_temp.take_copy(stp integer, ph text) LANGUAGE plpgsql AS $f$
DECLARE
  s integer := (SELECT seed FROM pg_temp.cur);
  t timestamptz := clock_timestamp();
BEGIN
  INSERT INTO pg_temp.copy_times VALUES (s, stp, ph, t);
  INSERT INTO pg_temp.copies SELECT s, stp, ph, c.* FROM cdc_rand AS c;
END
$f$;

-- settle: waits until every bound less than 5 s ahead has passed (the
-- "soon" valid ranges fall due here).
CREATE PROCEDURE pg_temp.settle() LANGUAGE plpgsql AS $f$
DECLARE
  b timestamptz;
BEGIN
  SELECT max(x.b) INTO b FROM pg_temp.bounds AS x
   WHERE x.seed = (SELECT seed FROM pg_temp.cur)
     AND x.b > clock_timestamp() AND x.b < clock_timestamp() + interval '5 s';
  IF b IS NOT NULL THEN
    PERFORM pg_sleep(extract(epoch FROM b - clock_timestamp())::float8 + 0.02);
  END IF;
END
$f$;

-- step: one random transaction.
CREATE PROCEDURE pg_temp.step(i integer) LANGUAGE plpgsql AS $f$
DECLARE
  s integer := (SELECT seed FROM pg_temp.cur);
  st timestamptz := statement_timestamp();
  r float8;
  m float8;
  mode text;
  vf timestamptz;
  vt timestamptz;
  applied boolean;
  op text;
  o float8;
  k record;
  k2 record;
  n bigint;
  stale boolean;
  sets text[];
  regions text[] := ARRAY['eu', 'a"b', '[x,y]', 'é', ''];
  ks text[];
  ki integer[];
  kn text[];
  kq numeric[];
  ka jsonb[];
BEGIN
  -- apply_due: 7% of the steps, half of them while the table is stale.
  stale := EXISTS (SELECT FROM pg_temp.bounds AS b
                    WHERE b.seed = s AND b.b <= clock_timestamp()
                      AND NOT EXISTS (SELECT FROM pg_temp.applies AS a WHERE a.seed = s AND a.a > b.b));
  r := random();
  IF r < 0.07 OR (stale AND r < 0.5) THEN
    n := chronicle.apply_due('cdc_rand');
    INSERT INTO pg_temp.applies VALUES (s, st, n);
    INSERT INTO pg_temp.ops_log VALUES (s, i, 'apply_due', 'apply_due', true, n);
    RETURN;
  END IF;

  -- The transaction's valid range.
  m := random();
  r := random();
  IF m < 0.40 THEN
    mode := 'default';
  ELSIF m < 0.55 THEN
    mode := 'backdated';                 -- [past, infinity)
    vf := pg_temp.rnd_past();
  ELSIF m < 0.61 THEN
    mode := 'backdated bounded ahead';   -- [past, future)
    vf := pg_temp.rnd_past();
    vt := st + interval '2 days' + r * interval '20 days';
  ELSIF m < 0.65 THEN
    mode := 'bounded ahead';             -- [recorded_at, future)
    vt := st + interval '2 days' + r * interval '20 days';
  ELSIF m < 0.69 THEN
    mode := 'since -infinity';
    vf := '-infinity';
  ELSIF m < 0.80 THEN
    mode := 'bounded past';              -- [past, past): recorded, not applied
    vf := pg_temp.rnd_past();
    vt := pg_temp.rnd_past();
    IF vt < vf THEN
      SELECT vt, vf INTO vf, vt;
    END IF;
    IF vt = vf THEN
      vt := vf + interval '1 microsecond';
    END IF;
  ELSIF m < 0.90 THEN
    mode := 'post-dated';                -- [future, ...): recorded, not applied
    vf := st + interval '1 hour' + r * interval '30 days';
    IF random() < 0.5 THEN
      vt := vf + interval '1 hour' + r * interval '10 days';
    END IF;
  ELSIF m < 0.95 THEN
    mode := 'post-dated soon';           -- falls due in settle()
    vf := st + interval '250 ms';
  ELSE
    mode := 'expiring soon';             -- applied, expires in settle()
    vt := st + interval '250 ms';
    IF r < 0.5 THEN
      vf := pg_temp.rnd_past();
    END IF;
  END IF;
  applied := (vf IS NULL OR vf <= st) AND (vt IS NULL OR st < vt);
  IF vf IS NOT NULL THEN
    PERFORM set_config('chronicle.valid_from', vf::text, true);
    IF vf > st THEN INSERT INTO pg_temp.bounds VALUES (s, vf); END IF;
  END IF;
  IF vt IS NOT NULL THEN
    PERFORM set_config('chronicle.valid_to', vt::text, true);
    IF vt > st AND vt < 'infinity' THEN INSERT INTO pg_temp.bounds VALUES (s, vt); END IF;
  END IF;

  -- 1 to 3 changes.
  FOR j IN 1..1 + pg_temp.pick(3) LOOP
    o := random();
    n := NULL;
    IF o < 0.18 THEN
      op := 'insert';
      SELECT * INTO k FROM pg_temp.pick_key(applied);
      IF k.kr IS NOT NULL THEN
        EXECUTE 'INSERT INTO cdc_rand VALUES ($1, $2, $3, $4, $5)'
          USING k.kr, k.ki, pg_temp.rnd_name(), pg_temp.rnd_qty(), pg_temp.rnd_attrs();
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
    ELSIF o < 0.25 THEN
      op := 'insert rows';
      ks := '{}'; ki := '{}'; kn := '{}'; kq := '{}'; ka := '{}';
      FOR x IN 1..2 + pg_temp.pick(2) LOOP
        -- the table does not change between picks: a repeated key is dropped
        SELECT * INTO k FROM pg_temp.pick_key(applied);
        IF k.kr IS NOT NULL AND NOT EXISTS (
             SELECT FROM unnest(ks, ki) AS u(a, b) WHERE u.a = k.kr AND u.b = k.ki) THEN
          ks := ks || k.kr; ki := ki || k.ki;
          kn := kn || pg_temp.rnd_name(); kq := kq || pg_temp.rnd_qty(); ka := ka || pg_temp.rnd_attrs();
        END IF;
      END LOOP;
      EXECUTE 'INSERT INTO cdc_rand SELECT * FROM unnest($1, $2, $3, $4, $5)'
        USING ks, ki, kn, kq, ka;
      GET DIAGNOSTICS n = ROW_COUNT;
    ELSIF o < 0.35 THEN
      op := 'upsert';
      SELECT * INTO k FROM pg_temp.pick_any();
      EXECUTE 'INSERT INTO cdc_rand AS c VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (region, id) DO UPDATE SET name = EXCLUDED.name, qty = c.qty + 1'
        USING k.kr, k.ki, pg_temp.rnd_name(), pg_temp.rnd_qty(), pg_temp.rnd_attrs();
      GET DIAGNOSTICS n = ROW_COUNT;
    ELSIF o < 0.38 THEN
      op := 'insert do nothing';
      SELECT * INTO k FROM pg_temp.pick_any();
      EXECUTE 'INSERT INTO cdc_rand VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING'
        USING k.kr, k.ki, pg_temp.rnd_name(), pg_temp.rnd_qty(), pg_temp.rnd_attrs();
      GET DIAGNOSTICS n = ROW_COUNT;
    ELSIF o < 0.58 THEN
      op := 'update';
      SELECT * INTO k FROM pg_temp.pick_row();
      sets := '{}';
      IF random() < 0.5 THEN sets := sets || CASE WHEN random() < 0.2 THEN 'name = name' ELSE 'name = $3' END; END IF;
      IF random() < 0.5 THEN sets := sets || CASE WHEN random() < 0.2 THEN 'qty = qty' ELSE 'qty = $4' END; END IF;
      IF random() < 0.5 OR cardinality(sets) = 0 THEN
        sets := sets || CASE WHEN random() < 0.2 THEN 'attrs = attrs' ELSE 'attrs = $5' END;
      END IF;
      IF k.kr IS NOT NULL THEN
        EXECUTE format('UPDATE cdc_rand SET %s WHERE region = $1 AND id = $2', array_to_string(sets, ', '))
          USING k.kr, k.ki, pg_temp.rnd_name(), pg_temp.rnd_qty(), pg_temp.rnd_attrs();
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
    ELSIF o < 0.64 THEN
      op := 'update rows';
      IF random() < 0.5 THEN
        EXECUTE 'UPDATE cdc_rand SET qty = qty + 1 WHERE region = $1' USING regions[1 + pg_temp.pick(5)];
      ELSE
        EXECUTE 'UPDATE cdc_rand SET attrs = jsonb_build_object(''bulk'', $2), name = upper(name) WHERE id <= $1'
          USING pg_temp.pick(4), i;
      END IF;
      GET DIAGNOSTICS n = ROW_COUNT;
    ELSIF o < 0.67 THEN
      op := 'update same values';
      SELECT * INTO k FROM pg_temp.pick_row();
      IF k.kr IS NOT NULL THEN
        EXECUTE 'UPDATE cdc_rand SET name = name, qty = qty WHERE region = $1 AND id = $2' USING k.kr, k.ki;
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
    ELSIF o < 0.77 THEN
      op := 'update key';
      SELECT * INTO k FROM pg_temp.pick_row();
      SELECT * INTO k2 FROM pg_temp.pick_key(applied);
      IF k.kr IS NOT NULL AND k2.kr IS NOT NULL THEN
        IF random() < 0.5 THEN
          EXECUTE 'UPDATE cdc_rand SET region = $3, id = $4 WHERE region = $1 AND id = $2'
            USING k.kr, k.ki, k2.kr, k2.ki;
        ELSE
          EXECUTE 'UPDATE cdc_rand SET id = $4, region = $3, name = $5 WHERE region = $1 AND id = $2'
            USING k.kr, k.ki, k2.kr, k2.ki, pg_temp.rnd_name();
        END IF;
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
    ELSIF o < 0.89 THEN
      op := 'delete';
      SELECT * INTO k FROM pg_temp.pick_row();
      IF k.kr IS NOT NULL THEN
        EXECUTE 'DELETE FROM cdc_rand WHERE region = $1 AND id = $2' USING k.kr, k.ki;
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
    ELSIF o < 0.94 THEN
      op := 'delete rows';
      IF random() < 0.5 THEN
        EXECUTE 'DELETE FROM cdc_rand WHERE region = $1' USING regions[1 + pg_temp.pick(5)];
      ELSE
        EXECUTE 'DELETE FROM cdc_rand WHERE qty > $1' USING (pg_temp.pick(800) - 100)::numeric;
      END IF;
      GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
      op := 'truncate';
      n := 0;
      IF applied THEN
        EXECUTE 'TRUNCATE cdc_rand';
      ELSE
        BEGIN
          EXECUTE 'TRUNCATE cdc_rand';
          INSERT INTO pg_temp.refusals VALUES (s, i, 'none');
        EXCEPTION WHEN OTHERS THEN
          INSERT INTO pg_temp.refusals VALUES (s, i, SQLSTATE);
        END;
      END IF;
    END IF;
    INSERT INTO pg_temp.ops_log VALUES (s, i, mode, op, applied, n);
  END LOOP;
END
$f$;

-- step_script: the statements of :steps random steps, each followed by a
-- copy, a settle and another copy (each its own transaction via \gexec).
CREATE FUNCTION pg_temp.step_script(steps integer) RETURNS TABLE (sql text) LANGUAGE sql AS $f$
  SELECT x.sql
    FROM generate_series(1, steps) AS i,
         LATERAL (VALUES (1, format('CALL pg_temp.step(%s)', i)),
                         (2, format('CALL pg_temp.take_copy(%s, %L)', i, 'a')),
                         (3, 'CALL pg_temp.settle()'),
                         (4, format('CALL pg_temp.take_copy(%s, %L)', i, 'b'))) AS x(ord, sql)
   ORDER BY i, x.ord
$f$;

-------------------------------------------------------------------------------
-- Checks of one seed
-------------------------------------------------------------------------------
-- rnd_known / rnd_valid: random points of transaction and valid time.
CREATE FUNCTION pg_temp.rnd_known(OUT t timestamptz, OUT label text) LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
  x float8 := random();
  pre timestamptz := (SELECT c.t_pre FROM pg_temp.cur AS c);
  rec timestamptz;
BEGIN
  SELECT u.recorded_at INTO rec FROM (SELECT DISTINCT e.recorded_at FROM cdc_rand_events AS e) AS u
   ORDER BY u.recorded_at OFFSET floor(x * (SELECT count(DISTINCT e.recorded_at) FROM cdc_rand_events AS e)) LIMIT 1;
  IF r < 0.05 THEN t := '-infinity'; label := '-infinity';
  ELSIF r < 0.12 THEN t := pre; label := 'before track()';
  ELSIF r < 0.45 THEN t := rec; label := 'a recorded_at';
  ELSIF r < 0.55 THEN t := rec - interval '1 microsecond'; label := 'a recorded_at - 1us';
  ELSIF r < 0.85 THEN   -- mostly after track(): the runs take seconds
    t := pre + (x - 0.05) * (clock_timestamp() - pre); label := 'random';
  ELSIF r < 0.93 THEN t := 'infinity'; label := 'infinity';
  ELSE t := clock_timestamp() + interval '1 day'; label := 'future';
  END IF;
END
$f$;

CREATE FUNCTION pg_temp.rnd_valid(OUT t timestamptz, OUT label text) LANGUAGE plpgsql AS $f$
DECLARE
  r float8 := random();
  x float8 := random();
  base timestamptz := (SELECT c.base FROM pg_temp.cur AS c);
  vf timestamptz;
  vt timestamptz;
  rec timestamptz;
BEGIN
  SELECT u.tm INTO vf FROM (SELECT DISTINCT e.valid_from AS tm FROM cdc_rand_events AS e WHERE e.valid_from > '-infinity') AS u
   ORDER BY u.tm OFFSET floor(x * (SELECT count(DISTINCT e.valid_from) FROM cdc_rand_events AS e WHERE e.valid_from > '-infinity')) LIMIT 1;
  SELECT u.tm INTO vt FROM (SELECT DISTINCT e.valid_to AS tm FROM cdc_rand_events AS e WHERE e.valid_to < 'infinity') AS u
   ORDER BY u.tm OFFSET floor(x * (SELECT count(DISTINCT e.valid_to) FROM cdc_rand_events AS e WHERE e.valid_to < 'infinity')) LIMIT 1;
  SELECT u.tm INTO rec FROM (SELECT DISTINCT e.recorded_at AS tm FROM cdc_rand_events AS e) AS u
   ORDER BY u.tm OFFSET floor(x * (SELECT count(DISTINCT e.recorded_at) FROM cdc_rand_events AS e)) LIMIT 1;
  IF r < 0.06 THEN t := '-infinity'; label := '-infinity';
  ELSIF r < 0.12 THEN t := 'infinity'; label := 'infinity';
  ELSIF r < 0.32 THEN t := vf; label := 'a valid_from';
  ELSIF r < 0.40 THEN t := vf - interval '1 microsecond'; label := 'a valid_from - 1us';
  ELSIF r < 0.52 THEN t := vt; label := 'a valid_to';
  ELSIF r < 0.58 THEN t := vt - interval '1 microsecond'; label := 'a valid_to - 1us';
  ELSIF r < 0.68 THEN t := rec; label := 'a recorded_at';
  ELSIF r < 0.81 THEN
    t := base - interval '4 hours' + x * (clock_timestamp() - base + interval '4 hours'); label := 'random past';
  ELSIF r < 0.92 THEN
    t := clock_timestamp() + x * interval '40 days'; label := 'random future';
  ELSE t := clock_timestamp(); label := 'now';
  END IF;
  IF t IS NULL THEN   -- no such event time: fall back to now
    t := clock_timestamp(); label := label || ' (none: now)';
  END IF;
END
$f$;

CREATE FUNCTION pg_temp.check_seed(npoints integer) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
  s integer := (SELECT seed FROM pg_temp.cur);
  c record;
  k record;
  v record;
  n bigint;
BEGIN
  -- Every copy: as_of(t, t) = reference, and = the copy when comparable.
  FOR c IN
    SELECT ct.step, ct.phase, ct.t,
           NOT EXISTS (SELECT FROM pg_temp.bounds AS b
                        WHERE b.seed = s AND b.b <= ct.t
                          AND NOT EXISTS (SELECT FROM pg_temp.applies AS a
                                           WHERE a.seed = s AND a.a > b.b AND a.a < ct.t)) AS comparable
      FROM pg_temp.copy_times AS ct WHERE ct.seed = s ORDER BY ct.t
  LOOP
    RETURN NEXT bag_eq(pg_temp.q_asof(c.t, c.t), pg_temp.q_ref(c.t, c.t),
      format('seed %s, after step %s%s (t = %s): as_of(known_at => t, valid_at => t) = reference',
             s, c.step, c.phase, c.t));
    IF c.comparable THEN
      RETURN NEXT bag_eq(pg_temp.q_asof(c.t, c.t),
        format('SELECT ROW(c.region, c.id, c.name, c.qty, c.attrs)::text FROM pg_temp.copies AS c
                 WHERE c.seed = %s AND c.step = %s AND c.phase = %L', s, c.step, c.phase),
        format('seed %s, after step %s%s: as_of(known_at => t, valid_at => t) = the table at t',
               s, c.step, c.phase));
    ELSE
      INSERT INTO pg_temp.coverage VALUES ('stale copy skipped');
      RETURN NEXT skip(format('seed %s, after step %s%s: a post-dated or bounded change fell due since the last apply_due',
                              s, c.step, c.phase), 1);
    END IF;
  END LOOP;

  -- Random (known_at, valid_at) points.
  FOR i IN 1..npoints LOOP
    SELECT * INTO k FROM pg_temp.rnd_known();
    SELECT * INTO v FROM pg_temp.rnd_valid();
    RETURN NEXT bag_eq(pg_temp.q_asof(k.t, v.t), pg_temp.q_ref(k.t, v.t),
      format('seed %s, point %s: known_at %s (%s), valid_at %s (%s): as_of = reference',
             s, i, k.t, k.label, v.t, v.label));
  END LOOP;

  -- TRUNCATE outside the present is refused.
  SELECT count(*) INTO n FROM pg_temp.refusals AS f WHERE f.seed = s;
  RETURN NEXT is((SELECT array_agg(DISTINCT f.state) FROM pg_temp.refusals AS f
                   WHERE f.seed = s AND f.state <> '0A000'), NULL,
    format('seed %s: every TRUNCATE with a valid range not containing the present was refused with 0A000 (%s tried)', s, n));

  -- apply_due brings the table to the state valid now.
  PERFORM chronicle.apply_due('cdc_rand');
  RETURN NEXT bag_eq('SELECT r::text FROM chronicle.as_of(NULL::cdc_rand) AS r',
                     'SELECT r::text FROM cdc_rand AS r',
    format('seed %s: after apply_due, as_of(NULL::cdc_rand) = the table', s));

  -- What this seed exercised.
  INSERT INTO pg_temp.coverage
    SELECT DISTINCT 'event ' || e.type FROM cdc_rand_events AS e
    UNION SELECT DISTINCT 'mode ' || l.mode FROM pg_temp.ops_log AS l WHERE l.seed = s
    UNION SELECT DISTINCT 'op ' || l.op || CASE WHEN l.applied THEN '' ELSE ' (not applied)' END
            FROM pg_temp.ops_log AS l WHERE l.seed = s AND l.mode <> 'apply_due' AND l.n IS NOT NULL
    UNION SELECT 'refused truncate' FROM pg_temp.refusals AS f WHERE f.seed = s AND f.state = '0A000'
    UNION SELECT 'apply_due changed rows' FROM pg_temp.applies AS a WHERE a.seed = s AND a.n > 0
    UNION SELECT 'backdated delete' FROM cdc_rand_events AS e
           WHERE e.type = 'delete' AND e.valid_from < e.recorded_at
    UNION SELECT 'update key' FROM cdc_rand_events AS d JOIN cdc_rand_events AS i
              ON i.recorded_at = d.recorded_at AND i.position = d.position + 1
           WHERE d.type = 'delete' AND i.type = 'insert' AND d.stream <> i.stream;
END
$f$;

-- end_seed: stop tracking and forget the history, empty the table.
CREATE PROCEDURE pg_temp.end_seed() LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM chronicle.untrack('cdc_rand');
  DROP TABLE cdc_rand_events;
  TRUNCATE cdc_rand;
END
$f$;

-------------------------------------------------------------------------------
-- The runs
-------------------------------------------------------------------------------
CALL pg_temp.begin_seed(1, 0.11);
CALL pg_temp.do_track();
CALL pg_temp.take_copy(0, 'a');
SELECT sql FROM pg_temp.step_script(:steps) \gexec
SELECT * FROM pg_temp.check_seed(:points);
CALL pg_temp.end_seed();

CALL pg_temp.begin_seed(2, -0.42);
CALL pg_temp.do_track();
CALL pg_temp.take_copy(0, 'a');
SELECT sql FROM pg_temp.step_script(:steps) \gexec
SELECT * FROM pg_temp.check_seed(:points);
CALL pg_temp.end_seed();

CALL pg_temp.begin_seed(3, 0.77);
CALL pg_temp.do_track();
CALL pg_temp.take_copy(0, 'a');
SELECT sql FROM pg_temp.step_script(:steps) \gexec
SELECT * FROM pg_temp.check_seed(:points);
CALL pg_temp.end_seed();

SELECT set_has('SELECT what FROM pg_temp.coverage',
  $$VALUES ('event snapshot'), ('event insert'), ('event update'), ('event delete'), ('event truncate'),
           ('event schema'),
           ('mode default'), ('mode backdated'), ('mode backdated bounded ahead'), ('mode bounded ahead'),
           ('mode since -infinity'), ('mode bounded past'), ('mode post-dated'), ('mode post-dated soon'),
           ('mode expiring soon'),
           ('op insert'), ('op insert (not applied)'), ('op insert rows'), ('op upsert'),
           ('op upsert (not applied)'), ('op insert do nothing'), ('op update'), ('op update (not applied)'),
           ('op update rows'), ('op update same values'), ('op update key'), ('op update key (not applied)'),
           ('op delete'), ('op delete (not applied)'), ('op delete rows'), ('op truncate'),
           ('refused truncate'), ('apply_due changed rows'), ('stale copy skipped'),
           ('backdated delete'), ('update key')$$,
  'the random runs exercised every kind of change, valid range and check');

-------------------------------------------------------------------------------
-- A jsonb column holding the JSON value null (not SQL NULL)
-------------------------------------------------------------------------------
CREATE TABLE cdc_rand_jnull (id integer PRIMARY KEY, attrs jsonb);
INSERT INTO cdc_rand_jnull VALUES (1, 'null'), (2, NULL);
SELECT chronicle.track('cdc_rand_jnull') IS NOT NULL AS tracked \g /dev/null
INSERT INTO cdc_rand_jnull VALUES (3, 'null'), (4, NULL);
-- Known limitation (README, "Limitations"): row images are jsonb objects, in
-- which a json/jsonb column holding the JSON value null and one holding SQL
-- NULL look the same.
SELECT todo_start('row images do not tell a jsonb null from SQL NULL');
SELECT bag_eq('SELECT r::text FROM chronicle.as_of(NULL::cdc_rand_jnull) AS r',
              'SELECT r::text FROM cdc_rand_jnull AS r',
  'as_of keeps the jsonb value null apart from SQL NULL (snapshot and insert)');
SELECT todo_end();

-------------------------------------------------------------------------------
-- INSERT … ON CONFLICT on existing rows, post-dated: the change recorded is
-- the one the statement makes to the row (as for a post-dated UPDATE, whose
-- WHERE also sees the table as it is now): DO UPDATE sets its SET columns,
-- DO NOTHING changes nothing.
-------------------------------------------------------------------------------
CREATE TABLE cdc_rand_upsert (id integer PRIMARY KEY, name text, qty integer);
INSERT INTO cdc_rand_upsert VALUES (1, 'a', 10), (2, 'b', 20);
SELECT chronicle.track('cdc_rand_upsert') IS NOT NULL AS tracked \g /dev/null
BEGIN;
SET LOCAL chronicle.valid_from = '2100-01-01';
INSERT INTO cdc_rand_upsert VALUES (1, 'x', 99) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;
INSERT INTO cdc_rand_upsert VALUES (2, 'y', 99) ON CONFLICT DO NOTHING;
COMMIT;
SELECT is((SELECT r::text FROM chronicle.as_of(NULL::cdc_rand_upsert, valid_at => '2100-06-01') AS r WHERE r.id = 1),
          '(1,x,10)',
          'post-dated INSERT … ON CONFLICT DO UPDATE SET name on an existing row: valid from then, only name changes');
SELECT is((SELECT r::text FROM chronicle.as_of(NULL::cdc_rand_upsert, valid_at => '2100-06-01') AS r WHERE r.id = 2),
          '(2,b,20)',
          'post-dated INSERT … ON CONFLICT DO NOTHING on an existing row: the row stays as it is');

SELECT * FROM finish();

DROP TABLE cdc_rand, cdc_rand_jnull, cdc_rand_jnull_events, cdc_rand_upsert, cdc_rand_upsert_events;
DROP TABLE pg_temp.cur, pg_temp.universe, pg_temp.copy_times, pg_temp.copies, pg_temp.bounds,
           pg_temp.applies, pg_temp.refusals, pg_temp.ops_log, pg_temp.coverage;
DROP FUNCTION pg_temp.ref_as_of, pg_temp.q_asof, pg_temp.q_ref, pg_temp.pick, pg_temp.rnd_name,
              pg_temp.rnd_qty, pg_temp.rnd_attrs, pg_temp.pick_row, pg_temp.pick_absent, pg_temp.pick_any, pg_temp.pick_key,
              pg_temp.rnd_past, pg_temp.step_script, pg_temp.rnd_known, pg_temp.rnd_valid, pg_temp.check_seed;
DROP PROCEDURE pg_temp.begin_seed, pg_temp.do_track, pg_temp.take_copy, pg_temp.settle, pg_temp.step,
               pg_temp.end_seed;
