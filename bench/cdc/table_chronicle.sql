-- bench/cdc/table_chronicle.sql (psql -v T="'…'"): the whole table as of T.
SELECT count(*) FROM chronicle.as_of(NULL::items, known_at => :T);
