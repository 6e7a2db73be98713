-- bench/single_plain.sql (pgbench): baseline, one event per transaction.
-- Client c uses only streams s with s % clients = c, so clients never share a
-- stream; version = the client's own counter :i (1, 2, 3 ...), which is then
-- unique per (stream, version) without reading the table.
\set s random(0, :streams / :clients - 1) * :clients + :client_id
\set i :i + 1
INSERT INTO plain_events (stream, version, type, payload)
  VALUES ('cart-' || CAST(:s AS text), :i, 'ItemAdded', jsonb_build_object('i', CAST(:i AS int)));
