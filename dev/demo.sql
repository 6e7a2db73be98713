-- dev/demo.sql: the shopping cart of SPEC §8, loaded by dev/run; its output
-- is the README's tour.
\set QUIET on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS chronicle;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
\o /dev/null
SELECT chronicle.create_event_table('cart_events');
SELECT chronicle.append('cart_events', 'cart-1', 'ItemAdded',       '{"trousers": 3}');
SELECT chronicle.append('cart_events', 'cart-1', 'QuantityChanged', '{"trousers": 1}');
SELECT chronicle.append('cart_events', 'cart-1', 'CheckedOut',      '{"status": "paid"}');
-- a price list with valid time: January's price, then February's
SELECT chronicle.append('cart_events', 'price-trousers', 'PriceSet', '{"eur": 40}',
                        valid_from => '2026-01-01', valid_to => '2026-02-01');
SELECT chronicle.append('cart_events', 'price-trousers', 'PriceSet', '{"eur": 45}',
                        valid_from => '2026-02-01');
\o
SELECT max(recorded_at) AS before_correction FROM cart_events \gset
\echo '-- The cart now'
\echo 'SELECT chronicle.state(''cart_events'', ''cart-1'');'
SELECT chronicle.state('cart_events', 'cart-1');
\echo '-- The cart as known when the first event was recorded'
\echo 'SELECT chronicle.state(''cart_events'', ''cart-1'', known_at => (SELECT recorded_at FROM cart_events WHERE position = 1));'
SELECT chronicle.state('cart_events', 'cart-1', known_at => (SELECT recorded_at FROM cart_events WHERE position = 1));
\echo '-- The quantity change was wrong: correct it (a new event supersedes position 2)'
\echo 'SELECT * FROM chronicle.correct(''cart_events'', 2, ''{"trousers": 2}'');'
SELECT * FROM chronicle.correct('cart_events', 2, '{"trousers": 2}');
\echo '-- Now, and as known before the correction'
\echo 'SELECT chronicle.state(''cart_events'', ''cart-1'') AS now,'
\echo '       chronicle.state(''cart_events'', ''cart-1'', known_at => :''before_correction'') AS before_correction;'
SELECT chronicle.state('cart_events', 'cart-1') AS now,
       chronicle.state('cart_events', 'cart-1', known_at => :'before_correction') AS before_correction;
\echo '-- The events, in replay order: the correction stands in the place of the event it replaces'
\echo 'SELECT replay, position, version, type, payload, supersedes FROM chronicle.events(''cart_events'', ''cart-1'');'
SELECT replay, position, version, type, payload, supersedes FROM chronicle.events('cart_events', 'cart-1');
\echo '-- Valid time: the price as valid on 15 January and on 15 March, and its timeline'
\echo 'SELECT chronicle.state(''cart_events'', ''price-trousers'', valid_at => ''2026-01-15'') AS jan,'
\echo '       chronicle.state(''cart_events'', ''price-trousers'', valid_at => ''2026-03-15'') AS mar;'
SELECT chronicle.state('cart_events', 'price-trousers', valid_at => '2026-01-15') AS jan,
       chronicle.state('cart_events', 'price-trousers', valid_at => '2026-03-15') AS mar;
\echo 'SELECT * FROM chronicle.timeline(''cart_events'', ''price-trousers'');'
SELECT * FROM chronicle.timeline('cart_events', 'price-trousers');
\echo '-- Any reducer is an ordinary aggregate over events(): units of trousers in the cart'
\echo 'SELECT sum((payload->>''trousers'')::int) FILTER (WHERE type = ''ItemAdded'') AS added FROM chronicle.events(''cart_events'', ''cart-1'');'
SELECT sum((payload->>'trousers')::int) FILTER (WHERE type = 'ItemAdded') AS added FROM chronicle.events('cart_events', 'cart-1');
\echo '-- Events are immutable'
\echo 'DELETE FROM cart_events;'
\set ON_ERROR_STOP off
DELETE FROM cart_events;
\set ON_ERROR_STOP on

