-- chronicle 0.1 -> 0.2: the log in position order and consumer groups
-- (SPEC §4). A fresh install runs chronicle--0.1.sql and then this script.
\echo Use "ALTER EXTENSION chronicle UPDATE TO '0.2'" to load this file. \quit

-- consumer_offsets holds each consumer group's committed offset per event
-- table. Only chronicle's functions write it (after checking the caller may
-- read the table); pg_dump keeps its rows.
CREATE TABLE chronicle.consumer_offsets (
  grp          text        NOT NULL,
  tbl          regclass    NOT NULL,
  "position"   bigint      NOT NULL CHECK ("position" OPERATOR(pg_catalog.>=) 0),
  committed_at timestamptz,
  PRIMARY KEY (grp, tbl)
);
COMMENT ON TABLE chronicle.consumer_offsets IS
  'Committed offsets of consumer groups (chronicle.consume / commit / reset)';
SELECT pg_catalog.pg_extension_config_dump('chronicle.consumer_offsets', '');
REVOKE ALL ON chronicle.consumer_offsets FROM PUBLIC;

-- tracked_tables read the event table's name from the capture trigger's
-- argument bytes as text in the database encoding (0.1 escaped non-ASCII
-- bytes, so such names showed no event table).
CREATE OR REPLACE VIEW chronicle.tracked_tables AS
  SELECT c.oid::pg_catalog.regclass AS table_name,
         ev.relid AS event_table,
         chronicle._event_count(ev.relid) AS events,
         pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(ev.relid)) AS event_table_size
    FROM pg_catalog.pg_trigger AS t
    JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid
    CROSS JOIN LATERAL (SELECT pg_catalog.to_regclass(pg_catalog.convert_from(
                          pg_catalog.substring(t.tgargs, 1,
                            pg_catalog.position(t.tgargs, '\x00'::pg_catalog.bytea) OPERATOR(pg_catalog.-) 1),
                          pg_catalog.getdatabaseencoding())) AS relid) AS ev
   WHERE t.tgname OPERATOR(pg_catalog.=) 'zz_chronicle_capture'
     AND t.tgparentid OPERATOR(pg_catalog.=) 0;

-- consumer_groups shows the offsets of the event tables the caller may
-- read, directly or through their tracked table.
CREATE VIEW chronicle.consumer_groups WITH (security_barrier) AS
  SELECT o.grp, o.tbl AS event_table, o."position", o.committed_at
    FROM chronicle.consumer_offsets AS o
   WHERE pg_catalog.has_table_privilege(o.tbl, 'SELECT')
      OR EXISTS (SELECT FROM chronicle.tracked_tables AS t
                  WHERE t.event_table OPERATOR(pg_catalog.=) o.tbl
                    AND pg_catalog.has_table_privilege(t.table_name, 'SELECT'));
COMMENT ON VIEW chronicle.consumer_groups IS
  'Consumer groups and their committed offsets, for the event tables you may read';
GRANT SELECT ON chronicle.consumer_groups TO PUBLIC;

-- read returns the committed events after a position, in position order.
CREATE FUNCTION chronicle.read(tbl regclass, after bigint DEFAULT 0, max integer DEFAULT 1000)
  RETURNS TABLE ("position" bigint, stream text, version integer, type text, payload jsonb,
                 meta jsonb, valid_from timestamptz, valid_to timestamptz,
                 recorded_at timestamptz, supersedes bigint)
  LANGUAGE c VOLATILE ROWS 1000 AS 'MODULE_PATHNAME', 'chronicle_read';
COMMENT ON FUNCTION chronicle.read(regclass, bigint, integer) IS
  'Gapless: the next committed events (at most max) with position > after, in position order';

-- consume claims a consumer group and returns its next batch.
CREATE FUNCTION chronicle.consume(grp text, tbl regclass, max integer DEFAULT 100)
  RETURNS TABLE ("position" bigint, stream text, version integer, type text, payload jsonb,
                 meta jsonb, valid_from timestamptz, valid_to timestamptz,
                 recorded_at timestamptz, supersedes bigint)
  LANGUAGE c VOLATILE ROWS 100 AS 'MODULE_PATHNAME', 'chronicle_consume';
COMMENT ON FUNCTION chronicle.consume(text, regclass, integer) IS
  'The next events after the group''s offset; claims the group until the transaction ends (none if another member holds it)';

-- commit stores a consumer group's offset (forward only).
CREATE FUNCTION chronicle.commit(grp text, tbl regclass, "position" bigint)
  RETURNS bigint LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_commit';
