-- bench/single_insert.sql (pgbench): plain INSERT into the event table (the
-- stamping trigger's path), one event per transaction; same streams and
-- payloads as bench/single_plain.sql.
\set s random(0, :streams / :clients - 1) * :clients + :client_id
\set i :i + 1
INSERT INTO ev (stream, type, payload)
  VALUES ('cart-' || CAST(:s AS text), 'ItemAdded', jsonb_build_object('i', CAST(:i AS int)));
