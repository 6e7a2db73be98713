-- chronicle 0.1: bitemporal event tables (SPEC §1–§3).
\echo Use "CREATE EXTENSION chronicle" to load this file. \quit

-- The role that may erase payloads (GDPR). Roles are cluster-wide, so a
-- second database's CREATE EXTENSION finds it already there.
DO $do$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'chronicle_admin') THEN
    CREATE ROLE chronicle_admin NOLOGIN;
  END IF;
END
$do$;

-- The transaction-time clock: the last stamp handed out (or promised to a
-- reader), in microseconds since 2000-01-01 UTC. Only chronicle's C code moves
-- it, under the commit lock (doc/design.md).
CREATE SEQUENCE chronicle.clock AS bigint
  MINVALUE -9223372036854775808 MAXVALUE 9223372036854775807 START 0 NO CYCLE;
SELECT pg_catalog.setval('chronicle.clock', 0, true);
SELECT pg_catalog.pg_extension_config_dump('chronicle.clock', '');
REVOKE ALL ON SEQUENCE chronicle.clock FROM PUBLIC;

GRANT USAGE ON SCHEMA chronicle TO PUBLIC;

-- Trigger functions of every event table.
CREATE FUNCTION chronicle.event_stamp() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'chronicle_event_stamp';
COMMENT ON FUNCTION chronicle.event_stamp() IS
  'BEFORE INSERT row trigger of event tables: fills position, version, recorded_at and the valid-time default';

CREATE FUNCTION chronicle.event_immutable() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'chronicle_event_immutable';
COMMENT ON FUNCTION chronicle.event_immutable() IS
  'BEFORE UPDATE/DELETE/TRUNCATE statement trigger of event tables: refuses the change';

-- Internal helpers of the commit-time restamp (doc/design.md).
CREATE FUNCTION chronicle._restamp_is_own(bigint) RETURNS boolean
  LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'chronicle_restamp_is_own';
CREATE FUNCTION chronicle._restamp_map(bigint) RETURNS bigint
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_restamp_map';

-- create_event_table creates an event table named tbl (optionally
-- schema-qualified) and returns it. It runs with the caller's search_path
-- (an unqualified name goes to the first schema on it), so every operator
-- and function below is schema-qualified.
CREATE FUNCTION chronicle.create_event_table(tbl text) RETURNS regclass
  LANGUAGE plpgsql VOLATILE STRICT
AS $fn$
DECLARE
  parts text[];
  nsp text;
  rel text;
  qualified text;
  seq text;
  n integer := 0;
