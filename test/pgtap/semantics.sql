-- semantics.sql: the semantics of SPEC §1–§3 checked against an independent
-- oracle: plain SQL over the raw rows of the event table (visibility, replay
-- order, RFC 7396 merge patch, timelines, transaction-time ranges).
-- Everything here is one transaction, so every event is the reader's own and
-- shares one provisional recorded_at; known_at across transactions is
-- known_at.sql's business.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
BEGIN;
SELECT plan(99);

-------------------------------------------------------------------------------
-- The oracle (temporary functions, gone with the transaction)
-------------------------------------------------------------------------------
-- mp is RFC 7396 MergePatch(target, patch); a SQL NULL target is "no value
-- yet" and a SQL NULL patch (an erased payload) changes nothing.
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

-- o_events: the visible events of tbl (stream s, or all when NULL) as known
-- at t, valid at v (any when NULL), in replay order. Visible = recorded_at <=
-- t, not superseded by a row recorded_at <= t, not a '$' marker; replay order
-- = valid_from, then the position of the root of the correction chain.
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

-- o_state: the merge-patch fold of the visible events valid at v.
CREATE FUNCTION pg_temp.o_state(tbl regclass, s text, v timestamptz, t timestamptz DEFAULT 'infinity')
RETURNS jsonb LANGUAGE sql AS $f$
  SELECT pg_temp.mp_agg(o.payload ORDER BY o.replay) FROM pg_temp.o_events(tbl, s, t, v) AS o
$f$;

-- o_timeline: fold over every elementary valid-time interval delimited by the
-- visible events' bounds, drop intervals with no value, coalesce adjacent
-- equal neighbours.
CREATE FUNCTION pg_temp.o_timeline(tbl regclass, s text, t timestamptz DEFAULT 'infinity')
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

-- o_history: every row of the stream with superseded_at = the recorded_at
-- of the row that supersedes it (infinity when none).
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

