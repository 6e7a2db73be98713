-- partitioned.sql: partitioned event tables (SPEC §6, large logs):
-- create_event_table(tbl, partition_by) and add_partitions(), every write
-- path and every reading function on a table whose events lie in several
-- partitions and in the default partition, checked against an unpartitioned
-- event table fed the same events in the same transactions (the oracle: the
-- two must hold the same rows, positions and stamps included, and answer
-- alike) and against plain SQL over the raw rows; immutability of each
-- partition; detaching a partition (the archive path).
-- Like known_at.sql this file cannot run inside one transaction: every write
-- below is its own autocommitted transaction (read() and consume() skip the
-- caller's own uncommitted events). It drops what it made at the end.
SET client_min_messages = warning;
SET TimeZone = 'UTC';

DROP TABLE IF EXISTS tap_part, tap_flat, tap_pday, tap_pweek, tap_pyear, tap_pdef, tap_plate, tap_part_a,
  tap_plain, tap_plain_p, tap_pmany, tap_part_long_event_table_name_shared_by_two_table_one, tap_part_long_event_table_name_shared_by_two_table_two;
DROP ROLE IF EXISTS tap_part_admin;
CREATE ROLE tap_part_admin NOLOGIN;
GRANT chronicle_admin TO tap_part_admin;

-------------------------------------------------------------------------------
-- Helpers and the oracle
-------------------------------------------------------------------------------
-- parts lists the partitions of tbl: name, bound (as pg_get_expr shows it).
CREATE FUNCTION pg_temp.parts(tbl regclass) RETURNS TABLE (name text, bound text) LANGUAGE sql AS $f$
  SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid)
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
   WHERE i.inhparent = tbl ORDER BY 1
$f$;

-- expected_parts: the partitions of one unit from the unit holding t0
-- through the one holding t1 (UTC), named tbl_YYYYMMDD, and the default one.
CREATE FUNCTION pg_temp.expected_parts(tbl text, unit text, t0 timestamptz, t1 timestamptz, with_default boolean DEFAULT true)
RETURNS TABLE (name text, bound text) LANGUAGE sql AS $f$
  SELECT * FROM (
    SELECT tbl || '_' || to_char(lo, 'YYYYMMDD'),
           format('FOR VALUES FROM (%L) TO (%L)', lo AT TIME ZONE 'UTC', (lo + ('1 ' || unit)::interval) AT TIME ZONE 'UTC')
      FROM generate_series(date_trunc(unit, t0 AT TIME ZONE 'UTC'), t1 AT TIME ZONE 'UTC', ('1 ' || unit)::interval) AS lo
    UNION ALL
    SELECT tbl || '_default', 'DEFAULT' WHERE with_default) AS x
   ORDER BY 1
$f$;

-- split ends the partition of tbl that holds the current time at a boundary
-- after every stamp so far (detach, attach again with the shorter range)
-- and, when part is given, creates part from there to the old end:
-- later events go to part, or to the default partition.
CREATE FUNCTION pg_temp.split(tbl regclass, part text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  b timestamptz := clock_timestamp();
  cur regclass;
  lo timestamptz;
  hi timestamptz;
BEGIN
  SELECT c.oid::regclass, m[1]::timestamptz, m[2]::timestamptz INTO STRICT cur, lo, hi
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid,
         regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)') AS m
   WHERE i.inhparent = tbl AND m[1]::timestamptz <= b AND b < m[2]::timestamptz;
  EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', tbl, cur);
  EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', tbl, cur, lo, b);
  IF part IS NOT NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', part, tbl, b, hi);
    PERFORM chronicle._protect(part::regclass);
  END IF;
END
$f$;

