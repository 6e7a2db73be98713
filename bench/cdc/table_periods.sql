-- bench/cdc/table_periods.sql (psql -v T="'…'"): the whole table as of T
-- with periods' items__as_of (items UNION ALL items_history, filtered).
SELECT count(*) FROM items__as_of(:T);