-- as_role runs q as role r and returns the first column of its first row.
CREATE FUNCTION pg_temp.as_role(r text, q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  result text;
BEGIN
  EXECUTE pg_catalog.format('SET LOCAL ROLE %I', r);
  EXECUTE q INTO result;
  RESET ROLE;
  RETURN result;
END
$f$;

DO $$ BEGIN PERFORM chronicle.create_event_table('tap_sem'); PERFORM chronicle.create_event_table('tap_sem2'); END $$;

-- Bookkeeping: what each append / correct / retract returned, by name.
CREATE TEMP TABLE tap_ret (name text PRIMARY KEY, pos bigint NOT NULL, ver integer NOT NULL);
CREATE FUNCTION pg_temp.ev(name text, s text, typ text, payload jsonb,
                           vf timestamptz DEFAULT NULL, vt timestamptz DEFAULT 'infinity',
                           meta jsonb DEFAULT NULL) RETURNS void LANGUAGE sql AS $f$
  INSERT INTO tap_ret SELECT name, a.position, a.version
    FROM chronicle.append('tap_sem', s, typ, payload, valid_from => vf, valid_to => vt, meta => meta) AS a
$f$;
CREATE FUNCTION pg_temp.fix(name text, target text, payload jsonb, vf timestamptz DEFAULT NULL,
                            vt timestamptz DEFAULT NULL, typ text DEFAULT NULL) RETURNS void LANGUAGE sql AS $f$
  INSERT INTO tap_ret SELECT name, c.position, c.version
    FROM chronicle.correct('tap_sem', (SELECT r.pos FROM tap_ret AS r WHERE r.name = target), payload,
                           valid_from => vf, valid_to => vt, type => typ) AS c
$f$;
CREATE FUNCTION pg_temp.drop_(name text, target text, meta jsonb DEFAULT NULL) RETURNS void LANGUAGE sql AS $f$
  INSERT INTO tap_ret SELECT name, x.position, x.version
    FROM chronicle.retract('tap_sem', (SELECT r.pos FROM tap_ret AS r WHERE r.name = target), meta => meta) AS x
$f$;
CREATE FUNCTION pg_temp.p(name text) RETURNS bigint LANGUAGE sql AS $f$
  SELECT r.pos FROM tap_ret AS r WHERE r.name = p.name
$f$;


-------------------------------------------------------------------------------
-- versions, positions, recorded_at (SPEC §1, §2)
-------------------------------------------------------------------------------
DO $$
BEGIN
  PERFORM pg_temp.ev('v1', 'v', 'T', '{"n": 1}');
  PERFORM pg_temp.ev('w1', 'w', 'T', '{"n": 1}');
  PERFORM pg_temp.ev('v2', 'v', 'T', '{"n": 2}', meta => '{"by": "tap"}');
  PERFORM pg_temp.ev('v3', 'v', 'T', '{"n": 3}');
  PERFORM chronicle.append('tap_sem2', 'other', 'T', '{}');
END
$$;
SELECT results_eq($$SELECT ver FROM tap_ret WHERE name IN ('v1', 'v2', 'v3') ORDER BY name$$,
  $$VALUES (1), (2), (3)$$, 'versions of a stream are 1, 2, 3');
SELECT is((SELECT ver FROM tap_ret WHERE name = 'w1'), 1, 'another stream starts at version 1');
SELECT ok(pg_temp.p('v1') < pg_temp.p('w1') AND pg_temp.p('w1') < pg_temp.p('v2') AND pg_temp.p('v2') < pg_temp.p('v3'),
  'positions increase in the order of the appends, across streams');
SELECT results_eq($$SELECT position, version FROM tap_sem WHERE stream = 'v' ORDER BY position$$,
  $$SELECT pos, ver FROM tap_ret WHERE name IN ('v1', 'v2', 'v3') ORDER BY name$$,
  'append returns the position and version of the stored row');
SELECT results_eq($$SELECT valid_from = recorded_at, valid_to FROM tap_sem WHERE stream IN ('v', 'w') ORDER BY position$$,
  $$VALUES (true, 'infinity'::timestamptz), (true, 'infinity'), (true, 'infinity'), (true, 'infinity')$$,
  'valid time defaults to [recorded_at, infinity)');
SELECT ok((SELECT bool_and(recorded_at >= now() AND recorded_at <= clock_timestamp()) FROM tap_sem),
  'recorded_at lies between the transaction start and now');
SELECT is((SELECT meta FROM tap_sem WHERE position = pg_temp.p('v2')), '{"by": "tap"}'::jsonb, 'meta is stored');
SELECT is((SELECT count(*) FROM chronicle.events('tap_sem', 'v')), 3::bigint,
  'a transaction sees its own uncommitted events');

-------------------------------------------------------------------------------
-- the shopping cart of SPEC §8
-------------------------------------------------------------------------------
DO $$
BEGIN
  PERFORM pg_temp.ev('cart1', 'cart-1', 'ItemAdded', '{"trousers": 3}');
  PERFORM pg_temp.ev('cart2', 'cart-1', 'QuantityChanged', '{"trousers": 1}');
  PERFORM pg_temp.ev('cart3', 'cart-1', 'CheckedOut', '{"status": "paid"}');
END
$$;
SELECT is(chronicle.state('tap_sem', 'cart-1'), '{"trousers": 1, "status": "paid"}'::jsonb,
  'cart: state = {"trousers": 1, "status": "paid"}');
SELECT results_eq($$SELECT replay, position, type FROM chronicle.events('tap_sem', 'cart-1')$$,
  $$VALUES (1::bigint, pg_temp.p('cart1'), 'ItemAdded'), (2, pg_temp.p('cart2'), 'QuantityChanged'),
           (3, pg_temp.p('cart3'), 'CheckedOut')$$,
  'cart: events in replay order, numbered 1, 2, 3');
SELECT is((SELECT sum((payload ->> 'trousers')::int) FROM chronicle.events('tap_sem', 'cart-1')), 4::bigint,
  'cart: a domain reducer is an ordinary aggregate over events()');
SELECT is((SELECT string_agg(type, ',' ORDER BY replay) FROM chronicle.events('tap_sem', 'cart-1')),
  'ItemAdded,QuantityChanged,CheckedOut', 'cart: ORDER BY replay gives the replay order');

-------------------------------------------------------------------------------
-- JSON Merge Patch (RFC 7396)
-------------------------------------------------------------------------------
DO $$
BEGIN
  PERFORM pg_temp.ev('mp-null1', 'mp-null', 'T', '{"a": 1, "b": 2}');
  PERFORM pg_temp.ev('mp-null2', 'mp-null', 'T', '{"a": null}');
  PERFORM pg_temp.ev('mp-nested1', 'mp-nested', 'T', '{"c": {"x": 1, "y": 2}, "d": 1}');
  PERFORM pg_temp.ev('mp-nested2', 'mp-nested', 'T', '{"c": {"y": null, "z": 3}}');
  PERFORM pg_temp.ev('mp-first1', 'mp-first', 'T', '{"a": null, "b": {"c": null, "d": 1}}');
  PERFORM pg_temp.ev('mp-array1', 'mp-array', 'T', '{"l": [1, 2], "m": 1}');
  PERFORM pg_temp.ev('mp-array2', 'mp-array', 'T', '{"l": [3]}');
  PERFORM pg_temp.ev('mp-toarr1', 'mp-toarr', 'T', '{"a": 1}');
  PERFORM pg_temp.ev('mp-toarr2', 'mp-toarr', 'T', '[1, 2]');
  PERFORM pg_temp.ev('mp-toobj1', 'mp-toobj', 'T', '"text"');
  PERFORM pg_temp.ev('mp-toobj2', 'mp-toobj', 'T', '{"b": 1, "c": null}');
  PERFORM pg_temp.ev('mp-jnull1', 'mp-jnull', 'T', 'null');
  PERFORM pg_temp.ev('mp-replace1', 'mp-replace', 'T', '{"o": {"p": 1}}');
  PERFORM pg_temp.ev('mp-replace2', 'mp-replace', 'T', '{"o": 5}');
  PERFORM pg_temp.ev('mp-replace3', 'mp-replace', 'T', '{"o": {"q": null, "r": 2}}');
  PERFORM pg_temp.ev('mp-text1', 'mp-text', 'T',
    '{"s": "quote \" backslash \\ slash / tab \t nl \n e-acute \u00e9 smile \ud83d\ude00 ctrl \u0001",
      "n": [0, 1.5, -2, 1e300, -12345678901234567890.123456789, 1E-7], "t": true, "f": false,
      "e": {}, "a": [], "": "empty key", "ключ": "значение", "deep": [[[{"x": [null, {"y": null}]}]]]}');
END
$$;
SELECT is(chronicle.state('tap_sem', 'mp-null'), '{"b": 2}'::jsonb, 'merge patch: null removes a key');
SELECT is(chronicle.state('tap_sem', 'mp-nested'), '{"c": {"x": 1, "z": 3}, "d": 1}'::jsonb,
  'merge patch: nested objects merge, nested null removes');
SELECT is(chronicle.state('tap_sem', 'mp-first'), '{"b": {"d": 1}}'::jsonb,
  'merge patch: the first patch is applied to an empty object (its nulls vanish)');
SELECT is(chronicle.state('tap_sem', 'mp-array'), '{"l": [3], "m": 1}'::jsonb,
  'merge patch: arrays are replaced, not merged');
SELECT is(chronicle.state('tap_sem', 'mp-toarr'), '[1, 2]'::jsonb, 'merge patch: a non-object patch replaces the state');
SELECT is(chronicle.state('tap_sem', 'mp-toobj'), '{"b": 1}'::jsonb,
  'merge patch: an object patch over a non-object starts from {}');
SELECT is(chronicle.state('tap_sem', 'mp-jnull'), 'null'::jsonb, 'merge patch: a JSON null payload folds to JSON null');
SELECT is(chronicle.state('tap_sem', 'mp-replace'), '{"o": {"r": 2}}'::jsonb,
  'merge patch: an object patch over a scalar member starts from {}');
SELECT is(chronicle.state('tap_sem', 'mp-text'), (SELECT payload FROM tap_sem WHERE stream = 'mp-text'),
  'merge patch: strings, escapes, numbers and unicode survive the fold unchanged');
SELECT results_eq(
  $$SELECT s, chronicle.state('tap_sem', s) FROM (SELECT DISTINCT stream FROM tap_sem WHERE stream LIKE 'mp-%') AS x (s) ORDER BY s$$,
  $$SELECT s, pg_temp.o_state('tap_sem', s, clock_timestamp()) FROM (SELECT DISTINCT stream FROM tap_sem WHERE stream LIKE 'mp-%') AS x (s) ORDER BY s$$,
  'merge patch: state() equals the oracle''s fold for every mp- stream');

-------------------------------------------------------------------------------
-- corrections and retractions
-------------------------------------------------------------------------------
DO $$
BEGIN
  -- k: a correction stands in the place of the event it replaces
  PERFORM pg_temp.ev('k1', 'k', 'A', '{"v": 1}');
  PERFORM pg_temp.ev('k2', 'k', 'B', '{"v": 2}');
  PERFORM pg_temp.fix('k1c', 'k1', '{"v": 10}');
  -- kt: a correction may change the type
  PERFORM pg_temp.ev('kt1', 'kt', 'Typo', '{"v": 1}');
  PERFORM pg_temp.fix('kt1c', 'kt1', '{"v": 2}', typ => 'Fixed');
  -- kr: a correction with a new valid range moves in replay order
  PERFORM pg_temp.ev('kr1', 'kr', 'A', '{"x": 1}', vf => '2001-01-01');
  PERFORM pg_temp.ev('kr2', 'kr', 'B', '{"x": 2}', vf => '2001-01-10');
  PERFORM pg_temp.fix('kr1c', 'kr1', '{"x": 3}', vf => '2001-01-20', vt => '2001-03-01');
  -- kc: a chain of corrections
  PERFORM pg_temp.ev('kc1', 'kc', 'A', '{"n": 1}');
  PERFORM pg_temp.ev('kc2', 'kc', 'B', '{"n": 2}');
  PERFORM pg_temp.fix('kc1a', 'kc1', '{"n": 10}');
  PERFORM pg_temp.fix('kc1b', 'kc1a', '{"n": 100}');
  -- kx: a retraction removes the event and itself
  PERFORM pg_temp.ev('kx1', 'kx', 'A', '{"a": 1}');
  PERFORM pg_temp.ev('kx2', 'kx', 'B', '{"b": 1}');
  PERFORM pg_temp.drop_('kx1r', 'kx1', '{"why": "mistake"}');
  -- ky: retracting the head of a chain removes the whole chain
  PERFORM pg_temp.ev('ky1', 'ky', 'A', '{"a": 1}');
  PERFORM pg_temp.ev('ky2', 'ky', 'B', '{"b": 1}');
  PERFORM pg_temp.fix('ky1a', 'ky1', '{"a": 2}');
  PERFORM pg_temp.drop_('ky1r', 'ky1a');
END
$$;
SELECT results_eq($$SELECT position FROM chronicle.events('tap_sem', 'k') ORDER BY replay$$,
  $$VALUES (pg_temp.p('k1c')), (pg_temp.p('k2'))$$,
  'correction: it takes the replaced event''s place in replay order');
SELECT is(chronicle.state('tap_sem', 'k'), '{"v": 2}'::jsonb,
  'correction: a later event still wins over the corrected one');
SELECT results_eq(
  $$SELECT type, valid_from, valid_to, supersedes, stream FROM tap_sem WHERE position = pg_temp.p('k1c')$$,
  $$SELECT type, valid_from, valid_to, position, stream FROM tap_sem WHERE position = pg_temp.p('k1')$$,
  'correction: keeps the stream, type and valid range of the replaced event, and supersedes it');
SELECT results_eq($$SELECT type, payload FROM chronicle.events('tap_sem', 'kt')$$,
  $$VALUES ('Fixed', '{"v": 2}'::jsonb)$$, 'correction: type => changes the type');
SELECT results_eq($$SELECT position, valid_from, valid_to FROM chronicle.events('tap_sem', 'kr') ORDER BY replay$$,
  $$VALUES (pg_temp.p('kr2'), '2001-01-10'::timestamptz, 'infinity'::timestamptz),
           (pg_temp.p('kr1c'), '2001-01-20', '2001-03-01')$$,
  'correction with a new valid range: replayed by its new valid_from');
SELECT is(chronicle.state('tap_sem', 'kr', valid_at => '2001-01-05'), NULL::jsonb,
  'correction with a new valid range: the old range no longer holds it');
SELECT is(chronicle.state('tap_sem', 'kr', valid_at => '2001-01-25'), '{"x": 3}'::jsonb,
  'correction with a new valid range: the new range does');
SELECT is(chronicle.state('tap_sem', 'kr', valid_at => '2001-03-01'), '{"x": 2}'::jsonb,
  'correction with a new valid range: bounded by its new valid_to');
SELECT results_eq($$SELECT position, payload FROM chronicle.events('tap_sem', 'kc') ORDER BY replay$$,
  $$VALUES (pg_temp.p('kc1b'), '{"n": 100}'::jsonb), (pg_temp.p('kc2'), '{"n": 2}')$$,
  'chain of corrections: only the last is visible, in the place of the original');
SELECT is(chronicle.state('tap_sem', 'kc'), '{"n": 2}'::jsonb, 'chain of corrections: state');
SELECT results_eq($$SELECT position FROM chronicle.events('tap_sem', 'kx')$$,
  $$VALUES (pg_temp.p('kx2'))$$, 'retraction: the retracted event and the retraction are both absent');
SELECT is(chronicle.state('tap_sem', 'kx'), '{"b": 1}'::jsonb, 'retraction: state without the retracted event');
SELECT results_eq($$SELECT type, payload, meta, supersedes FROM tap_sem WHERE position = pg_temp.p('kx1r')$$,
  $$VALUES ('$retract', NULL::jsonb, '{"why": "mistake"}'::jsonb, pg_temp.p('kx1'))$$,
  'retraction: a $retract row with its meta and no payload');
SELECT results_eq($$SELECT position FROM chronicle.events('tap_sem', 'ky')$$,
  $$VALUES (pg_temp.p('ky2'))$$, 'retracting a correction removes the whole chain');
SELECT results_eq($$SELECT ver FROM tap_ret WHERE name IN ('ky1', 'ky2', 'ky1a', 'ky1r') ORDER BY pos$$,
  $$VALUES (1), (2), (3), (4)$$, 'corrections and retractions take the next versions');

-------------------------------------------------------------------------------
-- valid time: backdated, bounded, post-dated events
-------------------------------------------------------------------------------
DO $$
BEGIN
  PERFORM pg_temp.ev('pr1', 'price', 'Set', '{"price": 10}', vf => '2000-01-01');
  PERFORM pg_temp.ev('pr2', 'price', 'Set', '{"price": 12}', vf => '2001-01-01', vt => '2001-02-01');
  PERFORM pg_temp.ev('pr3', 'price', 'Promo', '{"promo": true}', vf => '2001-01-15', vt => '2001-01-20');
  PERFORM pg_temp.ev('pr4', 'price', 'Set', '{"price": 15}', vf => '2099-01-01');
  -- late: appended first, valid later; early: appended second, backdated
  PERFORM pg_temp.ev('late', 'order', 'T', '{"x": "late"}', vf => '2001-01-10');
  PERFORM pg_temp.ev('early', 'order', 'T', '{"x": "early", "y": 1}', vf => '2000-12-01');
  -- far: unbounded and far-away valid times
  PERFORM pg_temp.ev('far1', 'far', 'T', '{"a": 1}', vf => '-infinity', vt => '2001-01-01');
  PERFORM pg_temp.ev('far2', 'far', 'T', '{"b": 1}', vf => '2001-01-01');
  PERFORM pg_temp.ev('far3', 'far', 'T', '{"c": 1}', vf => '0500-01-01', vt => '0600-01-01');
  PERFORM pg_temp.ev('far4', 'far', 'T', '{"d": 1}', vf => '4000-01-01 BC', vt => '3000-01-01 BC');
  PERFORM pg_temp.ev('far5', 'far', 'T', '{"e": 1}', vf => '12000-01-01', vt => '200000-01-01');
  -- tie: corrections moved onto the same valid_from replay by their roots
  PERFORM pg_temp.ev('tie1', 'tie', 'T', '{"x": 1}', vf => '2001-01-01');
  PERFORM pg_temp.ev('tie2', 'tie', 'T', '{"x": 2}', vf => '2001-01-05');
  PERFORM pg_temp.ev('tie3', 'tie', 'T', '{"x": 3}', vf => '2000-12-01');
  PERFORM pg_temp.fix('tie3c', 'tie3', '{"x": 30}', vf => '2001-01-01');
  PERFORM pg_temp.fix('tie2c', 'tie2', '{"x": 20}', vf => '2001-01-01');
  PERFORM pg_temp.fix('tie1c', 'tie1', '{"x": 10}');
END
$$;
SELECT is(chronicle.state('tap_sem', 'price', valid_at => '1999-06-01'), NULL::jsonb,
  'valid_at before every event: NULL');
SELECT is(chronicle.state('tap_sem', 'price', valid_at => '2000-06-01'), '{"price": 10}'::jsonb,
  'valid_at inside the backdated event only');
SELECT is(chronicle.state('tap_sem', 'price', valid_at => '2001-01-01'), '{"price": 12}'::jsonb,
  'valid_from is inclusive');
SELECT is(chronicle.state('tap_sem', 'price', valid_at => '2001-01-17'), '{"price": 12, "promo": true}'::jsonb,
  'overlapping bounded events fold together');
SELECT is(chronicle.state('tap_sem', 'price', valid_at => '2001-01-20'), '{"price": 12}'::jsonb,
  'valid_to is exclusive');
SELECT is(chronicle.state('tap_sem', 'price', valid_at => '2001-02-01'), '{"price": 10}'::jsonb,
  'after a bounded event ends, the earlier state shows again');
SELECT is(chronicle.state('tap_sem', 'price'), '{"price": 10}'::jsonb,
  'valid_at defaults to now: the post-dated event does not apply yet');
SELECT is(chronicle.state('tap_sem', 'price', valid_at => '2099-06-01'), '{"price": 15}'::jsonb,
  'post-dated event applies from its valid_from');
SELECT is(chronicle.state('tap_sem', 'price', valid_at => '-infinity'), NULL::jsonb, 'valid_at -infinity: NULL');
SELECT is(chronicle.state('tap_sem', 'price', valid_at => 'infinity'),
  pg_temp.o_state('tap_sem', 'price', 'infinity'), 'valid_at infinity: as the oracle says');
SELECT results_eq($$SELECT position FROM chronicle.events('tap_sem', 'price', valid_at => '2001-01-17') ORDER BY replay$$,
  $$VALUES (pg_temp.p('pr1')), (pg_temp.p('pr2')), (pg_temp.p('pr3'))$$,
  'events(valid_at) keeps only the events valid then');
SELECT results_eq($$SELECT replay FROM chronicle.events('tap_sem', 'price', valid_at => '2099-06-01')$$,
  $$VALUES (1::bigint), (2)$$, 'events(valid_at) numbers replay 1, 2 … among the kept events');
SELECT results_eq($$SELECT position FROM chronicle.events('tap_sem', 'order') ORDER BY replay$$,
  $$VALUES (pg_temp.p('early')), (pg_temp.p('late'))$$,
  'replay order is valid-time order, not recording order');
SELECT is(chronicle.state('tap_sem', 'order'), '{"x": "late", "y": 1}'::jsonb,
  'a backdated event is folded before a later-valid one recorded earlier');
SELECT results_eq($$SELECT position FROM chronicle.events('tap_sem', 'tie') ORDER BY replay$$,
  $$VALUES (pg_temp.p('tie1c')), (pg_temp.p('tie2c')), (pg_temp.p('tie3c'))$$,
  'equal valid_from: corrections replay in the order of the events they replace');
SELECT is(chronicle.state('tap_sem', 'tie'), '{"x": 30}'::jsonb, 'equal valid_from: the last root wins');
SELECT results_eq($$SELECT * FROM chronicle.timeline('tap_sem', 'far')$$,
  $$VALUES ('-infinity'::timestamptz, '4000-01-01 BC'::timestamptz, '{"a": 1}'::jsonb),
           ('4000-01-01 BC', '3000-01-01 BC', '{"a": 1, "d": 1}'),
           ('3000-01-01 BC', '0500-01-01', '{"a": 1}'),
           ('0500-01-01', '0600-01-01', '{"a": 1, "c": 1}'),
           ('0600-01-01', '2001-01-01', '{"a": 1}'),
           ('2001-01-01', '12000-01-01', '{"b": 1}'),
           ('12000-01-01', '200000-01-01', '{"b": 1, "e": 1}'),
           ('200000-01-01', 'infinity', '{"b": 1}')$$,
  'timeline from -infinity to infinity, through BC and five-digit years');
SELECT is(chronicle.state('tap_sem', 'far', valid_at => '-infinity'), '{"a": 1}'::jsonb,
  'valid_at -infinity: an event valid from -infinity applies');
SELECT results_eq($$SELECT * FROM chronicle.timeline('tap_sem', 'price')$$,
  $$VALUES ('2000-01-01'::timestamptz, '2001-01-01'::timestamptz, '{"price": 10}'::jsonb),
           ('2001-01-01', '2001-01-15', '{"price": 12}'),
           ('2001-01-15', '2001-01-20', '{"price": 12, "promo": true}'),
           ('2001-01-20', '2001-02-01', '{"price": 12}'),
           ('2001-02-01', '2099-01-01', '{"price": 10}'),
           ('2099-01-01', 'infinity', '{"price": 15}')$$,
  'timeline of the price stream');

-------------------------------------------------------------------------------
-- timeline coalescing
-------------------------------------------------------------------------------
DO $$
BEGIN
  PERFORM pg_temp.ev('tl1', 'tl', 'T', '{"s": "a"}', vf => '2001-01-01', vt => '2001-02-01');
  PERFORM pg_temp.ev('tl2', 'tl', 'T', '{"s": "a"}', vf => '2001-02-01', vt => '2001-03-01');
  PERFORM pg_temp.ev('tl3', 'tl', 'T', '{"s": "b"}', vf => '2001-04-01', vt => '2001-05-01');
  -- tm: equal values reached by different events coalesce too
  PERFORM pg_temp.ev('tm1', 'tm', 'T', '{"s": "a"}', vf => '2001-01-01', vt => '2001-03-01');
  PERFORM pg_temp.ev('tm2', 'tm', 'T', '{"t": 1}', vf => '2001-02-01', vt => '2001-02-15');
  PERFORM pg_temp.ev('tm3', 'tm', 'T', '{"s": "a"}', vf => '2001-02-15', vt => '2001-04-01');
END
$$;
SELECT results_eq($$SELECT * FROM chronicle.timeline('tap_sem', 'tl')$$,
  $$VALUES ('2001-01-01'::timestamptz, '2001-03-01'::timestamptz, '{"s": "a"}'::jsonb),
           ('2001-04-01', '2001-05-01', '{"s": "b"}')$$,
  'timeline: adjacent equal periods coalesce; a gap gives no row');
SELECT results_eq($$SELECT * FROM chronicle.timeline('tap_sem', 'tm')$$,
  $$VALUES ('2001-01-01'::timestamptz, '2001-02-01'::timestamptz, '{"s": "a"}'::jsonb),
           ('2001-02-01', '2001-02-15', '{"s": "a", "t": 1}'),
           ('2001-02-15', '2001-04-01', '{"s": "a"}')$$,
  'timeline: overlaps split periods; equal neighbours coalesce across event bounds');
SELECT is_empty($$SELECT * FROM chronicle.timeline('tap_sem', 'no-such-stream')$$,
  'timeline of an unknown stream is empty');
SELECT is(chronicle.state('tap_sem', 'no-such-stream'), NULL::jsonb, 'state of an unknown stream is NULL');

-------------------------------------------------------------------------------
-- history
-------------------------------------------------------------------------------
SELECT is((SELECT superseded_at FROM chronicle.history('tap_sem', 'kc') WHERE position = pg_temp.p('kc1')),
  (SELECT recorded_at FROM tap_sem WHERE position = pg_temp.p('kc1a')),
  'history: superseded_at is the recorded_at of the superseding row');
SELECT results_eq(
  $$SELECT position, superseded_at = 'infinity' FROM chronicle.history('tap_sem', 'kc') ORDER BY position$$,
  $$VALUES (pg_temp.p('kc1'), false), (pg_temp.p('kc2'), true), (pg_temp.p('kc1a'), false), (pg_temp.p('kc1b'), true)$$,
  'history: every event of the stream; only superseded ones have a finite superseded_at');
SELECT results_eq($$SELECT position, type, supersedes FROM chronicle.history('tap_sem', 'kx') ORDER BY position$$,
  $$VALUES (pg_temp.p('kx1'), 'A', NULL::bigint), (pg_temp.p('kx2'), 'B', NULL), (pg_temp.p('kx1r'), '$retract', pg_temp.p('kx1'))$$,
  'history: retractions are listed');

-------------------------------------------------------------------------------
-- plain INSERT and INSERT ... SELECT (what COPY does, row by row)
-------------------------------------------------------------------------------
INSERT INTO tap_sem (stream, type, payload)
  SELECT 'bulk-' || (i % 3), 'Bulk', jsonb_build_object('i', i) FROM generate_series(1, 30) AS i;
INSERT INTO tap_sem (stream, type, payload, valid_from, valid_to, meta)
  VALUES ('ins', 'T', '{"a": 1}', '2001-01-01', '2001-02-01', '{"by": "insert"}'),
         ('ins', 'T', '{"b": 1}', NULL, NULL, NULL);
SELECT results_eq(
  $$SELECT stream, count(*), min(version), max(version), count(DISTINCT version) FROM tap_sem WHERE stream LIKE 'bulk-%' GROUP BY stream ORDER BY stream$$,
  $$VALUES ('bulk-0', 10::bigint, 1, 10, 10::bigint), ('bulk-1', 10, 1, 10, 10), ('bulk-2', 10, 1, 10, 10)$$,
  'INSERT ... SELECT: versions 1..10 in each stream');
SELECT is((SELECT count(*) FROM (SELECT version, row_number() OVER (PARTITION BY stream ORDER BY position) AS rn
                                   FROM tap_sem WHERE stream LIKE 'bulk-%') AS x WHERE version <> rn), 0::bigint,
  'INSERT ... SELECT: versions follow positions within each stream');
SELECT is((SELECT array_agg((payload ->> 'i')::int ORDER BY position) FROM tap_sem WHERE stream LIKE 'bulk-%'),
  (SELECT array_agg(i) FROM generate_series(1, 30) AS i),
  'INSERT ... SELECT: positions follow the order of the rows');
SELECT ok((SELECT min(position) FROM tap_sem WHERE stream LIKE 'bulk-%') > pg_temp.p('early'),
  'INSERT: positions continue after the appended ones');
SELECT results_eq(
  $$SELECT DISTINCT valid_from = recorded_at, valid_to FROM tap_sem WHERE stream LIKE 'bulk-%'$$,
  $$VALUES (true, 'infinity'::timestamptz)$$, 'INSERT: valid time defaults to [recorded_at, infinity)');
SELECT is(chronicle.state('tap_sem', 'bulk-1'), '{"i": 28}'::jsonb, 'INSERT: events are read like appended ones');
SELECT results_eq($$SELECT version, valid_from, valid_to, meta FROM tap_sem WHERE stream = 'ins' ORDER BY position$$,
  $$SELECT 1, '2001-01-01'::timestamptz, '2001-02-01'::timestamptz, '{"by": "insert"}'::jsonb
    UNION ALL SELECT 2, recorded_at, 'infinity', NULL FROM tap_sem WHERE stream = 'ins' AND version = 2$$,
  'INSERT: given valid range and meta are kept; explicit NULLs take the defaults');
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    COPY tap_sem (stream, type, payload) FROM PROGRAM 'printf ''bulk-0\tCopied\t{"c": 1}\nbulk-0\tCopied\t{"c": 2}\n''';
  END IF;
END
$$;
SELECT CASE WHEN (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
  THEN results_eq($$SELECT version, payload, valid_from = recorded_at FROM tap_sem WHERE type = 'Copied' ORDER BY position$$,
                  $$VALUES (11, '{"c": 1}'::jsonb, true), (12, '{"c": 2}', true)$$,
                  'COPY: rows are stamped like inserted ones')
  ELSE skip('COPY FROM PROGRAM needs a superuser', 1) END;

-------------------------------------------------------------------------------
-- one transaction, one recorded_at (SPEC §1.1), across tables
-------------------------------------------------------------------------------
SELECT is((SELECT count(DISTINCT recorded_at) FROM (SELECT recorded_at FROM tap_sem UNION ALL SELECT recorded_at FROM tap_sem2) AS x),
  1::bigint, 'every event of the transaction, in both tables, shares one recorded_at');

-------------------------------------------------------------------------------
-- known_at inside the transaction
-------------------------------------------------------------------------------
SELECT results_eq($$SELECT * FROM chronicle.events('tap_sem', known_at => 'infinity')$$,
  $$SELECT * FROM chronicle.events('tap_sem')$$, 'known_at infinity is now');
SELECT is_empty($$SELECT * FROM chronicle.events('tap_sem', known_at => '-infinity')$$,
  'known_at -infinity: no event');
SELECT is(chronicle.state('tap_sem', 'cart-1', known_at => '-infinity'), NULL::jsonb, 'known_at -infinity: state NULL');
SELECT is_empty($$SELECT * FROM chronicle.timeline('tap_sem', 'tl', known_at => '-infinity')$$,
  'known_at -infinity: empty timeline');

-------------------------------------------------------------------------------
-- everything against the oracle
-------------------------------------------------------------------------------
CREATE TEMP TABLE tap_streams AS SELECT DISTINCT stream AS s FROM tap_sem;
CREATE TEMP TABLE tap_valid_ats (v) AS
  VALUES ('-infinity'::timestamptz), ('1999-06-01'), ('2000-06-01'), ('2000-12-01'), ('2001-01-01'),
         ('2001-01-05'), ('2001-01-10'), ('2001-01-15'), ('2001-01-17'), ('2001-01-20'), ('2001-01-25'),
         ('2001-02-01'), ('2001-02-10'), ('2001-02-15'), ('2001-03-01'), ('2001-04-15'), ('2099-06-01'), ('infinity'),
         ('3500-01-01 BC'), ('0550-01-01'), ('15000-01-01'), ('290000-01-01');
SELECT results_eq($$SELECT * FROM chronicle.events('tap_sem')$$,
  $$SELECT * FROM pg_temp.o_events('tap_sem', NULL, 'infinity', NULL)$$,
  'oracle: events() of all streams, in replay order');
SELECT results_eq(
  $$SELECT s, e.* FROM tap_streams, LATERAL chronicle.events('tap_sem', s) AS e ORDER BY s, e.replay$$,
  $$SELECT s, o.* FROM tap_streams, LATERAL pg_temp.o_events('tap_sem', s, 'infinity', NULL) AS o ORDER BY s, o.replay$$,
  'oracle: events() of each stream');
SELECT results_eq(
  $$SELECT v, e.* FROM tap_valid_ats, LATERAL chronicle.events('tap_sem', valid_at => v) AS e ORDER BY v, e.replay$$,
  $$SELECT v, o.* FROM tap_valid_ats, LATERAL pg_temp.o_events('tap_sem', NULL, 'infinity', v) AS o ORDER BY v, o.replay$$,
  'oracle: events(valid_at) at many valid times');
SELECT results_eq(
  $$SELECT s, v, chronicle.state('tap_sem', s, valid_at => v) FROM tap_streams, tap_valid_ats ORDER BY s, v$$,
  $$SELECT s, v, pg_temp.o_state('tap_sem', s, v) FROM tap_streams, tap_valid_ats ORDER BY s, v$$,
  'oracle: state() of each stream at many valid times');
SELECT results_eq(
  $$SELECT s, t.* FROM tap_streams, LATERAL chronicle.timeline('tap_sem', s) AS t ORDER BY s, t.valid_from$$,
  $$SELECT s, o.* FROM tap_streams, LATERAL pg_temp.o_timeline('tap_sem', s) AS o ORDER BY s, o.valid_from$$,
  'oracle: timeline() of each stream');
SELECT results_eq(
  $$SELECT s, h.* FROM tap_streams, LATERAL chronicle.history('tap_sem', s) AS h ORDER BY s, h.position$$,
  $$SELECT s, o.* FROM tap_streams, LATERAL pg_temp.o_history('tap_sem', s) AS o ORDER BY s, o.position$$,
  'oracle: history() of each stream');

-------------------------------------------------------------------------------
-- erasure (GDPR)
-------------------------------------------------------------------------------
CREATE ROLE tap_sem_admin NOLOGIN;
GRANT chronicle_admin TO tap_sem_admin;
DO $$
BEGIN
  PERFORM pg_temp.ev('g1', 'gdpr', 'Named', '{"name": "Ann"}', meta => '{"by": "form"}');
  PERFORM pg_temp.ev('g2', 'gdpr', 'Mailed', '{"email": "ann@example.org"}');
  PERFORM pg_temp.ev('g3', 'gdpr', 'Renamed', '{"name": "Anne"}', vf => '2001-01-01', vt => '2001-06-01');
  PERFORM pg_temp.fix('g1c', 'g1', '{"name": "Ann B."}');
  PERFORM pg_temp.drop_('g2r', 'g2');
END
$$;
CREATE TEMP TABLE tap_before AS
  SELECT position, stream, version, type, meta, valid_from, valid_to, recorded_at, supersedes FROM tap_sem WHERE stream = 'gdpr';
CREATE TEMP TABLE tap_events_before AS
  SELECT replay, position, type, valid_from, valid_to FROM chronicle.events('tap_sem', 'gdpr');
CREATE TEMP TABLE tap_others_before AS
  SELECT position, payload FROM tap_sem WHERE stream <> 'gdpr';
SELECT is(chronicle.state('tap_sem', 'gdpr', valid_at => '2001-03-01'), '{"name": "Anne"}'::jsonb,
  'erase: the stream has a state before');
SELECT is(pg_temp.as_role('tap_sem_admin', $$SELECT chronicle.erase('tap_sem', 'gdpr')$$), '4',
  'erase by a member of chronicle_admin returns the number of payloads erased');
SELECT is((SELECT count(*) FROM tap_sem WHERE stream = 'gdpr' AND payload IS NOT NULL), 0::bigint,
  'erase: every payload of the stream is gone');
SELECT results_eq(
  $$SELECT position, stream, version, type, meta, valid_from, valid_to, recorded_at, supersedes FROM tap_sem WHERE stream = 'gdpr' AND type <> '$erase' ORDER BY position$$,
  $$SELECT * FROM tap_before ORDER BY position$$,
  'erase: positions, versions, types, meta, times and supersedes stay');
SELECT results_eq($$SELECT version, meta FROM tap_sem WHERE stream = 'gdpr' AND type = '$erase'$$,
  $$VALUES (6, '{"erased_events": 4, "erased_by": "tap_sem_admin"}'::jsonb)$$,
  'erase: the erasure itself is recorded as a $erase event of the stream');
SELECT results_eq($$SELECT position, payload FROM tap_sem WHERE stream <> 'gdpr' ORDER BY position$$,
  $$SELECT position, payload FROM tap_others_before ORDER BY position$$,
  'erase: other streams are untouched');
SELECT is(chronicle.state('tap_sem', 'gdpr'), NULL::jsonb, 'erase: state() is NULL now');
SELECT is(chronicle.state('tap_sem', 'gdpr', valid_at => '2001-03-01'), NULL::jsonb,
  'erase: state() is NULL at any valid time');
SELECT is_empty($$SELECT * FROM chronicle.timeline('tap_sem', 'gdpr')$$, 'erase: the timeline is empty');
SELECT results_eq($$SELECT replay, position, type, valid_from, valid_to, payload FROM chronicle.events('tap_sem', 'gdpr')$$,
  $$SELECT replay, position, type, valid_from, valid_to, NULL::jsonb FROM tap_events_before ORDER BY replay$$,
  'erase: events() lists the same events as tombstones, without payloads');
SELECT results_eq($$SELECT type FROM chronicle.history('tap_sem', 'gdpr') ORDER BY position DESC LIMIT 1$$,
  $$VALUES ('$erase')$$, 'erase: history() shows the erasure');
SELECT is(pg_temp.as_role('tap_sem_admin', $$SELECT chronicle.erase('tap_sem', 'gdpr')$$), '0',
  'erase of an already erased stream erases nothing');
SELECT results_eq($$SELECT version, meta FROM tap_sem WHERE stream = 'gdpr' AND type = '$erase' ORDER BY position$$,
  $$VALUES (6, '{"erased_events": 4, "erased_by": "tap_sem_admin"}'::jsonb), (7, '{"erased_events": 0, "erased_by": "tap_sem_admin"}')$$,
  'erase: a second erasure is recorded too');
DO $$ BEGIN PERFORM pg_temp.ev('g7', 'gdpr', 'Named', '{"name": "Z"}'); END $$;
INSERT INTO tap_streams VALUES ('gdpr');
SELECT is((SELECT ver FROM tap_ret WHERE name = 'g7'), 8, 'erase: the stream goes on after the erasure');
SELECT is(chronicle.state('tap_sem', 'gdpr'), '{"name": "Z"}'::jsonb, 'erase: new events fold as usual');
SELECT results_eq(
  $$SELECT s, v, chronicle.state('tap_sem', s, valid_at => v) FROM tap_streams, tap_valid_ats WHERE s IN ('gdpr', 'cart-1', 'k') ORDER BY s, v$$,
  $$SELECT s, v, pg_temp.o_state('tap_sem', s, v) FROM tap_streams, tap_valid_ats WHERE s IN ('gdpr', 'cart-1', 'k') ORDER BY s, v$$,
  'oracle: state() after the erasure');
SELECT results_eq($$SELECT * FROM chronicle.events('tap_sem')$$,
  $$SELECT * FROM pg_temp.o_events('tap_sem', NULL, 'infinity', NULL)$$,
  'oracle: events() of all streams after the erasure');

SELECT * FROM finish();
ROLLBACK;
