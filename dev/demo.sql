-- dev/demo.sql: the shopping cart of SPEC §8, loaded by dev/run.
\set QUIET on
CREATE EXTENSION IF NOT EXISTS chronicle;
SET TimeZone = 'UTC';
SELECT chronicle.create_event_table('cart_events') \gset
SELECT position AS p1 FROM chronicle.append('cart_events', 'cart-1', 'ItemAdded', '{"trousers": 3}') \gset
SELECT pg_sleep(0.01);
SELECT chronicle.append('cart_events', 'cart-1', 'QuantityChanged', '{"trousers": 1}');
SELECT chronicle.append('cart_events', 'cart-1', 'CheckedOut', '{"status": "paid"}');
SELECT recorded_at AS first_known FROM cart_events WHERE position = :p1 \gset
\set QUIET off
\echo
\echo '-- the cart now: chronicle.state(''cart_events'', ''cart-1'')'
SELECT chronicle.state('cart_events', 'cart-1');
\echo '-- the cart as known right after the first append'
SELECT chronicle.state('cart_events', 'cart-1', known_at => :'first_known');
\echo '-- its events, in replay order'
SELECT replay, position, version, type, payload FROM chronicle.events('cart_events', 'cart-1');
\echo '-- a domain reducer is an ordinary aggregate: trousers added, summed'
SELECT sum((payload->>'trousers')::int) AS trousers_mentioned
  FROM chronicle.events('cart_events', 'cart-1');