COMMENT ON FUNCTION chronicle.commit(text, regclass, bigint) IS
  'Stores the consumer group''s offset: the position of the last event it processed';

-- reset moves a consumer group's offset anywhere (replay, rebuild).
CREATE FUNCTION chronicle.reset(grp text, tbl regclass, "position" bigint DEFAULT 0)
  RETURNS bigint LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_reset';
COMMENT ON FUNCTION chronicle.reset(text, regclass, bigint) IS
  'Moves the consumer group''s offset to position (0: replay from the start)';

-- channel names the NOTIFY channel of an event table.
CREATE FUNCTION chronicle.channel(tbl regclass)
  RETURNS text LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'chronicle_channel';
COMMENT ON FUNCTION chronicle.channel(regclass) IS
  'The channel that gets one NOTIFY (payload: the last position) per transaction that wrote events';

-- on_drop forgets the offsets of dropped event tables.
CREATE FUNCTION chronicle.on_drop() RETURNS event_trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'chronicle_on_drop';
COMMENT ON FUNCTION chronicle.on_drop() IS
  'Event trigger: forgets the consumer offsets of dropped tables; warns when an event table''s protection trigger is dropped';
CREATE EVENT TRIGGER chronicle_on_drop ON sql_drop
  WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED', 'DROP TRIGGER')
  EXECUTE FUNCTION chronicle.on_drop();

-- The CREATE/ALTER TABLE event trigger also protects partitions created
-- or attached by hand, and warns when an event table's protection triggers
-- are disabled.
CREATE FUNCTION chronicle._check_protection(regclass, warn boolean) RETURNS void
  LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'chronicle_check_protection';
CREATE OR REPLACE FUNCTION chronicle.on_ddl() RETURNS event_trigger
  LANGUAGE plpgsql AS $fn$
DECLARE
  r pg_catalog.record;
BEGIN
  FOR r IN SELECT objid, command_tag FROM pg_catalog.pg_event_trigger_ddl_commands()
            WHERE object_type OPERATOR(pg_catalog.=) 'table'
               OR object_type OPERATOR(pg_catalog.=) 'table column' LOOP
    PERFORM chronicle._record_schema(r.objid::pg_catalog.regclass);
    PERFORM chronicle._check_protection(r.objid::pg_catalog.regclass,
                                        r.command_tag OPERATOR(pg_catalog.=) 'ALTER TABLE');
  END LOOP;
END
$fn$;
COMMENT ON FUNCTION chronicle.on_ddl() IS
  'Event trigger: records ALTER TABLE on tracked tables as schema events; protects new partitions of event tables; warns when an event table''s protection is disabled';

-- Partitioned event tables (SPEC §6, large logs). Rows are routed by
-- recorded_at; their default is the transaction's provisional stamp, which
-- the stamping trigger then confirms.
CREATE FUNCTION chronicle._provisional_stamp() RETURNS timestamptz
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'chronicle_provisional_stamp';

-- _require_table raises 42P01 for a regclass that names no relation (the
-- oid of a dropped table), as the C functions do.
CREATE FUNCTION chronicle._require_table(tbl regclass) RETURNS void
  LANGUAGE plpgsql STABLE STRICT
AS $fn$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) tbl) THEN
    RAISE EXCEPTION 'relation with OID % does not exist', tbl::pg_catalog.oid USING ERRCODE = '42P01';
  END IF;
END
$fn$;

-- _protect puts the immutability triggers on an event table or partition
-- (statement triggers are not inherited by partitions).
CREATE FUNCTION chronicle._protect(tbl regclass) RETURNS void
  LANGUAGE plpgsql VOLATILE STRICT
