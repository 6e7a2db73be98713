-- bench/cdc/row_chronicle_history.sql (pgbench -M simple -D "T='…'"): one
-- row as of T from chronicle.history(NULL::items, 42): the last version
-- recorded by T. Equal to as_of here because every captured update carries
-- the whole row and every valid range is [recorded, infinity); in general
-- (backdated or partial updates) history alone is not an as-of answer.
SELECT "row" FROM chronicle.history(NULL::items, 42::bigint)
 WHERE recorded_at <= :T AND superseded_at > :T AND type <> 'delete'
 ORDER BY "position" DESC LIMIT 1;