-- both runs q (with %1$s for the table) on the partitioned table and on the
-- unpartitioned one, in the same transaction.
CREATE FUNCTION pg_temp.both(q text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE format(q, 'tap_part');
  EXECUTE format(q, 'tap_flat');
END
$f$;

-- sqlstate_of runs q and returns 'ok' or the SQLSTATE it failed with.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END
$f$;

-- as_role runs q as role r and returns the first column of its first row.
CREATE FUNCTION pg_temp.as_role(r text, q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  result text;
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', r);
  EXECUTE q INTO result;
  RESET ROLE;
  RETURN result;
END
$f$;

-- mp is RFC 7396 MergePatch (see semantics.sql).
CREATE FUNCTION pg_temp.mp(target jsonb, patch jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE
  k text;
  v jsonb;
  r jsonb;
BEGIN
  IF patch IS NULL THEN
    RETURN target;
  END IF;
  IF jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  r := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
  FOR k, v IN SELECT e.key, e.value FROM jsonb_each(patch) AS e LOOP
    IF jsonb_typeof(v) = 'null' THEN
      r := r - k;
    ELSE
      r := r || jsonb_build_object(k, pg_temp.mp(r -> k, v));
    END IF;
  END LOOP;
  RETURN r;
END
$f$;
CREATE AGGREGATE pg_temp.mp_agg(jsonb) (SFUNC = pg_temp.mp, STYPE = jsonb);

-- o_events: the visible events (see semantics.sql). A correction or
-- retraction whose target is no longer in the table (its partition was
-- detached) starts its own chain, in the place of the position it replaces.
CREATE FUNCTION pg_temp.o_events(tbl regclass, s text, t timestamptz, v timestamptz)
RETURNS TABLE (replay bigint, "position" bigint, stream text, version integer, type text,
               payload jsonb, meta jsonb, valid_from timestamptz, valid_to timestamptz,
               recorded_at timestamptz, supersedes bigint)
LANGUAGE plpgsql AS $f$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH RECURSIVE known AS (
      SELECT e.* FROM %1$s AS e WHERE e.recorded_at <= $1 AND ($2 IS NULL OR e.stream = $2)
    ), chain (pos, root) AS (
      SELECT k.position, coalesce(k.supersedes, k.position) FROM known AS k
       WHERE k.supersedes IS NULL OR NOT EXISTS (SELECT FROM %1$s AS a WHERE a.position = k.supersedes)
      UNION ALL
      SELECT k.position, c.root FROM known AS k JOIN chain AS c ON k.supersedes = c.pos
    )
    SELECT row_number() OVER (ORDER BY k.valid_from, c.root, k.position),
           k.position, k.stream, k.version, k.type, k.payload, k.meta,
           k.valid_from, k.valid_to, k.recorded_at, k.supersedes
      FROM known AS k JOIN chain AS c ON c.pos = k.position
     WHERE left(k.type, 1) <> '$'
       AND NOT EXISTS (SELECT FROM known AS x WHERE x.supersedes = k.position)
       AND ($3 IS NULL OR (k.valid_from <= $3 AND $3 < k.valid_to))
     ORDER BY 1 $q$, tbl) USING t, s, v;
END
$f$;

CREATE FUNCTION pg_temp.o_state(tbl regclass, s text, v timestamptz, t timestamptz)
RETURNS jsonb LANGUAGE sql AS $f$
  SELECT pg_temp.mp_agg(o.payload ORDER BY o.replay) FROM pg_temp.o_events(tbl, s, t, v) AS o
$f$;

CREATE FUNCTION pg_temp.o_timeline(tbl regclass, s text, t timestamptz)
RETURNS TABLE (valid_from timestamptz, valid_to timestamptz, state jsonb) LANGUAGE sql AS $f$
  WITH ev AS (
    SELECT * FROM pg_temp.o_events(tbl, s, t, NULL) AS o WHERE o.payload IS NOT NULL
  ), bounds AS (
    SELECT DISTINCT b.x FROM ev, LATERAL (VALUES (ev.valid_from), (ev.valid_to)) AS b (x)
  ), intervals AS (
    SELECT bounds.x AS f, lead(bounds.x) OVER (ORDER BY bounds.x) AS u FROM bounds
  ), folded AS (
    SELECT i.f, i.u,
           (SELECT pg_temp.mp_agg(ev.payload ORDER BY ev.replay) FROM ev
             WHERE ev.valid_from <= i.f AND i.f < ev.valid_to) AS st
      FROM intervals AS i WHERE i.u IS NOT NULL
  ), marked AS (
    SELECT folded.*,
           CASE WHEN lag(folded.u) OVER w = folded.f AND lag(folded.st) OVER w = folded.st
                THEN 0 ELSE 1 END AS brk
      FROM folded WHERE folded.st IS NOT NULL WINDOW w AS (ORDER BY folded.f)
  ), grouped AS (
    SELECT marked.*, sum(marked.brk) OVER (ORDER BY marked.f) AS grp FROM marked
  )
  SELECT min(g.f), max(g.u), (array_agg(g.st))[1] FROM grouped AS g GROUP BY g.grp ORDER BY 1
$f$;

CREATE FUNCTION pg_temp.o_history(tbl regclass, s text)
RETURNS TABLE ("position" bigint, version integer, type text, payload jsonb, meta jsonb,
               valid_from timestamptz, valid_to timestamptz, recorded_at timestamptz,
               superseded_at timestamptz, supersedes bigint)
LANGUAGE plpgsql AS $f$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT e.position, e.version, e.type, e.payload, e.meta, e.valid_from, e.valid_to, e.recorded_at,
           coalesce((SELECT min(x.recorded_at) FROM %1$s AS x WHERE x.supersedes = e.position),
                    'infinity'::timestamptz),
           e.supersedes
      FROM %1$s AS e WHERE e.stream = $1 ORDER BY e.position $q$, tbl) USING s;
END
$f$;

-------------------------------------------------------------------------------
-- The tables, created in one transaction (so one now() names their units)
-------------------------------------------------------------------------------
CREATE TEMP TABLE tap_created (t timestamptz NOT NULL);
BEGIN;
DO $$
BEGIN
  PERFORM chronicle.create_event_table('tap_part', partition_by => 'month');
  PERFORM chronicle.create_event_table('tap_flat');
  PERFORM chronicle.create_event_table('tap_pday', 'day');
  PERFORM chronicle.create_event_table('tap_pweek', 'week');
  PERFORM chronicle.create_event_table('tap_pyear', 'year');
  PERFORM chronicle.create_event_table('tap_pdef', 'year');
  PERFORM chronicle.create_event_table('tap_plate', 'year');
END
$$;
INSERT INTO tap_created SELECT now();
CREATE TEMP TABLE tap_parts0 AS
  SELECT t.tbl, p.* FROM unnest(ARRAY['tap_part', 'tap_pday', 'tap_pweek', 'tap_pyear']) AS t (tbl),
                         LATERAL pg_temp.parts(t.tbl::regclass) AS p;
COMMIT;
CREATE FUNCTION pg_temp.created() RETURNS timestamptz LANGUAGE sql STABLE AS $f$ SELECT t FROM tap_created $f$;

-- tap_part's current month ends up cut in pieces: A (T1–T3), B (T4–T6),
-- C (T7–T9), then the default partition (T10–T12). A is the month's
-- partition as created, shortened by the first cut.
CREATE TEMP TABLE tap_names AS
  SELECT c.oid::regclass AS part FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'tap_part'::regclass
     AND c.relname = 'tap_part_' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC'), 'YYYYMMDD');

-------------------------------------------------------------------------------
-- The story, fed to both tables. Positions may be renumbered at commit, so
-- rows are found by (stream, version).
-------------------------------------------------------------------------------
-- T1: appends, with and without expected_version
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    SELECT chronicle.append('%1$s', 's', 'Created', '{"status": "new", "qty": 1}');
    SELECT chronicle.append('%1$s', 's', 'Changed', '{"qty": 2}', expected_version => 1);
    SELECT chronicle.append('%1$s', 's2', 'Other', '{"o": 1}', expected_version => 0);
  $q$);
END
$$;
-- T2: a multi-row INSERT over two streams
BEGIN;
INSERT INTO tap_part (stream, type, payload) VALUES ('s3', 'I', '{"i": 1}'), ('s3', 'I', '{"i": 2}'), ('s', 'Noted', '{"note": "x"}');
INSERT INTO tap_flat (stream, type, payload) VALUES ('s3', 'I', '{"i": 1}'), ('s3', 'I', '{"i": 2}'), ('s', 'Noted', '{"note": "x"}');
COMMIT;
-- T3: INSERT … SELECT (what COPY does), backdated
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    INSERT INTO %1$s (stream, type, payload, valid_from, meta)
    SELECT 'bulk', 'B', jsonb_build_object('n', g), '2020-01-01'::timestamptz + g * interval '1 day', '{"src": "copy"}'
      FROM generate_series(1, 5) AS g
  $q$);
END
$$;
DO $$ BEGIN PERFORM pg_temp.split('tap_part', 'tap_part_b'); END $$;
-- T4: correct s v1 (a correction in B of an event in A)
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    SELECT chronicle.correct('%1$s', (SELECT position FROM %1$s WHERE stream = 's' AND version = 1),
                             '{"status": "fresh", "qty": 1}')
  $q$);