AS $fn$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS t WHERE t.tgrelid OPERATOR(pg_catalog.=) tbl
                    AND t.tgname OPERATOR(pg_catalog.=) 'chronicle_immutable') THEN
    EXECUTE pg_catalog.format(
      'CREATE TRIGGER chronicle_immutable BEFORE UPDATE OR DELETE ON %s
         FOR EACH STATEMENT EXECUTE FUNCTION chronicle.event_immutable()', tbl);
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS t WHERE t.tgrelid OPERATOR(pg_catalog.=) tbl
                    AND t.tgname OPERATOR(pg_catalog.=) 'chronicle_immutable_truncate') THEN
    EXECUTE pg_catalog.format(
      'CREATE TRIGGER chronicle_immutable_truncate BEFORE TRUNCATE ON %s
         FOR EACH STATEMENT EXECUTE FUNCTION chronicle.event_immutable()', tbl);
  END IF;
END
$fn$;

-- _add_partitions adds partitions of one unit each to a partitioned event
-- table, after its newest one (or from the current unit), until through.
CREATE FUNCTION chronicle._add_partitions(tbl regclass, unit text, through timestamptz)
  RETURNS integer LANGUAGE plpgsql VOLATILE STRICT
AS $fn$
DECLARE
  step pg_catalog.interval := pg_catalog.concat('1 ', unit)::pg_catalog.interval;
  lo pg_catalog.timestamptz;
  hi pg_catalog.timestamptz;
  nsp pg_catalog.text;
  rel pg_catalog.text;
  part pg_catalog.text;
  base pg_catalog.text;
  def pg_catalog.text;
  newest pg_catalog.timestamptz;
  k integer;
  n integer := 0;
BEGIN
  SELECT s.nspname, c.relname INTO nsp, rel
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS s ON s.oid OPERATOR(pg_catalog.=) c.relnamespace
   WHERE c.oid OPERATOR(pg_catalog.=) tbl;
  SELECT pg_catalog.max(b[2]::pg_catalog.timestamptz) INTO lo
    FROM pg_catalog.pg_inherits AS i
    JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
    CROSS JOIN LATERAL pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                               'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)') AS b
   WHERE i.inhparent OPERATOR(pg_catalog.=) tbl;
  IF lo IS NULL THEN
    lo := pg_catalog.date_trunc(unit, pg_catalog.now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  END IF;
  -- Events already in the default partition (partitions added late) stay
  -- there: new partitions start after the newest of them.
  SELECT c.oid::pg_catalog.regclass::pg_catalog.text INTO def
    FROM pg_catalog.pg_inherits AS i
    JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
   WHERE i.inhparent OPERATOR(pg_catalog.=) tbl
     AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) OPERATOR(pg_catalog.=) 'DEFAULT';
  IF def IS NOT NULL THEN
    EXECUTE pg_catalog.format('SELECT pg_catalog.max(recorded_at) FROM %s', def) INTO newest;
    IF newest OPERATOR(pg_catalog.>=) lo THEN
      lo := (pg_catalog.date_trunc(unit, newest AT TIME ZONE 'UTC') OPERATOR(pg_catalog.+) step) AT TIME ZONE 'UTC';
    END IF;
  END IF;
  WHILE lo OPERATOR(pg_catalog.<=) through LOOP
    hi := (lo AT TIME ZONE 'UTC' OPERATOR(pg_catalog.+) step) AT TIME ZONE 'UTC';
    base := pg_catalog.concat(pg_catalog.left(rel, 50), '_', pg_catalog.to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD'));
    part := pg_catalog.format('%I.%I', nsp, base);
    k := 0;
    WHILE pg_catalog.to_regclass(part) IS NOT NULL LOOP  -- a name taken by another table
      k := k OPERATOR(pg_catalog.+) 1;
      part := pg_catalog.format('%I.%I', nsp, pg_catalog.concat(base, '_', k));
    END LOOP;
    EXECUTE pg_catalog.format('CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                              part, tbl, lo, hi);
    PERFORM chronicle._protect(part::pg_catalog.regclass);
    n := n OPERATOR(pg_catalog.+) 1;
    lo := hi;
  END LOOP;
  RETURN n;
END
$fn$;

-- add_partitions adds the partitions a partitioned event table needs until
-- now() + ahead, of the size of its newest one; run it ahead of time (from
-- cron): events stamped past the last partition go to the default one.
CREATE FUNCTION chronicle.add_partitions(tbl regclass, ahead interval DEFAULT '3 months')
  RETURNS integer LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  lo pg_catalog.timestamptz;
  hi pg_catalog.timestamptz;
  unit pg_catalog.text;
BEGIN
  IF tbl IS NULL OR ahead IS NULL THEN
    RAISE EXCEPTION 'arguments of chronicle.add_partitions() must not be null' USING ERRCODE = '22004';
  END IF;
  PERFORM chronicle._require_table(tbl);
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                  WHERE t.tgrelid OPERATOR(pg_catalog.=) tbl AND t.tgname OPERATOR(pg_catalog.=) 'zz_chronicle_stamp')
     OR (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) tbl)
        OPERATOR(pg_catalog.<>) 'p' THEN
    RAISE EXCEPTION '"%" is not a partitioned chronicle event table', tbl USING ERRCODE = '42809',
      HINT = 'Create one with chronicle.create_event_table(name, partition_by => ''month'').';
  END IF;
  SELECT b[1]::pg_catalog.timestamptz, b[2]::pg_catalog.timestamptz INTO lo, hi
    FROM pg_catalog.pg_inherits AS i
    JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
    CROSS JOIN LATERAL pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                               'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)') AS b
   WHERE i.inhparent OPERATOR(pg_catalog.=) tbl AND b IS NOT NULL
   ORDER BY b[2]::pg_catalog.timestamptz DESC LIMIT 1;
  SELECT u INTO unit FROM pg_catalog.unnest(ARRAY['day', 'week', 'month', 'year']) AS u
   WHERE (lo AT TIME ZONE 'UTC' OPERATOR(pg_catalog.+) pg_catalog.concat('1 ', u)::pg_catalog.interval) AT TIME ZONE 'UTC'
         OPERATOR(pg_catalog.=) hi
   LIMIT 1;
  IF unit IS NULL THEN
    RAISE EXCEPTION 'cannot tell the partition size of "%"', tbl USING ERRCODE = '55000',
      DETAIL = 'Its newest partition is not one day, week, month or year long.';
  END IF;
  RETURN chronicle._add_partitions(tbl, unit, pg_catalog.now() OPERATOR(pg_catalog.+) ahead);
