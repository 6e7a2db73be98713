-- known_at.sql: transaction time across committed transactions (SPEC §1, §3):
-- recorded_at per transaction, strictly increasing, reads as known at earlier
-- times, corrections and retractions invisible before they were recorded.
-- Unlike the other files this one cannot run inside one transaction: every
-- write below is its own autocommitted transaction. It works in its own
-- event table and drops it at the end.
SET client_min_messages = warning;
SET TimeZone = 'UTC';

DROP TABLE IF EXISTS tap_known_at;
DO $$ BEGIN PERFORM chronicle.create_event_table('tap_known_at'); END $$;

-------------------------------------------------------------------------------
-- The oracle (plain SQL over the raw rows; see semantics.sql)
-------------------------------------------------------------------------------
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

CREATE FUNCTION pg_temp.o_events(tbl regclass, s text, t timestamptz, v timestamptz)
RETURNS TABLE (replay bigint, "position" bigint, stream text, version integer, type text,
               payload jsonb, meta jsonb, valid_from timestamptz, valid_to timestamptz,
               recorded_at timestamptz, supersedes bigint)
LANGUAGE plpgsql AS $f$
BEGIN
  RETURN QUERY EXECUTE pg_catalog.format($q$
    WITH RECURSIVE known AS (
      SELECT e.* FROM %s AS e WHERE e.recorded_at <= $1 AND ($2 IS NULL OR e.stream = $2)
    ), chain (pos, root) AS (
      SELECT k.position, k.position FROM known AS k WHERE k.supersedes IS NULL
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
  RETURN QUERY EXECUTE pg_catalog.format($q$
    SELECT e.position, e.version, e.type, e.payload, e.meta, e.valid_from, e.valid_to, e.recorded_at,
           coalesce((SELECT min(x.recorded_at) FROM %1$s AS x WHERE x.supersedes = e.position),
                    'infinity'::timestamptz),
           e.supersedes
      FROM %1$s AS e WHERE e.stream = $1 ORDER BY e.position $q$, tbl) USING s;
END
$f$;

-------------------------------------------------------------------------------
-- The story: one autocommitted transaction per block, a little apart.
-- Positions may be renumbered at commit, so rows are found by (stream, version).
-------------------------------------------------------------------------------
-- T1: the first event of stream s
DO $$
BEGIN
  PERFORM pg_sleep(0.002);
  PERFORM chronicle.append('tap_known_at', 's', 'Created', '{"status": "new", "qty": 1}');
END
$$;
-- T2: two events of two streams in one transaction
DO $$
BEGIN
  PERFORM pg_sleep(0.002);
  PERFORM chronicle.append('tap_known_at', 's', 'Changed', '{"qty": 2}');
  PERFORM chronicle.append('tap_known_at', 's2', 'Other', '{"o": 1}');
END
$$;
-- A reader answers "as known now" between T2 and T3; its answer must never change.
CREATE TEMP TABLE tap_asof AS SELECT clock_timestamp() AS t, NULL::jsonb AS events, NULL::jsonb AS state;
UPDATE tap_asof SET
  events = (SELECT jsonb_agg(jsonb_build_array(e.replay, e.stream, e.version, e.payload) ORDER BY e.replay)
              FROM chronicle.events('tap_known_at', known_at => tap_asof.t) AS e),
  state = chronicle.state('tap_known_at', 's', known_at => tap_asof.t);
-- T3: correct the first event
DO $$
BEGIN
  PERFORM pg_sleep(0.002);
  PERFORM chronicle.correct('tap_known_at',
    (SELECT position FROM tap_known_at WHERE stream = 's' AND version = 1), '{"status": "fresh", "qty": 1}');
END
$$;
-- T4: a backdated, bounded event
DO $$
BEGIN
  PERFORM pg_sleep(0.002);
  PERFORM chronicle.append('tap_known_at', 's', 'Promo', '{"promo": true}',
                           valid_from => '2001-01-01', valid_to => '2001-02-01');
END
$$;
-- T5: retract the second event
DO $$
BEGIN
  PERFORM pg_sleep(0.002);
  PERFORM chronicle.retract('tap_known_at', (SELECT position FROM tap_known_at WHERE stream = 's' AND version = 2));
END
$$;
-- T6: a transaction whose subtransaction wrote and aborted (its rows are
-- renumbered and restamped at commit), with a correction of its own event
DO $$
DECLARE
  a bigint;
BEGIN
  PERFORM pg_sleep(0.002);
  SELECT position INTO a FROM chronicle.append('tap_known_at', 's6', 'A', '{"a": 1}');
  BEGIN
    PERFORM chronicle.append('tap_known_at', 's6', 'Lost', '{"lost": true}');
    RAISE EXCEPTION 'roll the subtransaction back';
  EXCEPTION WHEN raise_exception THEN
    NULL;
  END;
  PERFORM chronicle.append('tap_known_at', 's6', 'C', '{"c": 1}');
  PERFORM chronicle.correct('tap_known_at', a, '{"a": 2}');
END
$$;
DO $$ BEGIN PERFORM pg_sleep(0.002); END $$;
-- T7: a plain autocommitted multi-row INSERT
INSERT INTO tap_known_at (stream, type, payload) VALUES ('s7', 'I', '{"i": 1}'), ('s7', 'I', '{"i": 2}');

-- A read-only transaction reads as known now too (it answers as of the clock).
CREATE TEMP TABLE tap_ro (k text PRIMARY KEY, v jsonb);
BEGIN READ ONLY;
INSERT INTO tap_ro SELECT 'events', jsonb_agg(to_jsonb(e) ORDER BY e.replay) FROM chronicle.events('tap_known_at') AS e;
INSERT INTO tap_ro SELECT 'state', chronicle.state('tap_known_at', 's');
COMMIT;

-- The transaction times, as stored.
CREATE TEMP TABLE tap_t (name text PRIMARY KEY, t timestamptz NOT NULL);
INSERT INTO tap_t
  SELECT 't1', recorded_at FROM tap_known_at WHERE stream = 's' AND version = 1
  UNION ALL SELECT 't2', recorded_at FROM tap_known_at WHERE stream = 's' AND version = 2
  UNION ALL SELECT 't3', recorded_at FROM tap_known_at WHERE stream = 's' AND version = 3
  UNION ALL SELECT 't4', recorded_at FROM tap_known_at WHERE stream = 's' AND version = 4
  UNION ALL SELECT 't5', recorded_at FROM tap_known_at WHERE stream = 's' AND version = 5
  UNION ALL SELECT 't6', recorded_at FROM tap_known_at WHERE stream = 's6' AND version = 1
  UNION ALL SELECT 't7', recorded_at FROM tap_known_at WHERE stream = 's7' AND version = 1;
CREATE FUNCTION pg_temp.t(n text) RETURNS timestamptz LANGUAGE sql STABLE AS $f$
  SELECT tap_t.t FROM tap_t WHERE tap_t.name = n
$f$;
-- Every horizon worth asking about: each stamp, just before it, and the ends.
CREATE TEMP TABLE tap_horizons AS
  SELECT t AS k FROM tap_t
  UNION SELECT t - interval '1 microsecond' FROM tap_t
  UNION SELECT t + interval '1 microsecond' FROM tap_t
  UNION VALUES ('-infinity'::timestamptz);

SELECT plan(48);

-------------------------------------------------------------------------------
-- recorded_at
-------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM tap_t), 7::bigint, 'seven transactions wrote');
SELECT ok(pg_temp.t('t1') < pg_temp.t('t2') AND pg_temp.t('t2') < pg_temp.t('t3') AND pg_temp.t('t3') < pg_temp.t('t4')
          AND pg_temp.t('t4') < pg_temp.t('t5') AND pg_temp.t('t5') < pg_temp.t('t6') AND pg_temp.t('t6') < pg_temp.t('t7'),
  'recorded_at is strictly increasing across committed transactions');
