-- bench/cdc/setup_plain.sql: the baseline, nothing records history.
SELECT 1;