END
$$;
-- T5: a backdated, bounded event with expected_version (s: Created, Changed, Noted, the correction)
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    SELECT chronicle.append('%1$s', 's', 'Promo', '{"promo": true}', valid_from => '2001-01-01',
                            valid_to => '2001-02-01', meta => '{"by": "t5"}', expected_version => 4)
  $q$);
END
$$;
-- T6: a subtransaction that wrote and aborted (restamped at commit), a
-- correction of the transaction's own event, a second event of s2
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    SELECT chronicle.append('%1$s', 's6', 'A', '{"a": 1}');
  $q$);
  BEGIN
    PERFORM pg_temp.both($q$ SELECT chronicle.append('%1$s', 's6', 'Lost', '{"lost": true}') $q$);
    RAISE EXCEPTION 'roll the subtransaction back';
  EXCEPTION WHEN raise_exception THEN
    NULL;
  END;
  PERFORM pg_temp.both($q$
    SELECT chronicle.append('%1$s', 's6', 'C', '{"c": 1}');
    SELECT chronicle.correct('%1$s', (SELECT position FROM %1$s WHERE stream = 's6' AND version = 1), '{"a": 2}');
    SELECT chronicle.append('%1$s', 's2', 'Other', '{"o": 2}', expected_version => 1);
  $q$);
END
$$;
DO $$ BEGIN PERFORM pg_temp.split('tap_part', 'tap_part_c'); END $$;
-- T7: retract s v2 (in A, from C)
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    SELECT chronicle.retract('%1$s', (SELECT position FROM %1$s WHERE stream = 's' AND version = 2), meta => '{"why": "t7"}')
  $q$);
END
$$;
-- T8: erase s2 (events in A and B; the marker in C)
DO $$
BEGIN
  PERFORM pg_temp.both($q$ SELECT pg_temp.as_role('tap_part_admin', 'SELECT chronicle.erase(''%1$s'', ''s2'')') $q$);
END
$$;
-- T9: an append and an INSERT … SELECT in one transaction
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    SELECT chronicle.append('%1$s', 's', 'Changed', '{"qty": 3}');
    INSERT INTO %1$s (stream, type, payload) SELECT 's3', 'I', jsonb_build_object('i', g) FROM generate_series(3, 4) AS g;
  $q$);
END
$$;
-- End C; what follows falls in the default partition.
DO $$ BEGIN PERFORM pg_temp.split('tap_part', NULL); END $$;
-- T10: correct an event of B, append with expected_version
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    SELECT chronicle.correct('%1$s', (SELECT position FROM %1$s WHERE stream = 's' AND type = 'Promo'),
                             '{"promo": "big"}', valid_to => '2001-03-01');
    SELECT chronicle.append('%1$s', 's3', 'I', '{"i": 5}', expected_version => 4);
  $q$);
END
$$;
-- T11: a plain INSERT straight into the default partition (of the flat table: into it)
BEGIN;
INSERT INTO tap_part_default (stream, type, payload) VALUES ('s7', 'D', '{"d": 1}'), ('s', 'Changed', '{"qty": 4}');
INSERT INTO tap_flat (stream, type, payload) VALUES ('s7', 'D', '{"d": 1}'), ('s', 'Changed', '{"qty": 4}');
COMMIT;
-- T12: retract an event of C, append again
DO $$
BEGIN
  PERFORM pg_temp.both($q$
    SELECT chronicle.retract('%1$s', (SELECT position FROM %1$s WHERE stream = 's3' AND version = 3));
    SELECT chronicle.append('%1$s', 's7', 'D', '{"d": 2}', expected_version => 1);
  $q$);
END
$$;

-- The transaction times, as stored, and the piece each transaction landed in.
CREATE TEMP TABLE tap_t (name text PRIMARY KEY, t timestamptz NOT NULL, piece text NOT NULL);
INSERT INTO tap_t
  SELECT x.name, e.recorded_at, CASE c.relname::text WHEN 'tap_part_b' THEN 'B' WHEN 'tap_part_c' THEN 'C'
                                               WHEN 'tap_part_default' THEN 'default' ELSE e.tableoid::regclass::text END
    FROM (VALUES ('t1', 's', 1), ('t2', 's3', 1), ('t3', 'bulk', 1), ('t4', 's', 4), ('t5', 's', 5),
                 ('t6', 's6', 1), ('t7', 's', 6), ('t8', 's2', 3), ('t9', 's', 7), ('t10', 's', 8),
                 ('t11', 's7', 1), ('t12', 's7', 2)) AS x (name, stream, version)
    JOIN tap_part AS e ON e.stream = x.stream AND e.version = x.version
    JOIN pg_class AS c ON c.oid = e.tableoid;
CREATE FUNCTION pg_temp.t(n text) RETURNS timestamptz LANGUAGE sql STABLE AS $f$
  SELECT tap_t.t FROM tap_t WHERE tap_t.name = n
$f$;
CREATE TEMP TABLE tap_horizons AS
  SELECT t AS k FROM tap_t
  UNION SELECT t - interval '1 microsecond' FROM tap_t
  UNION VALUES ('-infinity'::timestamptz), ('infinity');
CREATE TEMP TABLE tap_valid (v timestamptz);
INSERT INTO tap_valid VALUES (NULL), ('2001-01-15'), ('2001-02-15'), ('2020-01-03'), ('infinity');
CREATE TEMP TABLE tap_streams AS SELECT DISTINCT stream AS s FROM tap_flat;

-- What read() returned, in pages of 3, following the last position seen.
CREATE TEMP TABLE tap_pages (k serial PRIMARY KEY, page integer, "position" bigint);
DO $$
DECLARE
  last bigint := 0;
  page integer := 0;
  n integer;
BEGIN
  LOOP
    page := page + 1;
    INSERT INTO tap_pages (page, position) SELECT page, r.position FROM chronicle.read('tap_part', last, 3) AS r;
    GET DIAGNOSTICS n = ROW_COUNT;
    EXIT WHEN n = 0 OR page > 100;
    SELECT max(position) INTO last FROM tap_pages;
  END LOOP;
END
$$;

