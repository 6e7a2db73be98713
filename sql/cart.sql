-- The shopping cart of SPEC §8: event tables, append, state, events, known_at.
SELECT chronicle.create_event_table('cart_events');
\d cart_events

SELECT * FROM chronicle.append('cart_events', 'cart-1', 'ItemAdded',       '{"trousers": 3}');
SELECT * FROM chronicle.append('cart_events', 'cart-1', 'QuantityChanged', '{"trousers": 1}');
SELECT * FROM chronicle.append('cart_events', 'cart-1', 'CheckedOut',      '{"status": "paid"}');

-- The fold of the stream by JSON Merge Patch.
SELECT chronicle.state('cart_events', 'cart-1');

-- As known when the first event was recorded.
SELECT chronicle.state('cart_events', 'cart-1',
                       known_at => (SELECT recorded_at FROM cart_events WHERE version = 1));

-- Nothing was known at -infinity; the future is answered as of now.
SELECT chronicle.state('cart_events', 'cart-1', known_at => '-infinity');
SELECT chronicle.state('cart_events', 'cart-1', known_at => 'infinity');

-- Each autocommitted append is its own transaction: stamps strictly increase
-- with positions.
SELECT bool_and(recorded_at > prev) AS stamps_increase
  FROM (SELECT recorded_at, lag(recorded_at) OVER (ORDER BY position) AS prev
          FROM cart_events) s WHERE prev IS NOT NULL;

-- Events in replay order; a domain reducer is an ordinary aggregate.
SELECT replay, position, version, type, payload FROM chronicle.events('cart_events', 'cart-1');
SELECT sum((payload->>'trousers')::int) AS trousers_added
  FROM chronicle.events('cart_events', 'cart-1') WHERE type = 'ItemAdded';

-- A key set to null by a later event disappears from the state.
SELECT * FROM chronicle.append('cart_events', 'cart-1', 'StatusCleared', '{"status": null}');
SELECT chronicle.state('cart_events', 'cart-1');

-- Optimistic concurrency: the stream is at version 4.
SELECT * FROM chronicle.append('cart_events', 'cart-1', 'ItemAdded', '{"socks": 2}', expected_version => 3);
SELECT * FROM chronicle.append('cart_events', 'cart-1', 'ItemAdded', '{"socks": 2}', expected_version => 4);

-- All events of one transaction share one recorded_at.
BEGIN;
SELECT * FROM chronicle.append('cart_events', 'cart-2', 'ItemAdded', '{"hat": 1}');
INSERT INTO cart_events (stream, type, payload) VALUES ('cart-2', 'ItemAdded', '{"scarf": 1}');
COMMIT;
SELECT count(DISTINCT recorded_at) AS stamps, array_agg(version ORDER BY version) AS versions
  FROM cart_events WHERE stream = 'cart-2';

-- Plain INSERT and COPY work; chronicle fills the system columns.
COPY cart_events (stream, type, payload) FROM STDIN;
cart-3	ItemAdded	{"gloves": 2}
cart-3	ItemAdded	{"boots": 1}
\.
SELECT stream, version, type, payload, valid_to FROM cart_events WHERE stream = 'cart-3' ORDER BY position;
SELECT bool_and(valid_from = recorded_at) AS valid_from_defaults_to_recorded_at FROM cart_events;

-- Events are immutable.
UPDATE cart_events SET payload = '{}' WHERE version = 1;
DELETE FROM cart_events;
TRUNCATE cart_events;
-- System columns are chronicle's.
INSERT INTO cart_events (position, stream, type, payload) VALUES (100, 'cart-9', 'ItemAdded', '{}');
