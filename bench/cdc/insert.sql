-- bench/cdc/insert.sql (pgbench): insert one new row, id from a sequence
-- above the loaded ids.
INSERT INTO items (id, name, qty, price, updated_at)
VALUES (nextval('items_new_id'), 'new item', 1, 9.99, now());