-- A consumer group takes batches of 4 in its own transactions.
CREATE TEMP TABLE tap_consumed (k serial PRIMARY KEY, batch integer, "position" bigint);
BEGIN;
INSERT INTO tap_consumed (batch, position) SELECT 1, c.position FROM chronicle.consume('tap_g', 'tap_part', 4) AS c;
SELECT chronicle.commit('tap_g', 'tap_part', (SELECT max(position) FROM tap_consumed)) IS NULL AS committed \gset
COMMIT;
BEGIN;
INSERT INTO tap_consumed (batch, position) SELECT 2, c.position FROM chronicle.consume('tap_g', 'tap_part', 4) AS c;
-- a member that rolls back leaves its batch to the next poll
ROLLBACK;
BEGIN;
INSERT INTO tap_consumed (batch, position) SELECT 2, c.position FROM chronicle.consume('tap_g', 'tap_part', 4) AS c;
SELECT chronicle.commit('tap_g', 'tap_part', (SELECT max(position) FROM tap_consumed)) IS NULL AS committed \gset
COMMIT;
BEGIN;
INSERT INTO tap_consumed (batch, position) SELECT 3, c.position FROM chronicle.consume('tap_g', 'tap_part', 100) AS c;
SELECT chronicle.commit('tap_g', 'tap_part', (SELECT max(position) FROM tap_consumed)) IS NULL AS committed \gset
COMMIT;
BEGIN;
INSERT INTO tap_consumed (batch, position) SELECT 4, c.position FROM chronicle.consume('tap_g', 'tap_part', 100) AS c;
COMMIT;

SELECT plan(80);

-------------------------------------------------------------------------------
-- create_event_table(tbl, partition_by)
-------------------------------------------------------------------------------
SELECT results_eq($$SELECT name, bound FROM tap_parts0 WHERE tbl = 'tap_part' ORDER BY name$$,
  $$SELECT * FROM pg_temp.expected_parts('tap_part', 'month', pg_temp.created(), pg_temp.created() + interval '3 months')$$,
  'partition_by month: the current month and three ahead (UTC, tbl_YYYYMMDD) and a default partition');
SELECT results_eq($$SELECT name, bound FROM tap_parts0 WHERE tbl = 'tap_pday' ORDER BY name$$,
  $$SELECT * FROM pg_temp.expected_parts('tap_pday', 'day', pg_temp.created(), pg_temp.created() + interval '3 days')$$,
  'partition_by day: today and three days ahead, and a default partition');
SELECT results_eq($$SELECT name, bound FROM tap_parts0 WHERE tbl = 'tap_pweek' ORDER BY name$$,
  $$SELECT * FROM pg_temp.expected_parts('tap_pweek', 'week', pg_temp.created(), pg_temp.created() + interval '3 weeks')$$,
  'partition_by week: from this week''s Monday, four weeks, and a default partition');
SELECT results_eq($$SELECT name, bound FROM tap_parts0 WHERE tbl = 'tap_pyear' ORDER BY name$$,
  $$SELECT * FROM pg_temp.expected_parts('tap_pyear', 'year', pg_temp.created(), pg_temp.created() + interval '3 years')$$,
  'partition_by year: this year and three ahead, and a default partition');
SELECT results_eq(
  $$SELECT c.relkind::text, pg_get_partkeydef(c.oid) FROM pg_class AS c WHERE c.oid = 'tap_part'::regclass
    UNION ALL SELECT c.relkind::text, NULL FROM pg_class AS c WHERE c.oid = 'tap_flat'::regclass$$,
  $$VALUES ('p', 'RANGE (recorded_at)'), ('r', NULL)$$,
  'partitioned by RANGE (recorded_at); partition_by NULL makes one table');
SELECT is((SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef AS d
            WHERE d.adrelid = 'tap_part'::regclass AND d.adnum = (SELECT attnum FROM pg_attribute
                                                                  WHERE attrelid = 'tap_part'::regclass AND attname = 'recorded_at')),
  'chronicle._provisional_stamp()', 'recorded_at defaults to the provisional stamp (rows are routed by it)');
SELECT throws_ok($$SELECT chronicle.create_event_table('tap_bad', 'hour')$$, '22023', NULL,
  'partition_by hour: 22023');
SELECT throws_ok($$SELECT chronicle.create_event_table('tap_bad', '')$$, '22023', NULL, 'partition_by empty: 22023');
SELECT throws_ok($$SELECT chronicle.create_event_table('tap_bad', 'Month')$$, '22023', NULL,
  'partition_by is case-sensitive: 22023');
SELECT ok(to_regclass('tap_bad') IS NULL, 'a refused partition_by creates nothing');

-------------------------------------------------------------------------------
-- The rows: where they went, and the same rows as the unpartitioned table
-------------------------------------------------------------------------------
SELECT results_eq($$SELECT name, piece FROM tap_t ORDER BY t$$,
  $$VALUES ('t1', (SELECT part::text FROM tap_names)),
           ('t2', (SELECT part::text FROM tap_names)),
           ('t3', (SELECT part::text FROM tap_names)),
           ('t4', 'B'), ('t5', 'B'), ('t6', 'B'), ('t7', 'C'), ('t8', 'C'), ('t9', 'C'),
           ('t10', 'default'), ('t11', 'default'), ('t12', 'default')$$,
  'each transaction''s events lie in the partition of its stamp: A, B, C, then the default partition');
SELECT is((SELECT count(DISTINCT (tableoid, recorded_at)) FROM tap_part), (SELECT count(DISTINCT recorded_at) FROM tap_part),
  'a transaction''s events never straddle partitions');
SELECT results_eq(
  $$SELECT position, stream, version, type, payload, meta, valid_from, valid_to, recorded_at, supersedes FROM tap_part ORDER BY position$$,
  $$SELECT position, stream, version, type, payload, meta, valid_from, valid_to, recorded_at, supersedes FROM tap_flat ORDER BY position$$,
  'oracle: the partitioned table holds the same rows as the unpartitioned one, positions and stamps included');
SELECT is((SELECT count(*) FROM tap_part), 28::bigint, 'twenty-eight events');
SELECT ok(pg_temp.t('t1') < pg_temp.t('t2') AND pg_temp.t('t2') < pg_temp.t('t3') AND pg_temp.t('t3') < pg_temp.t('t4')
          AND pg_temp.t('t4') < pg_temp.t('t5') AND pg_temp.t('t5') < pg_temp.t('t6') AND pg_temp.t('t6') < pg_temp.t('t7')
          AND pg_temp.t('t7') < pg_temp.t('t8') AND pg_temp.t('t8') < pg_temp.t('t9') AND pg_temp.t('t9') < pg_temp.t('t10')
          AND pg_temp.t('t10') < pg_temp.t('t11') AND pg_temp.t('t11') < pg_temp.t('t12'),
  'recorded_at strictly increasing across transactions and partitions');
