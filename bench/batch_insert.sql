-- bench/batch_insert.sql (psql -v n=…): INSERT … SELECT of n events into the
-- event table in one transaction (the stamping trigger's path).
INSERT INTO ev (stream, type, payload)
  SELECT 'cart-' || (i % 1000), 'ItemAdded', jsonb_build_object('i', i)
  FROM generate_series(1, :n) i;
