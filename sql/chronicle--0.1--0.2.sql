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

-- consumer_groups shows the offsets of the tables the caller may read.
CREATE VIEW chronicle.consumer_groups WITH (security_barrier) AS
  SELECT o.grp, o.tbl AS event_table, o."position", o.committed_at
    FROM chronicle.consumer_offsets AS o
   WHERE pg_catalog.has_table_privilege(o.tbl, 'SELECT');
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
  'Event trigger: forgets the consumer offsets of dropped tables';
CREATE EVENT TRIGGER chronicle_on_drop ON sql_drop
  WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
  EXECUTE FUNCTION chronicle.on_drop();