BEGIN
  IF pg_catalog.length(tbl) OPERATOR(pg_catalog.=) 0 THEN
    RAISE EXCEPTION 'event table name must not be empty' USING ERRCODE = '22023';
  END IF;
  parts := pg_catalog.parse_ident(tbl);
  IF pg_catalog.array_length(parts, 1) OPERATOR(pg_catalog.=) 1 THEN
    nsp := (pg_catalog.current_schemas(false))[1];
    IF nsp IS NULL THEN
      RAISE EXCEPTION 'no schema has been selected to create the event table in'
        USING ERRCODE = '3F000', HINT = 'Qualify the name with a schema.';
    END IF;
    rel := parts[1];
  ELSIF pg_catalog.array_length(parts, 1) OPERATOR(pg_catalog.=) 2 THEN
    nsp := parts[1];
    rel := parts[2];
  ELSE
    RAISE EXCEPTION 'improper event table name "%"', tbl
      USING ERRCODE = '42602', HINT = 'Use table or schema.table.';
  END IF;
  qualified := pg_catalog.format('%I.%I', nsp, rel);

  -- Constraint and index names are PostgreSQL's choice: they stay unique
  -- however long the table name is.
  EXECUTE pg_catalog.format($ddl$
    CREATE TABLE %s (
      position    bigint      NOT NULL PRIMARY KEY,
      stream      text        NOT NULL,
      version     integer     NOT NULL,
      type        text        NOT NULL,
      payload     jsonb,
      meta        jsonb,
      valid_from  timestamptz NOT NULL,
      valid_to    timestamptz NOT NULL DEFAULT 'infinity',
      recorded_at timestamptz NOT NULL,
      supersedes  bigint,
      UNIQUE (stream, version),
      CHECK (valid_from OPERATOR(pg_catalog.<) valid_to)
    )$ddl$, qualified);
  EXECUTE pg_catalog.format(
    'CREATE UNIQUE INDEX ON %s (supersedes) WHERE supersedes IS NOT NULL', qualified);
  seq := pg_catalog.concat(pg_catalog.left(rel, 40), '_position_seq');
  WHILE pg_catalog.to_regclass(pg_catalog.format('%I.%I', nsp, seq)) IS NOT NULL LOOP
    n := n OPERATOR(pg_catalog.+) 1;
    seq := pg_catalog.concat(pg_catalog.left(rel, 40), '_position_seq', n);
  END LOOP;
  EXECUTE pg_catalog.format('CREATE SEQUENCE %I.%I AS bigint OWNED BY %s.position',
    nsp, seq, qualified);
  -- The highest position stamped at commit so far (doc/design.md); owned
  -- by recorded_at so that chronicle tells it from the position sequence.
  seq := pg_catalog.concat(pg_catalog.left(rel, 40), '_stamped_seq');
  n := 0;
  WHILE pg_catalog.to_regclass(pg_catalog.format('%I.%I', nsp, seq)) IS NOT NULL LOOP
    n := n OPERATOR(pg_catalog.+) 1;
    seq := pg_catalog.concat(pg_catalog.left(rel, 40), '_stamped_seq', n);
  END LOOP;
  EXECUTE pg_catalog.format('CREATE SEQUENCE %I.%I AS bigint MINVALUE 0 START 0 OWNED BY %s.recorded_at',
    nsp, seq, qualified);
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER zz_chronicle_stamp BEFORE INSERT ON %s
       FOR EACH ROW EXECUTE FUNCTION chronicle.event_stamp()', qualified);
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER chronicle_immutable BEFORE UPDATE OR DELETE ON %s
       FOR EACH STATEMENT EXECUTE FUNCTION chronicle.event_immutable()', qualified);
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER chronicle_immutable_truncate BEFORE TRUNCATE ON %s
       FOR EACH STATEMENT EXECUTE FUNCTION chronicle.event_immutable()', qualified);
  EXECUTE pg_catalog.format('COMMENT ON TABLE %s IS %L', qualified,
    'chronicle event table: append-only, bitemporal');
  RETURN qualified::regclass;
END
$fn$;
COMMENT ON FUNCTION chronicle.create_event_table(text) IS
  'Creates an append-only bitemporal event table';

-- append records one event and returns its position and version.
CREATE FUNCTION chronicle.append(
    tbl regclass, stream text, type text, payload jsonb,
    valid_from timestamptz DEFAULT NULL, valid_to timestamptz DEFAULT 'infinity',
    meta jsonb DEFAULT NULL, expected_version integer DEFAULT NULL,
    OUT "position" bigint, OUT version integer)
  RETURNS record LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_append';
COMMENT ON FUNCTION chronicle.append(regclass, text, text, jsonb, timestamptz, timestamptz, jsonb, integer) IS
  'Appends an event to a stream; optimistic concurrency with expected_version';

-- correct appends an event that supersedes the one at position.
CREATE FUNCTION chronicle.correct(
    tbl regclass, "position" bigint, payload jsonb,
    valid_from timestamptz DEFAULT NULL, valid_to timestamptz DEFAULT NULL,
    meta jsonb DEFAULT NULL, type text DEFAULT NULL,
    OUT "position" bigint, OUT version integer)
  RETURNS record LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_correct';
COMMENT ON FUNCTION chronicle.correct(regclass, bigint, jsonb, timestamptz, timestamptz, jsonb, text) IS
  'Supersedes an event with a corrected one (same stream, type and valid range unless given)';