SELECT is((SELECT count(*) FROM tap_part AS a JOIN tap_part AS b ON a.position < b.position
            WHERE a.recorded_at > b.recorded_at), 0::bigint, 'positions increase in commit order across partitions');
SELECT results_eq(
  $$SELECT stream, array_agg(version ORDER BY version) FROM tap_part GROUP BY stream ORDER BY stream$$,
  $$SELECT stream, array_agg(g ORDER BY g) FROM (SELECT stream, count(*) AS n FROM tap_part GROUP BY stream) AS x,
           generate_series(1, x.n::integer) AS g GROUP BY stream ORDER BY stream$$,
  'versions are 1, 2, 3 … per stream across partitions: no gap, no duplicate');
SELECT results_eq($$SELECT stream, version FROM tap_part ORDER BY stream, position$$,
  $$SELECT stream, version FROM tap_part ORDER BY stream, version$$, 'versions follow positions within a stream');
SELECT results_eq($$SELECT version, type, payload FROM tap_part WHERE stream = 's6' ORDER BY position$$,
  $$VALUES (1, 'A', '{"a": 1}'::jsonb), (2, 'C', '{"c": 1}'), (3, 'A', '{"a": 2}')$$,
  'the aborted subtransaction left no row and no version hole');
SELECT is((SELECT count(*) FROM tap_part WHERE stream = 's2' AND payload IS NOT NULL), 0::bigint,
  'erase: the payloads of the stream are gone in every partition');
SELECT results_eq($$SELECT version, meta FROM tap_part WHERE stream = 's2' AND type = '$erase'$$,
  $$VALUES (3, '{"erased_events": 2, "erased_by": "tap_part_admin"}'::jsonb)$$,
  'erase: the erasure is recorded with the number of events erased across partitions');
SELECT is((SELECT supersedes FROM tap_part WHERE stream = 's' AND version = 4),
  (SELECT position FROM tap_part WHERE stream = 's' AND version = 1), 'a correction in B points at its event in A');

-------------------------------------------------------------------------------
-- Reading functions: as the unpartitioned table, and as the oracle
-------------------------------------------------------------------------------
SELECT results_eq(
  $$SELECT k, v, e.* FROM tap_horizons, tap_valid, LATERAL chronicle.events('tap_part', known_at => k, valid_at => v) AS e ORDER BY k, v, e.replay$$,
  $$SELECT k, v, e.* FROM tap_horizons, tap_valid, LATERAL chronicle.events('tap_flat', known_at => k, valid_at => v) AS e ORDER BY k, v, e.replay$$,
  'events() of all streams at every horizon and valid time: as the unpartitioned table');
SELECT results_eq(
  $$SELECT k, v, e.* FROM tap_horizons, tap_valid, LATERAL chronicle.events('tap_part', known_at => k, valid_at => v) AS e ORDER BY k, v, e.replay$$,
  $$SELECT k, v, o.* FROM tap_horizons, tap_valid, LATERAL pg_temp.o_events('tap_part', NULL, k, v) AS o ORDER BY k, v, o.replay$$,
  'oracle: events() of all streams at every horizon and valid time');
SELECT results_eq(
  $$SELECT s, k, e.* FROM tap_streams, tap_horizons, LATERAL chronicle.events('tap_part', s, known_at => k) AS e ORDER BY s, k, e.replay$$,
  $$SELECT s, k, e.* FROM tap_streams, tap_horizons, LATERAL chronicle.events('tap_flat', s, known_at => k) AS e ORDER BY s, k, e.replay$$,
  'events() of each stream at every horizon: as the unpartitioned table');
SELECT results_eq(
  $$SELECT s, k, v, chronicle.state('tap_part', s, valid_at => v, known_at => k) FROM tap_streams, tap_horizons, tap_valid ORDER BY s, k, v$$,
  $$SELECT s, k, v, chronicle.state('tap_flat', s, valid_at => v, known_at => k) FROM tap_streams, tap_horizons, tap_valid ORDER BY s, k, v$$,
  'state() of each stream at every horizon and valid time: as the unpartitioned table');
SELECT results_eq(
  $$SELECT s, k, v, chronicle.state('tap_part', s, valid_at => v, known_at => k) FROM tap_streams, tap_horizons, tap_valid
     WHERE v IS NOT NULL ORDER BY s, k, v$$,
  $$SELECT s, k, v, pg_temp.o_state('tap_part', s, v, k) FROM tap_streams, tap_horizons, tap_valid
     WHERE v IS NOT NULL ORDER BY s, k, v$$,
  'oracle: state() of each stream at every horizon and valid time');
SELECT results_eq(
  $$SELECT s, chronicle.state('tap_part', s) FROM tap_streams ORDER BY s$$,
  $$SELECT s, pg_temp.o_state('tap_part', s, clock_timestamp(), clock_timestamp()) FROM tap_streams ORDER BY s$$,
  'oracle: state() of each stream valid and known now');
SELECT is(chronicle.state('tap_part', 's'), '{"status": "fresh", "qty": 4, "note": "x"}'::jsonb,
  'the state of s, folded from events in A, B, C and the default partition');
SELECT results_eq(
  $$SELECT s, h.* FROM tap_streams, LATERAL chronicle.history('tap_part', s) AS h ORDER BY s, h.position$$,
  $$SELECT s, h.* FROM tap_streams, LATERAL chronicle.history('tap_flat', s) AS h ORDER BY s, h.position$$,
  'history() of each stream: as the unpartitioned table');
SELECT results_eq(
  $$SELECT s, h.* FROM tap_streams, LATERAL chronicle.history('tap_part', s) AS h ORDER BY s, h.position$$,
  $$SELECT s, o.* FROM tap_streams, LATERAL pg_temp.o_history('tap_part', s) AS o ORDER BY s, o.position$$,
  'oracle: history() of each stream');
SELECT results_eq(
  $$SELECT s, k, tl.* FROM tap_streams, tap_horizons, LATERAL chronicle.timeline('tap_part', s, known_at => k) AS tl ORDER BY s, k, tl.valid_from$$,
  $$SELECT s, k, tl.* FROM tap_streams, tap_horizons, LATERAL chronicle.timeline('tap_flat', s, known_at => k) AS tl ORDER BY s, k, tl.valid_from$$,
  'timeline() of each stream at every horizon: as the unpartitioned table');