SELECT is((SELECT recorded_at FROM tap_known_at WHERE stream = 's2' AND version = 1), pg_temp.t('t2'),
  'events of one transaction in two streams share recorded_at');
SELECT is((SELECT count(DISTINCT recorded_at) FROM tap_known_at WHERE stream = 's6'), 1::bigint,
  'a transaction with an aborted subtransaction still has one recorded_at');
SELECT is((SELECT count(DISTINCT recorded_at) FROM tap_known_at WHERE stream = 's7'), 1::bigint,
  'a multi-row INSERT has one recorded_at');
SELECT ok(pg_temp.t('t7') <= now(), 'recorded_at is not in the future');
SELECT is((SELECT count(*) FROM tap_known_at AS a JOIN tap_known_at AS b ON a.position < b.position
            WHERE a.recorded_at > b.recorded_at), 0::bigint,
  'positions increase in commit order');
SELECT results_eq(
  $$SELECT stream, version, valid_from = recorded_at FROM tap_known_at
     WHERE stream IN ('s', 's2', 's6', 's7') AND type NOT IN ('Promo', '$retract') AND supersedes IS NULL
     ORDER BY stream, version$$,
  $$VALUES ('s', 1, true), ('s', 2, true), ('s2', 1, true), ('s6', 1, true), ('s6', 2, true),
           ('s7', 1, true), ('s7', 2, true)$$,
  'after commit, a defaulted valid_from equals the final recorded_at');
