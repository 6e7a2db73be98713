-- bench/cdc/items.sql: the benchmark table, :rows rows (psql -v rows=N).
-- Ids 1..rows; new rows (the insert series) take ids from items_new_id,
-- far above them.
CREATE TABLE items (
  id         bigint PRIMARY KEY,
  name       text,
  qty        int,
  price      numeric,
  updated_at timestamptz
);
INSERT INTO items (id, name, qty, price, updated_at)
SELECT g, 'item ' || g, g % 100, round((g % 1000) / 10.0 + 0.99, 2), now()
  FROM generate_series(1, :rows) AS g;
CREATE SEQUENCE items_new_id AS bigint START 10000001;