-- CDC: an ordinary CRUD table, tracked.
\o /dev/null
CREATE TABLE cart_items (cart_id text, sku text, qty int, PRIMARY KEY (cart_id, sku));
INSERT INTO cart_items VALUES ('cart-7', 'socks', 2);
SET client_min_messages = warning;
SELECT chronicle.track('cart_items');
INSERT INTO cart_items VALUES ('cart-7', 'trousers', 3);
\o
SELECT clock_timestamp() AS three_trousers \gset
\o /dev/null
UPDATE cart_items SET qty = 1 WHERE sku = 'trousers';
DELETE FROM cart_items WHERE sku = 'socks';
\o
\echo '-- CDC: cart_items(cart_id, sku, qty) is an ordinary table, tracked with chronicle.track(''cart_items'');'
\echo '-- the application inserted socks and three trousers, set trousers to 1, deleted the socks.'
\echo 'TABLE cart_items;'
TABLE cart_items;
\echo '-- The table as it was when the trousers were added:'
\echo 'SELECT * FROM chronicle.as_of(NULL::cart_items, known_at => :''three_trousers'');'
SELECT * FROM chronicle.as_of(NULL::cart_items, known_at => :'three_trousers');
\echo '-- Every version of one row, with its valid and transaction ranges:'
\echo 'SELECT position, type, "row", assigned FROM chronicle.history(NULL::cart_items, ''cart-7'', ''trousers'');'
SELECT position, type, "row", assigned FROM chronicle.history(NULL::cart_items, 'cart-7', 'trousers');
\echo '-- What changed since then:'
\echo 'SELECT change, key, before, after FROM chronicle.diff(NULL::cart_items, from_known => :''three_trousers'');'
SELECT change, key, before, after FROM chronicle.diff(NULL::cart_items, from_known => :'three_trousers');
\echo '-- A backdated correction: the trousers were really 2 since 1 January (the table keeps the state valid now).'
\echo 'BEGIN; SET LOCAL chronicle.valid_from = ''2026-01-01''; SET LOCAL chronicle.meta = ''{"reason": "miscount"}'';'
\echo 'UPDATE cart_items SET qty = 2 WHERE sku = ''trousers''; COMMIT;'
BEGIN;
SET LOCAL chronicle.valid_from = '2026-01-01';
SET LOCAL chronicle.meta = '{"reason": "miscount"}';
UPDATE cart_items SET qty = 2 WHERE sku = 'trousers';
COMMIT;
\echo 'SELECT type, stream, payload, assigned, valid_from, meta->>''reason'' AS reason FROM cart_items_events ORDER BY position DESC LIMIT 1;'
SELECT type, stream, payload, assigned, valid_from, meta->>'reason' AS reason FROM cart_items_events ORDER BY position DESC LIMIT 1;
\echo 'SELECT * FROM chronicle.tracked_tables;'
SELECT * FROM chronicle.tracked_tables;

-- Streams (SPEC §4): the log in position order, consumer groups, NOTIFY.
\echo
\echo '-- Streams: every committed event after a position, in position order (gapless)'
\echo 'SELECT position, stream, version, type, payload FROM chronicle.read(''cart_events'', after => 3);'
SELECT position, stream, version, type, payload FROM chronicle.read('cart_events', after => 3);
\echo '-- A tracked table is read through its name: its captured changes'
\echo 'SELECT position, type, stream, payload->>''qty'' AS qty FROM chronicle.read(''cart_items'', after => 3);'
SELECT position, type, stream, payload->>'qty' AS qty FROM chronicle.read('cart_items', after => 3);
\echo '-- A consumer group keeps a read model: the batch, the writes and the offset commit together (exactly once)'
\echo 'CREATE TABLE event_counts (stream text PRIMARY KEY, events bigint);'
CREATE TABLE event_counts (stream text PRIMARY KEY, events bigint);
\echo 'BEGIN;'
\echo 'CREATE TEMP TABLE batch ON COMMIT DROP AS SELECT * FROM chronicle.consume(''counts'', ''cart_events'', max => 100);'
\echo 'INSERT INTO event_counts SELECT stream, count(*) FROM batch GROUP BY stream'
\echo '  ON CONFLICT (stream) DO UPDATE SET events = event_counts.events + excluded.events;'
\echo 'SELECT chronicle.commit(''counts'', ''cart_events'', max(position)) FROM batch;'
\echo 'COMMIT;'
BEGIN;
\o /dev/null
CREATE TEMP TABLE batch ON COMMIT DROP AS SELECT * FROM chronicle.consume('counts', 'cart_events', max => 100);
INSERT INTO event_counts SELECT stream, count(*) FROM batch GROUP BY stream
  ON CONFLICT (stream) DO UPDATE SET events = event_counts.events + excluded.events;
\o
SELECT chronicle.commit('counts', 'cart_events', max(position)) FROM batch;
COMMIT;
\echo 'TABLE event_counts;'
TABLE event_counts;
\echo 'SELECT grp, event_table, position FROM chronicle.consumer_groups;'
SELECT grp, event_table, position FROM chronicle.consumer_groups;
\echo '-- One NOTIFY per committing transaction and table (payload: its last position), never one per event'
\echo 'LISTEN chronicle_<oid>;  -- the name comes from chronicle.channel(''cart_events'')'
SELECT chronicle.channel('cart_events') AS channel \gset
LISTEN :"channel";
\echo 'BEGIN; SELECT chronicle.append(''cart_events'', ''cart-2'', ''ItemAdded'', ''{"socks": 1}'');'
\echo '       SELECT chronicle.append(''cart_events'', ''cart-2'', ''ItemAdded'', ''{"hat": 1}''); COMMIT;'
\o /dev/null
BEGIN;
SELECT chronicle.append('cart_events', 'cart-2', 'ItemAdded', '{"socks": 1}');
SELECT chronicle.append('cart_events', 'cart-2', 'ItemAdded', '{"hat": 1}');
\o
COMMIT;
UNLISTEN *;