SELECT is((SELECT valid_from FROM tap_known_at WHERE stream = 's' AND version = 3), pg_temp.t('t1'),
  'a correction keeps the valid_from of the event it replaces, not its own recorded_at');
SELECT results_eq($$SELECT version, type, payload FROM tap_known_at WHERE stream = 's6' ORDER BY position$$,
  $$VALUES (1, 'A', '{"a": 1}'::jsonb), (2, 'C', '{"c": 1}'), (3, 'A', '{"a": 2}')$$,
  'the aborted subtransaction left no row and no version hole');
SELECT is((SELECT supersedes FROM tap_known_at WHERE stream = 's6' AND version = 3),
  (SELECT position FROM tap_known_at WHERE stream = 's6' AND version = 1),
  'a correction renumbered at commit still points at the (renumbered) event it replaces');
SELECT is((SELECT valid_from FROM tap_known_at WHERE stream = 's6' AND version = 3), pg_temp.t('t6'),
  'a correction of an event of the same transaction keeps its (final) valid_from');
SELECT results_eq($$SELECT position, payload FROM chronicle.events('tap_known_at', 's6')$$,
  $$SELECT position, payload FROM tap_known_at WHERE stream = 's6' AND version IN (3, 2) ORDER BY version DESC$$,
  'events() of the renumbered transaction');

-------------------------------------------------------------------------------
-- state as known at each time
-------------------------------------------------------------------------------
SELECT is(chronicle.state('tap_known_at', 's', known_at => pg_temp.t('t1') - interval '1 microsecond'), NULL::jsonb,
  'known just before the first event: NULL');
SELECT is(chronicle.state('tap_known_at', 's', known_at => pg_temp.t('t1')), '{"status": "new", "qty": 1}'::jsonb,
  'known at t1 (its recorded_at is included)');
SELECT is(chronicle.state('tap_known_at', 's', known_at => pg_temp.t('t2') - interval '1 microsecond'),
  '{"status": "new", "qty": 1}'::jsonb, 'known just before t2: the second event is unknown');
SELECT is(chronicle.state('tap_known_at', 's', known_at => pg_temp.t('t2')), '{"status": "new", "qty": 2}'::jsonb,
  'known at t2');
SELECT is(chronicle.state('tap_known_at', 's', known_at => pg_temp.t('t3') - interval '1 microsecond'),
  '{"status": "new", "qty": 2}'::jsonb, 'a correction is invisible before its recorded_at');
SELECT is(chronicle.state('tap_known_at', 's', known_at => pg_temp.t('t3')), '{"status": "fresh", "qty": 2}'::jsonb,
  'known at t3: the correction stands in place of the first event');
SELECT is(chronicle.state('tap_known_at', 's', valid_at => '2001-01-15', known_at => pg_temp.t('t3')), NULL::jsonb,
  'valid in January, known at t3: the backdated event is not known yet');
SELECT is(chronicle.state('tap_known_at', 's', valid_at => '2001-01-15', known_at => pg_temp.t('t4')),
  '{"promo": true}'::jsonb, 'valid in January, known at t4: the backdated event');
