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
