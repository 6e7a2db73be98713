-- bench/batch_append.sql (psql -v n=…): n chronicle.append calls in one
-- transaction (count(*) so the n results are not sent to the client).
SELECT count(*) FROM (
  SELECT chronicle.append('ev', 'cart-' || (i % 1000), 'ItemAdded', jsonb_build_object('i', i))
  FROM generate_series(1, :n) i) AS appended;