SELECT is(chronicle.state('tap_known_at', 's', known_at => pg_temp.t('t5') - interval '1 microsecond'),
  '{"status": "fresh", "qty": 2}'::jsonb, 'a retraction is invisible before its recorded_at');
SELECT is(chronicle.state('tap_known_at', 's', known_at => pg_temp.t('t5')), '{"status": "fresh", "qty": 1}'::jsonb,
  'known at t5: the retracted event is gone');
SELECT is(chronicle.state('tap_known_at', 's'), '{"status": "fresh", "qty": 1}'::jsonb, 'known now');
SELECT is(chronicle.state('tap_known_at', 's', known_at => '-infinity'), NULL::jsonb, 'known at -infinity: NULL');
SELECT is(chronicle.state('tap_known_at', 's', known_at => 'infinity'), chronicle.state('tap_known_at', 's'),
  'known at infinity is known now');
SELECT is(chronicle.state('tap_known_at', 's', known_at => now() + interval '1 year'), chronicle.state('tap_known_at', 's'),
  'a known_at in the future is answered as of now');
SELECT results_eq(
  $$SELECT k, s, chronicle.state('tap_known_at', s, known_at => k) FROM tap_horizons, (VALUES ('s'), ('s2'), ('s6'), ('s7')) AS x (s) ORDER BY k, s$$,
  $$SELECT k, s, pg_temp.o_state('tap_known_at', s, clock_timestamp(), k) FROM tap_horizons, (VALUES ('s'), ('s2'), ('s6'), ('s7')) AS x (s) ORDER BY k, s$$,
  'oracle: state() of every stream at every horizon');
SELECT results_eq(
  $$SELECT k, chronicle.state('tap_known_at', 's', valid_at => '2001-01-15', known_at => k) FROM tap_horizons ORDER BY k$$,
  $$SELECT k, pg_temp.o_state('tap_known_at', 's', '2001-01-15', k) FROM tap_horizons ORDER BY k$$,
  'oracle: state() valid in January at every horizon');

-------------------------------------------------------------------------------
-- events as known at each time
-------------------------------------------------------------------------------
SELECT is_empty($$SELECT * FROM chronicle.events('tap_known_at', known_at => '-infinity')$$,
  'events known at -infinity: none');
SELECT results_eq($$SELECT * FROM chronicle.events('tap_known_at', known_at => 'infinity')$$,
  $$SELECT * FROM chronicle.events('tap_known_at')$$, 'events known at infinity: as known now');
SELECT results_eq($$SELECT stream, version FROM chronicle.events('tap_known_at', known_at => (SELECT t FROM tap_t WHERE name = 't2'))$$,
  $$VALUES ('s', 1), ('s', 2), ('s2', 1)$$, 'events known at t2');
SELECT results_eq($$SELECT stream, version FROM chronicle.events('tap_known_at', 's', known_at => (SELECT t FROM tap_t WHERE name = 't3'))$$,
  $$VALUES ('s', 3), ('s', 2)$$, 'events known at t3: the correction in the first place');
SELECT results_eq(
  $$SELECT k, e.* FROM tap_horizons, LATERAL chronicle.events('tap_known_at', known_at => k) AS e ORDER BY k, e.replay$$,
  $$SELECT k, o.* FROM tap_horizons, LATERAL pg_temp.o_events('tap_known_at', NULL, k, NULL) AS o ORDER BY k, o.replay$$,
  'oracle: events() of all streams at every horizon');
SELECT results_eq(
  $$SELECT k, e.* FROM tap_horizons, LATERAL chronicle.events('tap_known_at', 's', known_at => k, valid_at => '2001-01-15') AS e ORDER BY k, e.replay$$,
  $$SELECT k, o.* FROM tap_horizons, LATERAL pg_temp.o_events('tap_known_at', 's', k, '2001-01-15') AS o ORDER BY k, o.replay$$,
  'oracle: events(valid_at) of stream s at every horizon');

-------------------------------------------------------------------------------
-- stable as-of (SPEC §1.3)
-------------------------------------------------------------------------------
SELECT ok((SELECT t FROM tap_asof) < pg_temp.t('t3'), 'transactions after a read are stamped after its horizon');
SELECT is((SELECT jsonb_agg(jsonb_build_array(e.replay, e.stream, e.version, e.payload) ORDER BY e.replay)
             FROM chronicle.events('tap_known_at', known_at => (SELECT t FROM tap_asof)) AS e),
  (SELECT events FROM tap_asof), 'events() as known at an earlier horizon: the same answer as then');
