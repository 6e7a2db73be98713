-- bench/cdc/update_raw.sql (pgbench -D nc=CLIENTS, DIAGNOSTIC, the raw
-- variant): update one random row and write its event row (the same row
-- chronicle's capture writes: next position, version = last + 1, the row
-- image, meta) in the same statement, with no trigger at all.
-- The version lookup runs on the statement's snapshot, so two clients
-- updating the same row at once would compute the same version: each client
-- draws its ids from its own residue class (id = client_id + 1 + nc*k).
\set id :client_id + 1 + :nc * random(0, :rows / :nc - 1)
WITH u AS (
  UPDATE items SET qty = qty + 1, updated_at = now() WHERE id = :id RETURNING *
)
INSERT INTO items_events (position, stream, version, type, payload, meta, valid_from, recorded_at, assigned)
SELECT nextval('items_events_position_seq'), u.id::text,
       coalesce((SELECT max(e.version) FROM items_events AS e WHERE e.stream = u.id::text), 0) + 1,
       'update', to_jsonb(u),
       jsonb_build_object('user', session_user, 'application', current_setting('application_name')),
       now(), now(), ARRAY['qty', 'updated_at']
  FROM u;
