-- bench/cdc/setup_periods.sql: the periods extension (SQL:2011 system
-- versioning emulated with triggers): adds system_time_start/_end to items,
-- old row versions go to items_history; items__as_of(timestamptz) reads it.
CREATE EXTENSION periods CASCADE;   -- needs btree_gist
SELECT periods.add_system_time_period('items');
SELECT periods.add_system_versioning('items');
-- periods creates items_history without indexes ("be sure to index it
-- properly"): give it the obvious one, so that one row as of a time is an
-- index lookup rather than a scan of the history.
CREATE INDEX ON items_history (id);
