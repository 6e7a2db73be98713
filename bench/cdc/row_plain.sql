-- bench/cdc/row_plain.sql (pgbench -M simple): reference, the current row
-- of a plain table by primary key (what a round trip costs).
SELECT * FROM items WHERE id = 42;