-- retract supersedes the event at position with nothing.
CREATE FUNCTION chronicle.retract(
    tbl regclass, "position" bigint, meta jsonb DEFAULT NULL,
    OUT "position" bigint, OUT version integer)
  RETURNS record LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_retract';
COMMENT ON FUNCTION chronicle.retract(regclass, bigint, jsonb) IS
  'Retracts an event: it and the retraction disappear from events() and state()';

-- events returns the visible events in replay order.
CREATE FUNCTION chronicle.events(
    tbl regclass, stream text DEFAULT NULL,
    known_at timestamptz DEFAULT NULL, valid_at timestamptz DEFAULT NULL)
  RETURNS TABLE (replay bigint, "position" bigint, stream text, version integer,
                 type text, payload jsonb, meta jsonb, valid_from timestamptz,
                 valid_to timestamptz, recorded_at timestamptz, supersedes bigint)
  LANGUAGE c VOLATILE ROWS 100 AS 'MODULE_PATHNAME', 'chronicle_events';
COMMENT ON FUNCTION chronicle.events(regclass, text, timestamptz, timestamptz) IS
  'The events visible as known at known_at (default now), in replay order';

-- state folds a stream's events valid at valid_at by JSON Merge Patch.
CREATE FUNCTION chronicle.state(
    tbl regclass, stream text,
    valid_at timestamptz DEFAULT NULL, known_at timestamptz DEFAULT NULL)
  RETURNS jsonb LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_state';
COMMENT ON FUNCTION chronicle.state(regclass, text, timestamptz, timestamptz) IS
  'The JSON Merge Patch fold of a stream as valid at valid_at, known at known_at';

-- history returns every event of a stream with its bitemporal rectangle.
CREATE FUNCTION chronicle.history(tbl regclass, stream text)
  RETURNS TABLE ("position" bigint, version integer, type text, payload jsonb, meta jsonb,
                 valid_from timestamptz, valid_to timestamptz,
                 recorded_at timestamptz, superseded_at timestamptz, supersedes bigint)
  LANGUAGE c VOLATILE ROWS 100 AS 'MODULE_PATHNAME', 'chronicle_history';
COMMENT ON FUNCTION chronicle.history(regclass, text) IS
  'Every event of a stream with its transaction-time range [recorded_at, superseded_at) and valid range';

-- timeline returns the stream's state as coalesced valid-time periods.
CREATE FUNCTION chronicle.timeline(tbl regclass, stream text, known_at timestamptz DEFAULT NULL)
  RETURNS TABLE (valid_from timestamptz, valid_to timestamptz, state jsonb)
  LANGUAGE c VOLATILE ROWS 10 AS 'MODULE_PATHNAME', 'chronicle_timeline';
COMMENT ON FUNCTION chronicle.timeline(regclass, text, timestamptz) IS
  'The state of a stream over valid time, as known at known_at, adjacent equal periods coalesced';

-- erase removes the payloads of a stream's events, leaving tombstones.
CREATE FUNCTION chronicle.erase(tbl regclass, stream text)
  RETURNS bigint LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_erase';
COMMENT ON FUNCTION chronicle.erase(regclass, text) IS
  'GDPR erasure: nulls the payload of every event of a stream and records a $erase marker (chronicle_admin only)';
