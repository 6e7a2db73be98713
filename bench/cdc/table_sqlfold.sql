-- bench/cdc/table_sqlfold.sql (psql -v T="'…'"): DIAGNOSTIC. The same answer
-- as table_chronicle.sql computed by plain SQL over chronicle's items_events
-- (last event per stream recorded by T, decoded with jsonb_populate_record).
-- Only valid for this data (whole-row updates, default valid ranges); it
-- shows what a generic plan over the same event rows costs.
SELECT count(*)
  FROM (SELECT DISTINCT ON (stream) type, payload
          FROM items_events
         WHERE recorded_at <= :T AND stream <> ''
         ORDER BY stream, position DESC) AS e,
       jsonb_populate_record(NULL::items, e.payload) AS r
 WHERE e.type <> 'delete';
