-- bench/cdc/setup_chronicle.sql: chronicle captures every change into
-- items_events (existing rows become snapshot events).
CREATE EXTENSION chronicle;
SET client_min_messages = warning;
SELECT chronicle.track('items');