REVOKE ALL ON FUNCTION chronicle.erase(regclass, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chronicle.erase(regclass, text) TO chronicle_admin;

-- CDC: tracked tables (SPEC §5).
CREATE FUNCTION chronicle.capture() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'chronicle_capture';
COMMENT ON FUNCTION chronicle.capture() IS
  'AFTER row and BEFORE TRUNCATE trigger of tracked tables: records each change as an event';
CREATE FUNCTION chronicle.capture_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'chronicle_capture_guard';
COMMENT ON FUNCTION chronicle.capture_guard() IS
  'BEFORE row trigger of tracked tables: records changes not valid now and keeps the row as it is';

-- track turns an existing table into an event stream and returns its event table.
CREATE FUNCTION chronicle.track(tbl regclass) RETURNS regclass
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_track';
COMMENT ON FUNCTION chronicle.track(regclass) IS
  'Captures every change of a table with a primary key into <table>_events; existing rows become snapshot events';

-- untrack stops capture and keeps the history.
CREATE FUNCTION chronicle.untrack(tbl regclass) RETURNS regclass
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_untrack';
COMMENT ON FUNCTION chronicle.untrack(regclass) IS
  'Stops capturing a tracked table; its event table and history stay';

-- as_of returns a tracked table as it was: valid at valid_at, known at known_at.
CREATE FUNCTION chronicle.as_of(tbl anyelement, known_at timestamptz DEFAULT NULL,
                                valid_at timestamptz DEFAULT NULL)
  RETURNS SETOF anyelement LANGUAGE c VOLATILE ROWS 1000 AS 'MODULE_PATHNAME', 'chronicle_as_of';
COMMENT ON FUNCTION chronicle.as_of(anyelement, timestamptz, timestamptz) IS
  'A tracked table as valid at valid_at, as known at known_at (default: now), typed, with its current columns';

-- as_of with a key: one row of a tracked table as it was (zero or one row),
-- folded from its own stream only.
CREATE FUNCTION chronicle.as_of(tbl anyelement, known_at timestamptz, valid_at timestamptz,
                                VARIADIC key "any")
  RETURNS SETOF anyelement LANGUAGE c VOLATILE ROWS 1 AS 'MODULE_PATHNAME', 'chronicle_as_of';
COMMENT ON FUNCTION chronicle.as_of(anyelement, timestamptz, timestamptz, "any") IS
  'One row of a tracked table (by primary key) as valid at valid_at, as known at known_at (NULL: now)';

-- diff returns the rows added, removed and changed between two transaction times.
CREATE FUNCTION chronicle.diff(tbl anyelement, from_known timestamptz, to_known timestamptz DEFAULT NULL,
                               valid_at timestamptz DEFAULT NULL,
                               OUT change text, OUT key text, OUT before anyelement, OUT after anyelement)
  RETURNS SETOF record LANGUAGE c VOLATILE ROWS 100 AS 'MODULE_PATHNAME', 'chronicle_diff';
COMMENT ON FUNCTION chronicle.diff(anyelement, timestamptz, timestamptz, timestamptz) IS
  'Rows of a tracked table added, removed and changed (before and after) between two transaction times';

-- history of one row of a tracked table: every captured change with its ranges.
CREATE FUNCTION chronicle.history(tbl anyelement, VARIADIC key "any",
                                  OUT "position" bigint, OUT type text, OUT "row" anyelement,
                                  OUT assigned text[], OUT valid_from timestamptz, OUT valid_to timestamptz,
                                  OUT recorded_at timestamptz, OUT superseded_at timestamptz, OUT meta jsonb)
  RETURNS SETOF record LANGUAGE c VOLATILE ROWS 20 AS 'MODULE_PATHNAME', 'chronicle_row_history';
COMMENT ON FUNCTION chronicle.history(anyelement, "any") IS
  'Every version of one row of a tracked table (by primary key) with its valid and transaction ranges';

-- Schema changes of tracked tables become schema events.
CREATE FUNCTION chronicle._record_schema(regclass) RETURNS boolean
  LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'chronicle_record_schema';
CREATE FUNCTION chronicle.on_ddl() RETURNS event_trigger
  LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT objid FROM pg_catalog.pg_event_trigger_ddl_commands()
            WHERE object_type OPERATOR(pg_catalog.=) 'table'
               OR object_type OPERATOR(pg_catalog.=) 'table column' LOOP
    PERFORM chronicle._record_schema(r.objid::pg_catalog.regclass);
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION chronicle.on_ddl() IS
  'Event trigger: records ALTER TABLE on tracked tables as schema events';
CREATE EVENT TRIGGER chronicle_schema_changes ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE') EXECUTE FUNCTION chronicle.on_ddl();

-- history(text, text): lets history('cart_events', 'cart-1') with literals
-- resolve to the event-table variant rather than the tracked-row one.
CREATE FUNCTION chronicle.history(tbl text, stream text)
  RETURNS TABLE ("position" bigint, version integer, type text, payload jsonb, meta jsonb,
                 valid_from timestamptz, valid_to timestamptz,
                 recorded_at timestamptz, superseded_at timestamptz, supersedes bigint)
  LANGUAGE sql VOLATILE ROWS 100
AS $fn$ SELECT * FROM chronicle.history($1::pg_catalog.regclass, $2) $fn$;
COMMENT ON FUNCTION chronicle.history(text, text) IS
  'chronicle.history(regclass, text) for a table named by a text literal';

-- _sync makes a table equal to its own as_of(known_at, valid_at) with the
-- fewest changes (delete, update, insert by primary key); returns how many
-- rows changed. The changes go through the capture triggers like any other.
CREATE FUNCTION chronicle._sync(tbl regclass, known_at timestamptz, valid_at timestamptz)
  RETURNS bigint LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  pk text[];
  cols text[];
  setcols text[];  -- what UPDATE may set: not GENERATED ALWAYS identities
  match text;
  n bigint := 0;
  c bigint;
BEGIN
  SELECT pg_catalog.array_agg(pg_catalog.quote_ident(a.attname::text) ORDER BY k.ord) INTO pk
    FROM pg_catalog.pg_index i,
         pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord),
         pg_catalog.pg_attribute a
   WHERE i.indrelid OPERATOR(pg_catalog.=) tbl AND i.indisprimary
     AND a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attnum OPERATOR(pg_catalog.=) k.attnum;
  IF pk IS NULL THEN
    RAISE EXCEPTION 'table % has no primary key', tbl USING ERRCODE = '55000';
  END IF;
  SELECT pg_catalog.array_agg(pg_catalog.quote_ident(attname::text) ORDER BY attnum) INTO cols
    FROM pg_catalog.pg_attribute
   WHERE attrelid OPERATOR(pg_catalog.=) tbl AND attnum OPERATOR(pg_catalog.>) 0
     AND NOT attisdropped AND attgenerated OPERATOR(pg_catalog.=) '';
  SELECT pg_catalog.array_agg(pg_catalog.quote_ident(attname::text) ORDER BY attnum) INTO setcols
    FROM pg_catalog.pg_attribute
   WHERE attrelid OPERATOR(pg_catalog.=) tbl AND attnum OPERATOR(pg_catalog.>) 0
     AND NOT attisdropped AND attgenerated OPERATOR(pg_catalog.=) ''
     AND attidentity OPERATOR(pg_catalog.<>) 'a';
  SELECT pg_catalog.string_agg(pg_catalog.format('chronicle_t.%s OPERATOR(pg_catalog.=) chronicle_a.%s', p, p), ' AND ')
    INTO match FROM pg_catalog.unnest(pk) AS p;

  IF pg_catalog.to_regclass('pg_temp.chronicle_sync') IS NOT NULL THEN
    DROP TABLE pg_temp.chronicle_sync;
  END IF;
  EXECUTE pg_catalog.format('CREATE TEMP TABLE chronicle_sync AS SELECT * FROM chronicle.as_of(NULL::%s, $1, $2)', tbl)
    USING known_at, valid_at;
  EXECUTE pg_catalog.format('DELETE FROM %s AS chronicle_t WHERE NOT EXISTS (SELECT FROM pg_temp.chronicle_sync AS chronicle_a WHERE %s)',
                            tbl, match);
  GET DIAGNOSTICS c = ROW_COUNT;
  n := n OPERATOR(pg_catalog.+) c;
  IF setcols IS NOT NULL THEN
  EXECUTE pg_catalog.format(
      'UPDATE %s AS chronicle_t SET (%s) = ROW(%s) FROM pg_temp.chronicle_sync AS chronicle_a WHERE %s AND NOT (chronicle_t::record OPERATOR(pg_catalog.*=) chronicle_a::record)',
      tbl, pg_catalog.array_to_string(setcols, ', '),
      (SELECT pg_catalog.string_agg('chronicle_a.' OPERATOR(pg_catalog.||) x, ', ') FROM pg_catalog.unnest(setcols) AS x), match);
    GET DIAGNOSTICS c = ROW_COUNT;
    n := n OPERATOR(pg_catalog.+) c;
  END IF;
  EXECUTE pg_catalog.format(
    'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM pg_temp.chronicle_sync AS chronicle_a WHERE NOT EXISTS (SELECT FROM %s AS chronicle_t WHERE %s)',
    tbl, pg_catalog.array_to_string(cols, ', '), pg_catalog.array_to_string(cols, ', '), tbl, match);
  GET DIAGNOSTICS c = ROW_COUNT;
  n := n OPERATOR(pg_catalog.+) c;
  DROP TABLE pg_temp.chronicle_sync;
  RETURN n;
