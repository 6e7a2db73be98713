-- bench/cdc/row_chronicle_versions.sql (pgbench -M simple): every version
-- of one row, chronicle.history(NULL::items, 42).
SELECT * FROM chronicle.history(NULL::items, 42::bigint);