END
$fn$;
COMMENT ON FUNCTION chronicle.add_partitions(regclass, interval) IS
  'Adds the partitions a partitioned event table needs until now() + ahead (run it from cron)';

-- create_event_table gains partition_by: NULL (one table) or 'day', 'week',
-- 'month' or 'year' (partitioned by recorded_at, with partitions from the
-- current one to three units ahead and a default partition).
DROP FUNCTION chronicle.create_event_table(text);
CREATE FUNCTION chronicle.create_event_table(tbl text, partition_by text DEFAULT NULL) RETURNS regclass
  LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  parts pg_catalog.text[];
  nsp pg_catalog.text;
  rel pg_catalog.text;
  qualified pg_catalog.text;
  seq pg_catalog.text;
  n integer := 0;
  partitioned boolean := partition_by IS NOT NULL;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'argument "tbl" must not be null' USING ERRCODE = '22004';
  END IF;
  IF pg_catalog.length(tbl) OPERATOR(pg_catalog.=) 0 THEN
    RAISE EXCEPTION 'event table name must not be empty' USING ERRCODE = '22023';
  END IF;
  IF partitioned AND partition_by OPERATOR(pg_catalog.<>) ALL (ARRAY['day', 'week', 'month', 'year']) THEN
    RAISE EXCEPTION 'cannot partition an event table by "%"', partition_by USING ERRCODE = '22023',
      HINT = 'Use ''day'', ''week'', ''month'' or ''year''.';
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
  -- however long the table name is. A partitioned table's unique
  -- constraints must hold recorded_at; versions are then handed out under
  -- a per-stream lock (doc/design.md).
  EXECUTE pg_catalog.format($ddl$
    CREATE TABLE %s (
      position    bigint                 NOT NULL,
      stream      pg_catalog.text        NOT NULL,
      version     integer                NOT NULL,
      type        pg_catalog.text        NOT NULL,
      payload     pg_catalog.jsonb,
      meta        pg_catalog.jsonb,
      valid_from  pg_catalog.timestamptz NOT NULL,
      valid_to    pg_catalog.timestamptz NOT NULL DEFAULT 'infinity',
      recorded_at pg_catalog.timestamptz NOT NULL %s,
      supersedes  bigint,
      PRIMARY KEY (position%s),
      UNIQUE (stream, version%s),
      CHECK (valid_from OPERATOR(pg_catalog.<) valid_to)
    ) %s$ddl$, qualified,
    CASE WHEN partitioned THEN 'DEFAULT chronicle._provisional_stamp()' ELSE '' END,
    CASE WHEN partitioned THEN ', recorded_at' ELSE '' END,
    CASE WHEN partitioned THEN ', recorded_at' ELSE '' END,
    CASE WHEN partitioned THEN 'PARTITION BY RANGE (recorded_at)' ELSE '' END);
  EXECUTE pg_catalog.format('CREATE %s INDEX ON %s (supersedes) WHERE supersedes IS NOT NULL',
    CASE WHEN partitioned THEN '' ELSE 'UNIQUE' END, qualified);
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
  PERFORM chronicle._protect(qualified::pg_catalog.regclass);
  IF partitioned THEN
    PERFORM chronicle._add_partitions(qualified::pg_catalog.regclass, partition_by,
      pg_catalog.now() OPERATOR(pg_catalog.+) pg_catalog.concat('3 ', partition_by)::pg_catalog.interval);
    seq := pg_catalog.concat(pg_catalog.left(rel, 50), '_default');
    n := 0;
    WHILE pg_catalog.to_regclass(pg_catalog.format('%I.%I', nsp, seq)) IS NOT NULL LOOP
      n := n OPERATOR(pg_catalog.+) 1;
      seq := pg_catalog.concat(pg_catalog.left(rel, 50), '_default', n);
    END LOOP;
    EXECUTE pg_catalog.format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', nsp, seq, qualified);
    PERFORM chronicle._protect(pg_catalog.format('%I.%I', nsp, seq)::pg_catalog.regclass);
  END IF;
  EXECUTE pg_catalog.format('COMMENT ON TABLE %s IS %L', qualified,
    'chronicle event table: append-only, bitemporal');
  RETURN qualified::pg_catalog.regclass;