END
$fn$;
COMMENT ON FUNCTION chronicle._sync(regclass, timestamptz, timestamptz) IS
  'Internal: makes a tracked table equal to its as_of() with the fewest row changes';

-- restore materialises a past state of a tracked table into a new table, or
-- (into => NULL) into the table itself as new recorded changes.
CREATE FUNCTION chronicle.restore(tbl regclass, known_at timestamptz, valid_at timestamptz DEFAULT NULL,
                                  "into" text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  parts text[];
  target text;
  cols text;
  n bigint;
  old_meta text;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'argument "tbl" must not be null' USING ERRCODE = '22004';
  END IF;
  IF known_at IS NULL THEN
    RAISE EXCEPTION 'argument "known_at" must not be null' USING ERRCODE = '22004',
      HINT = 'Say which past state to restore: known_at => ''2026-03-05''.';
  END IF;
  IF "into" IS NULL THEN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger
                    WHERE tgrelid OPERATOR(pg_catalog.=) tbl
                      AND tgname OPERATOR(pg_catalog.=) 'zz_chronicle_capture') THEN
      RAISE EXCEPTION 'cannot restore % in place: it is not tracked', tbl USING ERRCODE = '55000',
        HINT = 'Restore into a new table with into => ''name'', or track the table first.';
    END IF;
    -- The restore is recorded like any change; its meta says what it was.
    old_meta := pg_catalog.current_setting('chronicle.meta', true);
    PERFORM pg_catalog.set_config('chronicle.meta',
      ((CASE WHEN COALESCE(pg_catalog.current_setting('chronicle.meta', true), '') OPERATOR(pg_catalog.=) ''
             THEN '{}' ELSE pg_catalog.current_setting('chronicle.meta', true) END)::jsonb
        OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('restore',
          pg_catalog.jsonb_build_object('known_at', known_at, 'valid_at', valid_at)))::text, true);
    n := chronicle._sync(tbl, known_at, valid_at);
    PERFORM pg_catalog.set_config('chronicle.meta', COALESCE(old_meta, ''), true);
    RETURN n;
  END IF;
  IF pg_catalog.length("into") OPERATOR(pg_catalog.=) 0 THEN
    RAISE EXCEPTION 'argument "into" must not be empty' USING ERRCODE = '22023';
  END IF;
  parts := pg_catalog.parse_ident("into");
  IF pg_catalog.array_length(parts, 1) OPERATOR(pg_catalog.=) 1 THEN
    target := pg_catalog.format('%I.%I', (pg_catalog.current_schemas(false))[1], parts[1]);
  ELSIF pg_catalog.array_length(parts, 1) OPERATOR(pg_catalog.=) 2 THEN
    target := pg_catalog.format('%I.%I', parts[1], parts[2]);
  ELSE
    RAISE EXCEPTION 'improper table name "%"', "into" USING ERRCODE = '42602';
  END IF;
  SELECT pg_catalog.string_agg(pg_catalog.quote_ident(attname::text), ', ' ORDER BY attnum) INTO cols
    FROM pg_catalog.pg_attribute
   WHERE attrelid OPERATOR(pg_catalog.=) tbl AND attnum OPERATOR(pg_catalog.>) 0
     AND NOT attisdropped AND attgenerated OPERATOR(pg_catalog.=) '';
  EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE %s INCLUDING ALL)', target, tbl);
  EXECUTE pg_catalog.format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM chronicle.as_of(NULL::%s, $1, $2)',
                            target, cols, cols, tbl) USING known_at, valid_at;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$fn$;
