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
            WHERE object_type OPERATOR(pg_catalog.=) 'table' LOOP
    PERFORM chronicle._record_schema(r.objid::pg_catalog.regclass);
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION chronicle.on_ddl() IS
  'Event trigger: records ALTER TABLE on tracked tables as schema events';
CREATE EVENT TRIGGER chronicle_schema_changes ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION chronicle.on_ddl();

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
