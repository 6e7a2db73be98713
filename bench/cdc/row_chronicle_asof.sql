-- bench/cdc/row_chronicle_asof.sql (psql -v T="'…'"; timed with \timing):
-- one row as of T through chronicle.as_of, which folds the whole table and
-- then filters.
SELECT * FROM chronicle.as_of(NULL::items, known_at => :T) WHERE id = 42;