COMMENT ON FUNCTION chronicle.restore(regclass, timestamptz, timestamptz, text) IS
  'Materialises a tracked table as of known_at/valid_at into a new table, or in place as recorded changes';

-- apply_due brings a tracked table to the state valid now once post-dated
-- changes have fallen due, recording nothing (history already holds them).
CREATE FUNCTION chronicle.apply_due(tbl regclass) RETURNS bigint
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_apply_due';
COMMENT ON FUNCTION chronicle.apply_due(regclass) IS
  'Applies post-dated changes that have fallen due to a tracked table, without recording them again';

-- _event_count counts an event table's events (NULL without SELECT on it).
CREATE FUNCTION chronicle._event_count(tbl regclass) RETURNS bigint
  LANGUAGE plpgsql STABLE STRICT
AS $fn$
DECLARE
  n bigint;
BEGIN
  IF NOT pg_catalog.has_table_privilege(tbl, 'SELECT') THEN
    RETURN NULL;
  END IF;
  EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', tbl) INTO n;
  RETURN n;
END
$fn$;

-- tracked_tables lists tracked tables with their event tables.
CREATE VIEW chronicle.tracked_tables AS
  SELECT c.oid::pg_catalog.regclass AS table_name,
         ev.relid AS event_table,
         chronicle._event_count(ev.relid) AS events,
         pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(ev.relid)) AS event_table_size
    FROM pg_catalog.pg_trigger AS t
    JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid
    CROSS JOIN LATERAL (SELECT pg_catalog.to_regclass(pg_catalog.split_part(
                          pg_catalog.encode(t.tgargs, 'escape'), '\000', 1)) AS relid) AS ev
   WHERE t.tgname OPERATOR(pg_catalog.=) 'zz_chronicle_capture'
     AND t.tgparentid OPERATOR(pg_catalog.=) 0;
