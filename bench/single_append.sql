-- bench/single_append.sql (pgbench): chronicle.append, one event per
-- transaction; same streams and payloads as bench/single_plain.sql.
\set s random(0, :streams / :clients - 1) * :clients + :client_id
\set i :i + 1
SELECT chronicle.append('ev', 'cart-' || CAST(:s AS text), 'ItemAdded', jsonb_build_object('i', CAST(:i AS int)));