END
$fn$;
COMMENT ON FUNCTION chronicle.create_event_table(text, text) IS
  'Creates an append-only bitemporal event table, optionally partitioned by recorded_at (day, week, month or year)';

-- The 0.1 PL/pgSQL functions again, with every type in their bodies
-- schema-qualified (SPEC §7): PL/pgSQL resolves the types of its variables
-- and casts, and EXECUTE the column and row types of the SQL it builds, with
-- the caller's search_path, where a schema ahead of pg_catalog could shadow
-- text, jsonb, record, … or a table's row type (NULL::<table> now names the
-- table's schema). Same signatures and behaviour; their comments stay.

CREATE OR REPLACE FUNCTION chronicle._sync(tbl regclass, known_at timestamptz, valid_at timestamptz)
  RETURNS bigint LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  pk pg_catalog.text[];
  cols pg_catalog.text[];
  setcols pg_catalog.text[];  -- what UPDATE may set: not GENERATED ALWAYS identities
  match pg_catalog.text;
  rowtype pg_catalog.text;  -- the row type's qualified name
  n bigint := 0;
  c bigint;
BEGIN
  SELECT pg_catalog.array_agg(pg_catalog.quote_ident(a.attname::pg_catalog.text) ORDER BY k.ord) INTO pk
    FROM pg_catalog.pg_index i,
         pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord),
         pg_catalog.pg_attribute a
   WHERE i.indrelid OPERATOR(pg_catalog.=) tbl AND i.indisprimary
     AND a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attnum OPERATOR(pg_catalog.=) k.attnum;
  IF pk IS NULL THEN
    RAISE EXCEPTION 'table % has no primary key', tbl USING ERRCODE = '55000';
  END IF;
  SELECT pg_catalog.array_agg(pg_catalog.quote_ident(attname::pg_catalog.text) ORDER BY attnum) INTO cols
    FROM pg_catalog.pg_attribute
   WHERE attrelid OPERATOR(pg_catalog.=) tbl AND attnum OPERATOR(pg_catalog.>) 0
     AND NOT attisdropped AND attgenerated OPERATOR(pg_catalog.=) '';
  SELECT pg_catalog.array_agg(pg_catalog.quote_ident(attname::pg_catalog.text) ORDER BY attnum) INTO setcols
    FROM pg_catalog.pg_attribute
   WHERE attrelid OPERATOR(pg_catalog.=) tbl AND attnum OPERATOR(pg_catalog.>) 0
     AND NOT attisdropped AND attgenerated OPERATOR(pg_catalog.=) ''
     AND attidentity OPERATOR(pg_catalog.<>) 'a';
  SELECT pg_catalog.string_agg(pg_catalog.format('chronicle_t.%s OPERATOR(pg_catalog.=) chronicle_a.%s', p, p), ' AND ')
    INTO match FROM pg_catalog.unnest(pk) AS p;

  IF pg_catalog.to_regclass('pg_temp.chronicle_sync') IS NOT NULL THEN
    DROP TABLE pg_temp.chronicle_sync;
  END IF;
  SELECT pg_catalog.format('%I.%I', ns.nspname, cl.relname) INTO rowtype
    FROM pg_catalog.pg_class AS cl
    JOIN pg_catalog.pg_namespace AS ns ON ns.oid OPERATOR(pg_catalog.=) cl.relnamespace
   WHERE cl.oid OPERATOR(pg_catalog.=) tbl;
  EXECUTE pg_catalog.format('CREATE TEMP TABLE chronicle_sync AS SELECT * FROM chronicle.as_of(NULL::%s, $1, $2)', rowtype)
    USING known_at, valid_at;
  EXECUTE pg_catalog.format('DELETE FROM %s AS chronicle_t WHERE NOT EXISTS (SELECT FROM pg_temp.chronicle_sync AS chronicle_a WHERE %s)',
                            tbl, match);
  GET DIAGNOSTICS c = ROW_COUNT;
  n := n OPERATOR(pg_catalog.+) c;
  IF setcols IS NOT NULL THEN
  EXECUTE pg_catalog.format(
      'UPDATE %s AS chronicle_t SET (%s) = ROW(%s) FROM pg_temp.chronicle_sync AS chronicle_a WHERE %s AND NOT (chronicle_t::pg_catalog.record OPERATOR(pg_catalog.*=) chronicle_a::pg_catalog.record)',
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

CREATE OR REPLACE FUNCTION chronicle.restore(tbl regclass, known_at timestamptz, valid_at timestamptz DEFAULT NULL,
                                             "into" text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  parts pg_catalog.text[];
  target pg_catalog.text;
  cols pg_catalog.text;
  n bigint;
  old_meta pg_catalog.text;
  rowtype pg_catalog.text;  -- the row type's qualified name
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'argument "tbl" must not be null' USING ERRCODE = '22004';
  END IF;
  IF known_at IS NULL THEN
    RAISE EXCEPTION 'argument "known_at" must not be null' USING ERRCODE = '22004',
      HINT = 'Say which past state to restore: known_at => ''2026-03-05''.';
  END IF;
  PERFORM chronicle._require_table(tbl);
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
             THEN '{}' ELSE pg_catalog.current_setting('chronicle.meta', true) END)::pg_catalog.jsonb
        OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('restore',
          pg_catalog.jsonb_build_object('known_at', known_at, 'valid_at', valid_at)))::pg_catalog.text, true);
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
  SELECT pg_catalog.string_agg(pg_catalog.quote_ident(attname::pg_catalog.text), ', ' ORDER BY attnum) INTO cols
    FROM pg_catalog.pg_attribute
   WHERE attrelid OPERATOR(pg_catalog.=) tbl AND attnum OPERATOR(pg_catalog.>) 0
     AND NOT attisdropped AND attgenerated OPERATOR(pg_catalog.=) '';
  EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE %s INCLUDING ALL)', target, tbl);
  SELECT pg_catalog.format('%I.%I', ns.nspname, cl.relname) INTO rowtype
    FROM pg_catalog.pg_class AS cl
    JOIN pg_catalog.pg_namespace AS ns ON ns.oid OPERATOR(pg_catalog.=) cl.relnamespace
   WHERE cl.oid OPERATOR(pg_catalog.=) tbl;
  EXECUTE pg_catalog.format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM chronicle.as_of(NULL::%s, $1, $2)',
                            target, cols, cols, rowtype) USING known_at, valid_at;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$fn$;