COMMENT ON VIEW chronicle.tracked_tables IS 'Tracked tables, their event tables, event counts and sizes';
GRANT SELECT ON chronicle.tracked_tables TO PUBLIC;

-- _setting_ts reads a timestamptz setting ('' and unset are NULL).
CREATE FUNCTION chronicle._setting_ts(name text) RETURNS timestamptz
  LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'chronicle_setting_ts';

-- create_time_travel_view creates <view_schema>.<table>: the tracked table
-- as of the session's chronicle.known_at / chronicle.valid_at settings.
CREATE FUNCTION chronicle.create_time_travel_view(tbl regclass, view_schema name DEFAULT 'history')
  RETURNS regclass LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  v text;
BEGIN
  IF tbl IS NULL OR view_schema IS NULL THEN
    RAISE EXCEPTION 'arguments must not be null' USING ERRCODE = '22004';
  END IF;
  v := pg_catalog.format('%I.%I', view_schema,
         (SELECT relname FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) tbl));
  EXECUTE pg_catalog.format(
    'CREATE VIEW %s AS SELECT * FROM chronicle.as_of(NULL::%s, chronicle._setting_ts(''chronicle.known_at''), chronicle._setting_ts(''chronicle.valid_at''))',
    v, tbl);
  EXECUTE pg_catalog.format('COMMENT ON VIEW %s IS %L', v,
    pg_catalog.format('chronicle time-travel view of %s', tbl));
  RETURN v::pg_catalog.regclass;
END
$fn$;
COMMENT ON FUNCTION chronicle.create_time_travel_view(regclass, name) IS
  'Creates view_schema.<table> showing a tracked table as of SET chronicle.known_at / chronicle.valid_at';
CREATE FUNCTION chronicle.capture_flush() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'chronicle_capture_flush';
COMMENT ON FUNCTION chronicle.capture_flush() IS
  'AFTER STATEMENT trigger of tracked tables: records the changes the statement captured, in one INSERT';
