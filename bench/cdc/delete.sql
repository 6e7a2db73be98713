-- bench/cdc/delete.sql (pgbench -D k=0 -D nc=CLIENTS): delete one existing
-- row. Client c's k-th transaction deletes the row permute(k*nc + c) of the
-- loaded ids: every transaction deletes a distinct, existing, randomly
-- placed row (the run stays below :rows transactions; bench/cdc/refill.sql
-- puts the rows back, untimed, before the next run).
\set id permute(:k * :nc + :client_id, :rows) + 1
\set k :k + 1
DELETE FROM items WHERE id = :id;
