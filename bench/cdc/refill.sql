-- bench/cdc/refill.sql: put back the loaded rows a delete run removed.
INSERT INTO items (id, name, qty, price, updated_at)
SELECT g, 'item ' || g, g % 100, round((g % 1000) / 10.0 + 0.99, 2), now()
  FROM generate_series(1, :rows) AS g
 WHERE NOT EXISTS (SELECT FROM items WHERE id = g);
