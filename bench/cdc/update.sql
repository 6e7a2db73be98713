-- bench/cdc/update.sql (pgbench): update one random existing row.
\set id random(1, :rows)
UPDATE items SET qty = qty + 1, updated_at = now() WHERE id = :id;