SELECT results_eq(
  $$SELECT s, k, tl.* FROM tap_streams, tap_horizons, LATERAL chronicle.timeline('tap_part', s, known_at => k) AS tl ORDER BY s, k, tl.valid_from$$,
  $$SELECT s, k, o.* FROM tap_streams, tap_horizons, LATERAL pg_temp.o_timeline('tap_part', s, k) AS o ORDER BY s, k, o.valid_from$$,
  'oracle: timeline() of each stream at every horizon');

-------------------------------------------------------------------------------
-- read() and consumer groups across partitions
-------------------------------------------------------------------------------
SELECT results_eq($$SELECT * FROM chronicle.read('tap_part')$$,
  $$SELECT position, stream, version, type, payload, meta, valid_from, valid_to, recorded_at, supersedes FROM tap_part ORDER BY position$$,
  'read(): every event of every partition, in position order');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_part')$$, $$SELECT * FROM chronicle.read('tap_flat')$$,
  'read(): as the unpartitioned table');
SELECT results_eq(
  $$SELECT a, r.position FROM (SELECT position AS a FROM tap_part UNION VALUES (0::bigint)) AS x,
           LATERAL chronicle.read('tap_part', a, 5) AS r ORDER BY a, r.position$$,
  $$SELECT a, r.position FROM (SELECT position AS a FROM tap_flat UNION VALUES (0::bigint)) AS x,
           LATERAL chronicle.read('tap_flat', a, 5) AS r ORDER BY a, r.position$$,
  'read(after, 5) from every position: as the unpartitioned table');
SELECT results_eq($$SELECT position FROM tap_pages ORDER BY k$$, $$SELECT position FROM tap_part ORDER BY position$$,
  'a reader following the log in pages of 3 misses nothing and repeats nothing');
SELECT results_eq($$SELECT position FROM tap_consumed ORDER BY k$$,
  $$SELECT position FROM tap_part ORDER BY position$$,
  'consume/commit in batches: every event once, in position order (a rolled-back batch is taken again)');
SELECT results_eq($$SELECT batch, count(*)::integer FROM tap_consumed GROUP BY batch ORDER BY batch$$,
  $$VALUES (1, 4), (2, 4), (3, 20)$$, 'the batches: 4, 4 (after a rollback), the rest, then none');
SELECT is((SELECT position FROM chronicle.consumer_offsets WHERE grp = 'tap_g' AND tbl = 'tap_part'::regclass),
  (SELECT max(position) FROM tap_part), 'the group''s offset is the newest position (in the default partition)');
SELECT throws_ok($$SELECT chronicle.commit('tap_g', 'tap_part', (SELECT max(position) + 1 FROM tap_part))$$, '22023', NULL,
  'commit() beyond the newest event of any partition: 22023');

-------------------------------------------------------------------------------
-- Writing rules on the partitions
-------------------------------------------------------------------------------
SELECT throws_ok($$INSERT INTO tap_part (stream, type, payload, recorded_at) VALUES ('x', 'x', '{}', now() - interval '1 day')$$,
  '428C9', NULL, 'a caller-supplied recorded_at is refused');
SELECT throws_ok($$INSERT INTO tap_part (stream, type, payload, position) VALUES ('x', 'x', '{}', 1)$$,
  '428C9', NULL, 'a caller-supplied position is refused');
SELECT isnt(pg_temp.sqlstate_of($$INSERT INTO tap_part_b (stream, type, payload) VALUES ('x', 'x', '{}')$$), 'ok',
  'an INSERT straight into a partition that does not hold the current stamp is refused');

-- add_partitions
CREATE TEMP TABLE tap_added (tbl text PRIMARY KEY, n integer, t timestamptz);
INSERT INTO tap_added
  SELECT 'tap_part', chronicle.add_partitions('tap_part', '6 months'), now()
  UNION ALL SELECT 'tap_pday', chronicle.add_partitions('tap_pday', '10 days'), now()
  UNION ALL SELECT 'tap_pweek', chronicle.add_partitions('tap_pweek', '6 weeks'), now()
  UNION ALL SELECT 'tap_pyear', chronicle.add_partitions('tap_pyear'), now();
SELECT results_eq(
  $$SELECT * FROM pg_temp.parts('tap_part') WHERE name ~ '_[0-9]{8}$' AND name > 'tap_part_' || to_char(pg_temp.created() AT TIME ZONE 'UTC', 'YYYYMM') || '99'$$,
  $$SELECT * FROM pg_temp.expected_parts('tap_part', 'month', pg_temp.created() + interval '1 month', now() + interval '6 months', false)$$,
  'add_partitions(month, 6 months): one-month partitions through the one holding now() + 6 months');
SELECT results_eq($$SELECT * FROM pg_temp.parts('tap_pday')$$,
  $$SELECT * FROM pg_temp.expected_parts('tap_pday', 'day', pg_temp.created(), now() + interval '10 days')$$,
  'add_partitions(day, 10 days): the size is inferred from the newest partition');
SELECT results_eq($$SELECT * FROM pg_temp.parts('tap_pweek')$$,
  $$SELECT * FROM pg_temp.expected_parts('tap_pweek', 'week', pg_temp.created(), now() + interval '6 weeks')$$,
  'add_partitions(week, 6 weeks): weeks from Monday');
SELECT results_eq($$SELECT * FROM pg_temp.parts('tap_pyear')$$,
  $$SELECT * FROM pg_temp.expected_parts('tap_pyear', 'year', pg_temp.created(), pg_temp.created() + interval '3 years')$$,
  'add_partitions(year) with the default 3 months ahead: nothing to add');
SELECT results_eq(
  $$SELECT tbl, n FROM tap_added ORDER BY tbl$$,
  $$SELECT x.tbl, (SELECT count(*)::integer FROM pg_temp.parts(x.tbl::regclass) AS p WHERE p.name !~ '_[bc]$')
                  - (SELECT count(*)::integer FROM tap_parts0 AS p WHERE p.tbl = x.tbl)
      FROM (VALUES ('tap_part'), ('tap_pday'), ('tap_pweek'), ('tap_pyear')) AS x (tbl) ORDER BY 1$$,
  'add_partitions returns the number of partitions it created');
SELECT is(chronicle.add_partitions('tap_part', '6 months'), 0, 'add_partitions again: nothing to add');
SELECT throws_ok($$SELECT chronicle.add_partitions('tap_flat')$$, '42809', NULL,
  'add_partitions on an unpartitioned event table: 42809');
CREATE TABLE tap_plain (a int);
CREATE TABLE tap_plain_p (a int, recorded_at timestamptz) PARTITION BY RANGE (recorded_at);
SELECT throws_ok($$SELECT chronicle.add_partitions('tap_plain')$$, '42809', NULL,
  'add_partitions on a table that is not an event table: 42809');
