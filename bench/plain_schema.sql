-- bench/plain_schema.sql: the baseline table plain_events: the columns,
-- constraints and indexes of a chronicle event table (see
-- chronicle.create_event_table) without chronicle: no trigger, position from
-- a sequence default, version given by the client, times from now().
SET client_min_messages = warning;
DROP TABLE IF EXISTS plain_events;
CREATE TABLE plain_events (
  position    bigint      NOT NULL,
  stream      text        NOT NULL,
  version     integer     NOT NULL,
  type        text        NOT NULL,
  payload     jsonb,
  meta        jsonb,
  valid_from  timestamptz NOT NULL DEFAULT now(),
  valid_to    timestamptz NOT NULL DEFAULT 'infinity',
  recorded_at timestamptz NOT NULL DEFAULT now(),
  supersedes  bigint,
  CONSTRAINT plain_events_pkey PRIMARY KEY (position),
  CONSTRAINT plain_events_stream_version_key UNIQUE (stream, version),
  CONSTRAINT plain_events_valid_check CHECK (valid_from < valid_to)
);
CREATE UNIQUE INDEX plain_events_supersedes_key ON plain_events (supersedes)
  WHERE supersedes IS NOT NULL;
CREATE SEQUENCE plain_events_position_seq AS bigint OWNED BY plain_events.position;
ALTER TABLE plain_events ALTER COLUMN position SET DEFAULT nextval('plain_events_position_seq');
