-- bench/cdc/check_periods.sql (psql -v T="'…'"): rows and sum(qty) as of T.
SELECT count(*) || ' ' || sum(qty) FROM items__as_of(:T);