SELECT is(chronicle.state('tap_known_at', 's', known_at => (SELECT t FROM tap_asof)), (SELECT state FROM tap_asof),
  'state() as known at an earlier horizon: the same answer as then');

SELECT is((SELECT v FROM tap_ro WHERE k = 'events'),
  (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.replay) FROM chronicle.events('tap_known_at') AS e),
  'a read-only transaction sees every committed event');
SELECT is((SELECT v FROM tap_ro WHERE k = 'state'), '{"status": "fresh", "qty": 1}'::jsonb,
  'a read-only transaction folds the same state');

-------------------------------------------------------------------------------
-- history and timeline
-------------------------------------------------------------------------------
SELECT results_eq(
  $$SELECT version, superseded_at FROM chronicle.history('tap_known_at', 's') ORDER BY version$$,
  $$VALUES (1, (SELECT t FROM tap_t WHERE name = 't3')), (2, (SELECT t FROM tap_t WHERE name = 't5')),
           (3, 'infinity'::timestamptz), (4, 'infinity'), (5, 'infinity')$$,
  'history: superseded_at is when the correction / retraction was recorded');
SELECT results_eq($$SELECT * FROM chronicle.history('tap_known_at', 's')$$,
  $$SELECT * FROM pg_temp.o_history('tap_known_at', 's')$$, 'oracle: history() of s');
SELECT results_eq($$SELECT * FROM chronicle.history('tap_known_at', 's6')$$,
  $$SELECT * FROM pg_temp.o_history('tap_known_at', 's6')$$, 'oracle: history() of s6');
SELECT results_eq($$SELECT * FROM chronicle.timeline('tap_known_at', 's', known_at => (SELECT t FROM tap_t WHERE name = 't4'))$$,
  $$VALUES ('2001-01-01'::timestamptz, '2001-02-01'::timestamptz, '{"promo": true}'::jsonb),
           ((SELECT t FROM tap_t WHERE name = 't1'), (SELECT t FROM tap_t WHERE name = 't2'), '{"status": "fresh", "qty": 1}'),
           ((SELECT t FROM tap_t WHERE name = 't2'), 'infinity', '{"status": "fresh", "qty": 2}')$$,
  'timeline known at t4');
SELECT results_eq($$SELECT * FROM chronicle.timeline('tap_known_at', 's', known_at => (SELECT t FROM tap_t WHERE name = 't5'))$$,
  $$VALUES ('2001-01-01'::timestamptz, '2001-02-01'::timestamptz, '{"promo": true}'::jsonb),
           ((SELECT t FROM tap_t WHERE name = 't1'), 'infinity', '{"status": "fresh", "qty": 1}')$$,
  'timeline known at t5: the retracted event no longer splits the period');
SELECT results_eq($$SELECT * FROM chronicle.timeline('tap_known_at', 's', known_at => (SELECT t FROM tap_t WHERE name = 't2'))$$,
  $$VALUES ((SELECT t FROM tap_t WHERE name = 't1'), (SELECT t FROM tap_t WHERE name = 't2'), '{"status": "new", "qty": 1}'::jsonb),
           ((SELECT t FROM tap_t WHERE name = 't2'), 'infinity', '{"status": "new", "qty": 2}')$$,
  'timeline known at t2');
SELECT is_empty($$SELECT * FROM chronicle.timeline('tap_known_at', 's', known_at => '-infinity')$$,
  'timeline known at -infinity: empty');
SELECT results_eq(
  $$SELECT k, tl.* FROM tap_horizons, LATERAL chronicle.timeline('tap_known_at', 's', known_at => k) AS tl ORDER BY k, tl.valid_from$$,
  $$SELECT k, o.* FROM tap_horizons, LATERAL pg_temp.o_timeline('tap_known_at', 's', k) AS o ORDER BY k, o.valid_from$$,
  'oracle: timeline() of s at every horizon');

SELECT * FROM finish();
DROP TABLE tap_known_at;