CREATE OR REPLACE FUNCTION chronicle.create_time_travel_view(tbl regclass, view_schema name DEFAULT 'history')
  RETURNS regclass LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
  v pg_catalog.text;
  rowtype pg_catalog.text;  -- the row type's qualified name
BEGIN
  IF tbl IS NULL OR view_schema IS NULL THEN
    RAISE EXCEPTION 'arguments must not be null' USING ERRCODE = '22004';
  END IF;
  PERFORM chronicle._require_table(tbl);
  v := pg_catalog.format('%I.%I', view_schema,
         (SELECT relname FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) tbl));
  SELECT pg_catalog.format('%I.%I', ns.nspname, cl.relname) INTO rowtype
    FROM pg_catalog.pg_class AS cl
    JOIN pg_catalog.pg_namespace AS ns ON ns.oid OPERATOR(pg_catalog.=) cl.relnamespace
   WHERE cl.oid OPERATOR(pg_catalog.=) tbl;
  EXECUTE pg_catalog.format(
    'CREATE VIEW %s AS SELECT * FROM chronicle.as_of(NULL::%s, chronicle._setting_ts(''chronicle.known_at''), chronicle._setting_ts(''chronicle.valid_at''))',
    v, rowtype);
  EXECUTE pg_catalog.format('COMMENT ON VIEW %s IS %L', v,
    pg_catalog.format('chronicle time-travel view of %s', tbl));
  RETURN v::pg_catalog.regclass;
END
$fn$;
