-- bench/batch_plain.sql (psql -v n=…): baseline, n events in one transaction.
-- version = i, unique per (stream, version).
INSERT INTO plain_events (stream, version, type, payload)
  SELECT 'cart-' || (i % 1000), i, 'ItemAdded', jsonb_build_object('i', i)
  FROM generate_series(1, :n) i;
