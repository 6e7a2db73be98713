-- bench/cdc/row_periods.sql (pgbench -M simple -D "T='…'"): one row as of T
-- with periods (items__as_of is an inlinable SQL function: the id filter
-- reaches both tables' indexes).
SELECT * FROM items__as_of(:T) WHERE id = 42;