SELECT throws_ok($$SELECT chronicle.add_partitions('tap_plain_p')$$, '42809', NULL,
  'add_partitions on a partitioned table that is not an event table: 42809');
SELECT results_eq(
  $$VALUES (pg_temp.sqlstate_of('SELECT chronicle.add_partitions(NULL)')),
           (pg_temp.sqlstate_of('SELECT chronicle.add_partitions(''tap_part'', NULL)'))$$,
  $$VALUES ('22004'), ('22004')$$, 'add_partitions with a NULL argument: 22004');

-- Immutability: every partition (and the table) refuses UPDATE, DELETE and
-- TRUNCATE, touching rows or not.
SELECT results_eq(
  $$SELECT p.name, pg_temp.sqlstate_of(format('UPDATE %I SET payload = payload', p.name)),
                   pg_temp.sqlstate_of(format('UPDATE %I SET payload = payload WHERE false', p.name)),
                   pg_temp.sqlstate_of(format('DELETE FROM %I', p.name)),
                   pg_temp.sqlstate_of(format('TRUNCATE %I', p.name))
      FROM (SELECT 'tap_part' AS name UNION ALL SELECT name FROM pg_temp.parts('tap_part')) AS p ORDER BY 1$$,
  $$SELECT p.name, '0A000', '0A000', '0A000', '0A000'
      FROM (SELECT 'tap_part' AS name UNION ALL SELECT name FROM pg_temp.parts('tap_part')) AS p ORDER BY 1$$,
  'UPDATE, DELETE and TRUNCATE on the table and on each partition (added ones too) are refused: 0A000');
SELECT is((SELECT count(*) FROM tap_part), 28::bigint, 'and no row changed');

