-- bench/cdc/setup_raw.sql: a DIAGNOSTIC variant, not a competitor: the
-- floor. items plus an event table with the same columns, constraints and
-- indexes as chronicle's items_events (existing rows as snapshot events), and
-- no trigger: bench/cdc/update_raw.sql writes the event row itself, in the
-- same statement as the UPDATE (a hand-written outbox). Also the base of
-- bench/cdc/setup_mirror.sql.
CREATE TABLE items_events (
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
  assigned    text[],
  UNIQUE (stream, version),
  CHECK (valid_from < valid_to)
);
CREATE UNIQUE INDEX ON items_events (supersedes) WHERE supersedes IS NOT NULL;
CREATE SEQUENCE items_events_position_seq AS bigint OWNED BY items_events.position;
INSERT INTO items_events (position, stream, version, type, payload, meta, valid_from, recorded_at)
SELECT nextval('items_events_position_seq'), i.id::text, 1, 'snapshot', to_jsonb(i),
       jsonb_build_object('user', session_user, 'application', current_setting('application_name')),
       '-infinity', now()
  FROM items AS i ORDER BY i.id;
