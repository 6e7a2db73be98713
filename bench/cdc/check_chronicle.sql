-- bench/cdc/check_chronicle.sql (psql -v T="'…'"): rows and sum(qty) as of T.
SELECT count(*) || ' ' || sum(qty) FROM chronicle.as_of(NULL::items, known_at => :T);