-------------------------------------------------------------------------------
-- Rows in the default partition only (the current period's partition gone)
-------------------------------------------------------------------------------
DO $$
BEGIN
  EXECUTE format('ALTER TABLE tap_pdef DETACH PARTITION %I', 'tap_pdef_' || to_char(date_trunc('year', now() AT TIME ZONE 'UTC'), 'YYYYMMDD'));
  EXECUTE format('DROP TABLE %I', 'tap_pdef_' || to_char(date_trunc('year', now() AT TIME ZONE 'UTC'), 'YYYYMMDD'));
END
$$;
DO $$ BEGIN PERFORM chronicle.append('tap_pdef', 'a', 'e', '{"n": 1}'); PERFORM chronicle.append('tap_pdef', 'b', 'e', '{"n": 1}'); END $$;
INSERT INTO tap_pdef (stream, type, payload) VALUES ('a', 'e', '{"n": 2}'), ('b', 'e', '{"n": 2}');
DO $$ BEGIN PERFORM chronicle.append('tap_pdef', 'a', 'e', '{"n": 3}', expected_version => 2); END $$;
DO $$ BEGIN PERFORM chronicle.correct('tap_pdef', (SELECT position FROM tap_pdef WHERE stream = 'b' AND version = 1), '{"n": 10}'); END $$;
SELECT results_eq($$SELECT DISTINCT tableoid::regclass::text FROM tap_pdef$$, $$VALUES ('tap_pdef_default')$$,
  'with the current period''s partition gone, new events fall into the default partition');
SELECT results_eq($$SELECT * FROM chronicle.read('tap_pdef')$$,
  $$SELECT position, stream, version, type, payload, meta, valid_from, valid_to, recorded_at, supersedes FROM tap_pdef ORDER BY position$$,
  'read() of the default partition: in position order');
SELECT results_eq($$SELECT stream, version, payload FROM chronicle.events('tap_pdef')$$,
  $$VALUES ('a', 1, '{"n": 1}'::jsonb), ('b', 3, '{"n": 10}'), ('a', 2, '{"n": 2}'), ('b', 2, '{"n": 2}'), ('a', 3, '{"n": 3}')$$,
  'events() of the default partition, in replay order');
SELECT results_eq($$SELECT s, chronicle.state('tap_pdef', s) FROM (VALUES ('a'), ('b')) AS x (s)$$,
  $$SELECT s, pg_temp.o_state('tap_pdef', s, clock_timestamp(), clock_timestamp()) FROM (VALUES ('a'), ('b')) AS x (s)$$,
  'oracle: state() of the default partition''s streams');
SELECT is(chronicle.add_partitions('tap_pdef', '4 years'), 1, 'add_partitions after the newest partition, around the default one');

-- Rows in the default partition where add_partitions would create the next
-- partition (cron ran late).
DO $$
DECLARE
  r record;
  y timestamptz := date_trunc('year', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
BEGIN
  FOR r IN SELECT name FROM pg_temp.parts('tap_plate') WHERE name <> 'tap_plate_default' LOOP
    EXECUTE format('ALTER TABLE tap_plate DETACH PARTITION %I', r.name);
    EXECUTE format('DROP TABLE %I', r.name);
  END LOOP;
  EXECUTE format('CREATE TABLE tap_plate_old PARTITION OF tap_plate FOR VALUES FROM (%L) TO (%L)',
                 (y AT TIME ZONE 'UTC' - interval '1 year') AT TIME ZONE 'UTC', y);
  PERFORM chronicle._protect('tap_plate_old');
END
$$;
DO $$ BEGIN PERFORM chronicle.append('tap_plate', 'a', 'e', '{"n": 1}'); END $$;
SELECT is(pg_temp.sqlstate_of($$SELECT chronicle.add_partitions('tap_plate', '1 year')$$), 'ok',
  'add_partitions when the default partition holds events of the coming partition''s range');
SELECT ok((SELECT count(*) FROM pg_temp.parts('tap_plate')) > 2, 'and the partitions it needs are there');
SELECT is((SELECT count(*) FROM chronicle.read('tap_plate')), 1::bigint, 'the event in the default partition is still read');

-------------------------------------------------------------------------------
-- Detaching a partition: the archive path
-------------------------------------------------------------------------------
CREATE TEMP TABLE tap_before AS SELECT * FROM chronicle.read('tap_part');
CREATE TEMP TABLE tap_a_positions AS SELECT position FROM tap_part WHERE tableoid = (SELECT part FROM tap_names);
CREATE TEMP TABLE tap_events_before AS SELECT * FROM chronicle.events('tap_part');
DO $$
BEGIN
  EXECUTE format('ALTER TABLE tap_part DETACH PARTITION %s', (SELECT part FROM tap_names));
  EXECUTE format('ALTER TABLE %s RENAME TO tap_part_a', (SELECT part FROM tap_names));
END
$$;
SELECT results_eq($$SELECT * FROM chronicle.read('tap_part')$$,
  $$SELECT * FROM tap_before WHERE position NOT IN (SELECT position FROM tap_a_positions) ORDER BY position$$,
  'after DETACH, read() returns exactly the events of the other partitions');
SELECT results_eq(
  $$SELECT position, stream, version, type, payload FROM chronicle.events('tap_part') ORDER BY position$$,
  $$SELECT position, stream, version, type, payload FROM tap_events_before
     WHERE position NOT IN (SELECT position FROM tap_a_positions) ORDER BY position$$,
  'after DETACH, events() known now loses exactly the events of the detached partition (held corrections of them stay)');
SELECT results_eq(
  $$SELECT k, e.* FROM tap_horizons, LATERAL chronicle.events('tap_part', known_at => k) AS e ORDER BY k, e.replay$$,
  $$SELECT k, o.* FROM tap_horizons, LATERAL pg_temp.o_events('tap_part', NULL, k, NULL) AS o ORDER BY k, o.replay$$,
  'oracle: after DETACH, events() at every horizon is the fold of the rows still held');
SELECT results_eq(
  $$SELECT s, k, chronicle.state('tap_part', s, known_at => k) FROM tap_streams, tap_horizons ORDER BY s, k$$,
  $$SELECT s, k, pg_temp.o_state('tap_part', s, clock_timestamp(), k) FROM tap_streams, tap_horizons ORDER BY s, k$$,
  'oracle: after DETACH, state() at every horizon is the fold of the rows still held');
SELECT results_eq(
  $$SELECT k, chronicle.state('tap_part', 's', known_at => k) FROM tap_horizons WHERE k >= pg_temp.t('t7') ORDER BY k$$,
  $$SELECT k, chronicle.state('tap_flat', 's', known_at => k) - 'note' FROM tap_horizons WHERE k >= pg_temp.t('t7') ORDER BY k$$,
  'after DETACH, the state of s known since t7 lacks only what the archived event still visible set (the note)');
SELECT is(chronicle.state('tap_part', 'bulk', valid_at => 'infinity'), NULL::jsonb,
  'a stream wholly in the detached partition has no state');
SELECT throws_ok($$SELECT chronicle.correct('tap_part', (SELECT min(position) FROM tap_a_positions), '{}')$$, '42704', NULL,
  'correcting an archived event: no event at that position (42704)');
SELECT results_eq($$SELECT count(*) FROM tap_part_a$$, $$SELECT count(*) FROM tap_a_positions$$,
  'the detached partition keeps its events');
SELECT results_eq(
  $$VALUES (pg_temp.sqlstate_of('UPDATE tap_part_a SET payload = payload')), (pg_temp.sqlstate_of('DELETE FROM tap_part_a')),
           (pg_temp.sqlstate_of('TRUNCATE tap_part_a'))$$,
  $$VALUES ('0A000'), ('0A000'), ('0A000')$$, 'the detached partition is still immutable');
SELECT throws_ok($$SELECT * FROM chronicle.read('tap_part_a')$$, '42809', NULL,
  'the detached partition is no longer an event table of its own (42809)');
DO $$ BEGIN PERFORM chronicle.append('tap_part', 's3', 'I', '{"i": 6}'); END $$;
SELECT is((SELECT max(version) FROM tap_part WHERE stream = 's3'), 7, 'a stream with events still held goes on with its versions');
DO $$ BEGIN PERFORM chronicle.append('tap_part', 'bulk', 'B', '{"n": 6}'); END $$;
SELECT todo('versions restart after the stream''s events were archived', 1);
SELECT is((SELECT version FROM tap_part WHERE stream = 'bulk'), 6,
  'a stream whose events were all archived goes on with version 6, not 1');

-------------------------------------------------------------------------------
-- Names and scale
-------------------------------------------------------------------------------
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_part_long_event_table_name_shared_by_two_table_one', 'year'); END $$;
SELECT is(pg_temp.sqlstate_of($$SELECT chronicle.create_event_table('tap_part_long_event_table_name_shared_by_two_table_two', 'year')$$), 'ok',
  'two partitioned event tables whose names share their first 50 characters');

-- What an append and a read lock: a bounded number of partitions, not all of
-- them (each lock takes a slot of the shared lock table, sized by
-- max_locks_per_transaction: with years of daily partitions, concurrent
-- writers run out of shared memory).
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_pmany', 'day'); PERFORM chronicle.add_partitions('tap_pmany', '40 days'); END $$;
CREATE TEMP TABLE tap_locks (what text PRIMARY KEY, n bigint);
BEGIN;
DO $$ BEGIN PERFORM chronicle.append('tap_pmany', 'x', 'e', '{}'); END $$;
INSERT INTO tap_locks SELECT 'append', count(*) FROM pg_locks AS l JOIN pg_inherits AS i ON i.inhrelid = l.relation
  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND i.inhparent = 'tap_pmany'::regclass;
COMMIT;
BEGIN;
DO $$ BEGIN PERFORM count(*) FROM chronicle.read('tap_pmany', 0); END $$;
INSERT INTO tap_locks SELECT 'read', count(*) FROM pg_locks AS l JOIN pg_inherits AS i ON i.inhrelid = l.relation
  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND i.inhparent = 'tap_pmany'::regclass;
COMMIT;
SELECT ok((SELECT count(*) FROM pg_temp.parts('tap_pmany')) > 40, 'a table with more than forty partitions');
SELECT todo('the first append to a new stream probes (and locks) every partition: versions have no registry', 1);
SELECT cmp_ok((SELECT n FROM tap_locks WHERE what = 'append'), '<=', 3::bigint,
  'an append to a new stream locks at most 3 partitions');
SELECT cmp_ok((SELECT n FROM tap_locks WHERE what = 'read'), '<=', 3::bigint,
  'read() of a table whose events lie in one partition locks at most 3 partitions');

SELECT * FROM finish();
DROP TABLE tap_part, tap_flat, tap_pday, tap_pweek, tap_pyear, tap_pdef, tap_plate, tap_part_a, tap_plain, tap_plain_p, tap_pmany;
DROP TABLE IF EXISTS tap_part_long_event_table_name_shared_by_two_table_one, tap_part_long_event_table_name_shared_by_two_table_two;
DROP ROLE tap_part_admin;
