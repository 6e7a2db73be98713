-- CDC (SPEC §5): chronicle.track() turns an ordinary CRUD table into an event
-- stream without any change to the application. The table keeps only its
-- last state; chronicle.as_of() answers for any past moment.
--
-- Times: transaction times (recorded_at) are captured into psql variables
-- with \gset and only compared, never printed; valid times are explicit.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- as_of_is_table tells whether as_of(NULL::t) (valid now, known now) holds
-- exactly the rows of the table t.
CREATE FUNCTION as_of_is_table(tbl regclass) RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE
  same boolean;
BEGIN
  EXECUTE format('SELECT NOT EXISTS (SELECT * FROM %1$s EXCEPT ALL SELECT * FROM chronicle.as_of(NULL::%1$s))
                     AND NOT EXISTS (SELECT * FROM chronicle.as_of(NULL::%1$s) EXCEPT ALL SELECT * FROM %1$s)',
                 tbl) INTO same;
  RETURN same;
END
$f$;

-------------------------------------------------------------------------------
-- 1. Tracking an existing table
-------------------------------------------------------------------------------
-- The cart of SPEC §8 as a CRUD table, with a composite primary key. One row
-- exists before tracking starts.
CREATE TABLE cart_items (
  cart_id text,
  sku     text,
  qty     integer NOT NULL,
  PRIMARY KEY (cart_id, sku)
);
INSERT INTO cart_items VALUES ('cart-1', 'hat', 1);

-- track() returns the event table it created next to the table: an event
-- table (SPEC §2) with one more column, assigned.
SELECT chronicle.track('cart_items');
\d cart_items_events

-- The first events: a schema event (stream '') with the columns, and the
-- existing row as a snapshot valid since -infinity. A composite key's stream
-- is a JSON array of the key columns' texts.
SELECT position, stream, type, payload, valid_from, valid_to
  FROM cart_items_events ORDER BY position;

-------------------------------------------------------------------------------
-- 2. Three pairs of trousers, then one
-------------------------------------------------------------------------------
INSERT INTO cart_items VALUES ('cart-1', 'trousers', 3);
SELECT max(recorded_at) AS t_three FROM cart_items_events \gset
UPDATE cart_items SET qty = 1 WHERE sku = 'trousers';
SELECT max(recorded_at) AS t_one FROM cart_items_events \gset

-- The table only keeps the last state...
SELECT * FROM cart_items ORDER BY cart_id, sku;
-- ...but as known when the trousers were added, there were three.
SELECT * FROM chronicle.as_of(NULL::cart_items, known_at => :'t_three') ORDER BY cart_id, sku;
-- One row, folded from its own stream only: primary key after the two times.
SELECT * FROM chronicle.as_of(NULL::cart_items, :'t_three', NULL, 'cart-1', 'trousers');
-- Known now (the default), as_of is the table.
SELECT * FROM chronicle.as_of(NULL::cart_items) ORDER BY cart_id, sku;
SELECT as_of_is_table('cart_items');

-- Every change is an event: stream = the primary key, payload = the row
-- image; an update also records the columns it assigned.
SELECT position, stream, version, type, payload, assigned
  FROM cart_items_events WHERE position > 2 ORDER BY position;
-- Default valid time: from the moment the change was recorded.
SELECT bool_and(valid_from = recorded_at AND valid_to = 'infinity') AS valid_from_recorded_at
  FROM cart_items_events WHERE position > 2;

-- An update that changes no value records nothing.
SELECT count(*) AS events_before FROM cart_items_events \gset
UPDATE cart_items SET qty = qty;
SELECT count(*) - :events_before AS new_events FROM cart_items_events;

-- history() lists every version of one row (by its key columns) with its
-- valid and transaction-time ranges.
SELECT position, type, row, assigned, valid_to, superseded_at,
       recorded_at = :'t_three' AS at_t_three, recorded_at = :'t_one' AS at_t_one
  FROM chronicle.history(NULL::cart_items, 'cart-1', 'trousers') ORDER BY position;

-- diff() between two transaction times: rows added, removed, changed.
SELECT change, key, before, after FROM chronicle.diff(NULL::cart_items, from_known => :'t_three', to_known => :'t_one');
SELECT change, key, before, after FROM chronicle.diff(NULL::cart_items, from_known => '-infinity') ORDER BY key;

-------------------------------------------------------------------------------
-- 3. ON CONFLICT, COPY, a key change, DELETE
-------------------------------------------------------------------------------
SELECT max(position) AS p FROM cart_items_events \gset
-- An upsert that finds the row is an update of the columns it set.
INSERT INTO cart_items VALUES ('cart-1', 'trousers', 1)
  ON CONFLICT (cart_id, sku) DO UPDATE SET qty = cart_items.qty + excluded.qty;
-- One that does not is an insert; DO NOTHING records nothing.
INSERT INTO cart_items VALUES ('cart-2', 'socks', 2)
  ON CONFLICT (cart_id, sku) DO UPDATE SET qty = cart_items.qty + excluded.qty;
INSERT INTO cart_items VALUES ('cart-2', 'socks', 9) ON CONFLICT DO NOTHING;
-- COPY rows are inserts like any other.
COPY cart_items (cart_id, sku, qty) FROM STDIN;
cart-3	scarf	1
cart-3	gloves	2
\.
-- Changing the primary key is a delete of the old key and an insert of the new.
UPDATE cart_items SET sku = 'mittens' WHERE cart_id = 'cart-3' AND sku = 'gloves';
DELETE FROM cart_items WHERE cart_id = 'cart-1' AND sku = 'hat';
SELECT position, stream, type, payload, assigned
  FROM cart_items_events WHERE position > :p ORDER BY position;
SELECT as_of_is_table('cart_items');

-------------------------------------------------------------------------------
-- 4. Valid time: backdated, bounded and post-dated changes, meta
-------------------------------------------------------------------------------
SELECT max(position) AS p FROM cart_items_events \gset
-- A change made today that was true since 2020-01-01 (backdated): the row
-- exists now, and as of 2020.
BEGIN;
SET LOCAL chronicle.valid_from = '2020-01-01';
SET LOCAL chronicle.meta = '{"reason": "order placed by phone in 2020"}';
INSERT INTO cart_items VALUES ('cart-4', 'coat', 1);
COMMIT;
-- A correction bounded in the past (two coats from March to May 2020): it is
-- recorded, but the table keeps the state valid now.
BEGIN;
SET LOCAL chronicle.valid_from = '2020-03-01';
SET LOCAL chronicle.valid_to = '2020-06-01';
SET LOCAL chronicle.meta = '{"reason": "second coat returned in June"}';
UPDATE cart_items SET qty = 2 WHERE cart_id = 'cart-4';
COMMIT;
SELECT * FROM cart_items WHERE cart_id = 'cart-4';
SELECT position, stream, type, payload, assigned, valid_from, valid_to, meta - 'user' AS meta,
       meta->>'user' = session_user AS by_session_user
  FROM cart_items_events WHERE position > :p ORDER BY position;
SELECT * FROM chronicle.as_of(NULL::cart_items, valid_at => '2019-12-31') ORDER BY cart_id, sku;
SELECT * FROM chronicle.as_of(NULL::cart_items, valid_at => '2020-02-01') ORDER BY cart_id, sku;
SELECT * FROM chronicle.as_of(NULL::cart_items, valid_at => '2020-04-01') ORDER BY cart_id, sku;
SELECT * FROM chronicle.as_of(NULL::cart_items, valid_at => '2020-07-01') ORDER BY cart_id, sku;
SELECT as_of_is_table('cart_items');
-- A bounded change that contains the present changes the table now, and
-- stops being true at its end.
BEGIN;
SET LOCAL chronicle.valid_to = '2100-01-01';
UPDATE cart_items SET qty = 5 WHERE cart_id = 'cart-2';
COMMIT;
SELECT * FROM cart_items WHERE cart_id = 'cart-2';
SELECT * FROM chronicle.as_of(NULL::cart_items, valid_at => '2100-01-01') WHERE cart_id = 'cart-2';
-- valid_from must be earlier than valid_to (SQLSTATE 22000).
BEGIN;
SET LOCAL chronicle.valid_from = '2020-06-01';
SET LOCAL chronicle.valid_to = '2020-03-01';
UPDATE cart_items SET qty = 3 WHERE cart_id = 'cart-4';
ROLLBACK;
-- A bad value is refused when it is SET.
SET chronicle.valid_from = 'garbage';
SET chronicle.meta = '"not an object"';

-- A post-dated change (true from three seconds from now) is recorded, and the
-- table keeps the state valid now until chronicle.apply_due() applies it.
SELECT max(position) AS p FROM cart_items_events \gset
SELECT clock_timestamp() + interval '3 seconds' AS due \gset
BEGIN;
SET LOCAL chronicle.valid_from = :'due';
INSERT INTO cart_items VALUES ('cart-5', 'umbrella', 1);
COMMIT;
SELECT count(*) AS umbrellas FROM cart_items WHERE cart_id = 'cart-5';
SELECT position, stream, type, valid_from = :'due' AS from_due
  FROM cart_items_events WHERE position > :p ORDER BY position;
SELECT * FROM chronicle.as_of(NULL::cart_items, valid_at => :'due') WHERE cart_id = 'cart-5';
SELECT as_of_is_table('cart_items');
-- Once it has fallen due, the table lags behind its history...
SELECT pg_sleep(greatest(0, extract(epoch FROM :'due'::timestamptz - clock_timestamp())) + 0.2);
SELECT as_of_is_table('cart_items');
-- ...until apply_due() brings it to the state valid now, recording nothing.
SELECT count(*) AS events_before FROM cart_items_events \gset
SELECT chronicle.apply_due('cart_items');
SELECT count(*) - :events_before AS new_events FROM cart_items_events;
SELECT * FROM cart_items WHERE cart_id = 'cart-5';
SELECT as_of_is_table('cart_items');
SELECT chronicle.apply_due('cart_items');

-------------------------------------------------------------------------------
-- 5. Schema changes
-------------------------------------------------------------------------------
SELECT max(position) AS p FROM cart_items_events \gset
SELECT max(recorded_at) AS t_before_ddl FROM cart_items_events \gset
-- A renamed column is followed, also by the changes made right after it.
ALTER TABLE cart_items RENAME COLUMN qty TO quantity;
UPDATE cart_items SET quantity = 4 WHERE sku = 'scarf';
SELECT * FROM chronicle.as_of(NULL::cart_items) WHERE sku = 'scarf';
SELECT as_of_is_table('cart_items');
ALTER TABLE cart_items ADD COLUMN note text;
UPDATE cart_items SET note = 'gift wrap' WHERE cart_id = 'cart-2';
SELECT max(recorded_at) AS t_note FROM cart_items_events \gset
ALTER TABLE cart_items ADD COLUMN price numeric(8,2);
UPDATE cart_items SET price = 49.90 WHERE sku = 'trousers';
ALTER TABLE cart_items DROP COLUMN note;
ALTER TABLE cart_items ALTER COLUMN quantity TYPE bigint;
-- An ALTER that changes no column records nothing.
ALTER TABLE cart_items ADD CONSTRAINT positive_quantity CHECK (quantity > 0);
-- Each column change is a schema event in stream '' (its columns shown here
-- as "name type").
SELECT type, stream,
       (SELECT string_agg(concat(c->>'name', ' ', c->>'type'), ', ' ORDER BY (c->>'attnum')::int)
          FROM jsonb_array_elements(payload->'columns') AS c) AS columns,
       assigned
  FROM cart_items_events WHERE position > :p ORDER BY position;
-- The past, with today's columns: renamed ones followed, added ones null,
-- dropped ones absent.
SELECT * FROM chronicle.as_of(NULL::cart_items, known_at => :'t_three') ORDER BY cart_id, sku;
SELECT * FROM chronicle.as_of(NULL::cart_items, known_at => :'t_note') ORDER BY cart_id, sku;
SELECT as_of_is_table('cart_items');
SELECT type, row, assigned
  FROM chronicle.history(NULL::cart_items, 'cart-1', 'trousers') ORDER BY position;
-- What changed since before the schema changes: a change to a column that
-- was dropped since is no visible change.
SELECT change, key, before, after
  FROM chronicle.diff(NULL::cart_items, from_known => :'t_before_ddl') ORDER BY key;

-------------------------------------------------------------------------------
-- 6. Restore
-------------------------------------------------------------------------------
-- Into a new table: the cart as known when the trousers were added. (INTO
-- is a reserved word of SQL: the parameter name must be quoted.)
SELECT chronicle.restore('cart_items', known_at => :'t_three', "into" => 'cart_items_then');
SELECT * FROM cart_items_then ORDER BY cart_id, sku;
-- The new table is an ordinary table, like the tracked one, and untracked.
SELECT count(*) AS tracked FROM chronicle.tracked_tables WHERE table_name = 'cart_items_then'::regclass;
-- A past valid time too: the two coats of April 2020.
SELECT chronicle.restore('cart_items', known_at => 'infinity', valid_at => '2020-04-01', "into" => 'cart_items_april');
SELECT * FROM cart_items_april ORDER BY cart_id, sku;

-- In place: a bad deploy empties cart-3, and the restore undoes it. The undo
-- is itself recorded, with meta saying what it was.
SELECT max(recorded_at) AS t_good FROM cart_items_events \gset
DELETE FROM cart_items WHERE cart_id = 'cart-3';
UPDATE cart_items SET quantity = 99 WHERE cart_id = 'cart-2';
SELECT max(position) AS p FROM cart_items_events \gset
SELECT chronicle.restore('cart_items', known_at => :'t_good');
SELECT * FROM cart_items ORDER BY cart_id, sku;
SELECT stream, type, assigned, meta->'restore' ? 'known_at' AS restore_meta
  FROM cart_items_events WHERE position > :p ORDER BY position;
SELECT as_of_is_table('cart_items');
-- Restoring the state it already has changes nothing.
SELECT chronicle.restore('cart_items', known_at => 'infinity');

-------------------------------------------------------------------------------
-- 7. A time-travel view
-------------------------------------------------------------------------------
CREATE SCHEMA history;
SELECT chronicle.create_time_travel_view('cart_items');
-- Without settings it shows now...
SELECT * FROM history.cart_items ORDER BY cart_id, sku;
-- ...and with chronicle.known_at / chronicle.valid_at, the past.
SET chronicle.known_at = :'t_three';
SELECT * FROM history.cart_items ORDER BY cart_id, sku;
RESET chronicle.known_at;
SET chronicle.valid_at = '2020-04-01';
SELECT * FROM history.cart_items ORDER BY cart_id, sku;
RESET chronicle.valid_at;

-------------------------------------------------------------------------------
-- 8. TRUNCATE, untrack, DROP TABLE: history stays
-------------------------------------------------------------------------------
-- A table with a one-column key: its stream is the key's text.
CREATE TABLE carts (cart_id integer PRIMARY KEY, status text NOT NULL);
INSERT INTO carts VALUES (1, 'open'), (2, 'open');
SELECT chronicle.track('carts');
UPDATE carts SET status = 'paid' WHERE cart_id = 1;
SELECT max(recorded_at) AS t_paid FROM carts_events \gset
-- TRUNCATE is one event for the whole table.
TRUNCATE carts;
INSERT INTO carts VALUES (3, 'open');
SELECT position, stream, type, payload, assigned FROM carts_events ORDER BY position;
SELECT * FROM chronicle.as_of(NULL::carts, known_at => :'t_paid') ORDER BY cart_id;
SELECT * FROM chronicle.as_of(NULL::carts) ORDER BY cart_id;

SELECT table_name, event_table, events FROM chronicle.tracked_tables ORDER BY table_name::text;

-- untrack: capture stops, the history stays readable.
SELECT chronicle.untrack('carts');
UPDATE carts SET status = 'abandoned';
INSERT INTO carts VALUES (4, 'open');
DELETE FROM carts WHERE cart_id = 3;
SELECT count(*) AS events FROM carts_events;
SELECT * FROM chronicle.as_of(NULL::carts, known_at => :'t_paid') ORDER BY cart_id;
SELECT * FROM chronicle.as_of(NULL::carts) ORDER BY cart_id;
SELECT type, row FROM chronicle.history(NULL::carts, 1) ORDER BY position;
SELECT table_name FROM chronicle.tracked_tables ORDER BY table_name::text;
-- Tracking it again continues the same history from the table as it is:
-- as_of is the table again.
SELECT max(position) AS p FROM carts_events \gset
SELECT chronicle.track('carts');
SELECT stream, type, payload FROM carts_events WHERE position > :p AND type = 'snapshot' ORDER BY position;
SELECT * FROM chronicle.as_of(NULL::carts) ORDER BY cart_id;
SELECT as_of_is_table('carts');

-- DROP TABLE: the event table and its history stay.
SELECT max(recorded_at) AS t_dropped FROM carts_events \gset
DROP TABLE carts;
SELECT count(*) > 0 AS history_kept FROM carts_events;
-- A new table of the same name continues the history when tracked: the
-- past is still there, and the present is the new table.
CREATE TABLE carts (cart_id integer PRIMARY KEY, status text NOT NULL);
SELECT chronicle.track('carts');
SELECT * FROM chronicle.as_of(NULL::carts, known_at => :'t_paid') ORDER BY cart_id;
SELECT * FROM chronicle.as_of(NULL::carts, known_at => :'t_dropped') ORDER BY cart_id;
SELECT * FROM chronicle.as_of(NULL::carts) ORDER BY cart_id;
SELECT as_of_is_table('carts');

-------------------------------------------------------------------------------
-- 9. A partitioned table, tracked through its parent
-------------------------------------------------------------------------------
CREATE TABLE orders (
  order_id integer,
  region   text,
  total    numeric NOT NULL,
  PRIMARY KEY (order_id, region)
) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu');
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
INSERT INTO orders VALUES (1, 'eu', 10);
SELECT chronicle.track('orders');
INSERT INTO orders VALUES (2, 'us', 20), (3, 'eu', 30);
SELECT max(recorded_at) AS t_orders FROM orders_events \gset
UPDATE orders SET total = 11 WHERE order_id = 1;
-- Moving a row to another partition changes its key: delete + insert.
UPDATE orders SET region = 'us' WHERE order_id = 3;
-- Writing to a partition directly is captured too.
DELETE FROM orders_us WHERE order_id = 2;
-- A partition created later is covered by the parent's capture triggers.
CREATE TABLE orders_ap PARTITION OF orders FOR VALUES IN ('ap');
INSERT INTO orders_ap VALUES (4, 'ap', 40);
SELECT stream, type, payload, assigned FROM orders_events ORDER BY position;
SELECT * FROM chronicle.as_of(NULL::orders, known_at => :'t_orders') ORDER BY order_id;
SELECT * FROM chronicle.as_of(NULL::orders) ORDER BY order_id;
SELECT as_of_is_table('orders');
-- TRUNCATE of one partition empties that partition in the history too.
TRUNCATE orders_us;
SELECT * FROM chronicle.as_of(NULL::orders) ORDER BY order_id;
SELECT as_of_is_table('orders');
-- Only the parent is listed.
SELECT table_name, event_table FROM chronicle.tracked_tables ORDER BY table_name::text;

-------------------------------------------------------------------------------
-- 10. A report across tables, unchanged, as of a past moment
-------------------------------------------------------------------------------
CREATE TABLE owners (id int PRIMARY KEY, name text);
CREATE TABLE pets (id int PRIMARY KEY, owner int REFERENCES owners, name text);
INSERT INTO owners VALUES (1, 'Ann'), (2, 'Bob');
INSERT INTO pets VALUES (10, 1, 'Rex'), (11, 2, 'Tom');
SELECT chronicle.track('owners'), chronicle.track('pets');
SELECT chronicle.create_time_travel_view('owners'), chronicle.create_time_travel_view('pets');
SELECT clock_timestamp() AS t_report \gset
UPDATE owners SET name = 'Anna' WHERE id = 1;
UPDATE pets SET owner = 1 WHERE id = 11;
DELETE FROM owners WHERE id = 2;
-- The report, as written for the live tables:
SELECT o.name AS owner, string_agg(p.name, ', ' ORDER BY p.name) AS pets
  FROM owners o JOIN pets p ON p.owner = o.id GROUP BY o.name ORDER BY o.name;
-- The same text, with the history schema first on search_path and a known_at:
SET search_path = history, public;
SET chronicle.known_at = :'t_report';
SELECT o.name AS owner, string_agg(p.name, ', ' ORDER BY p.name) AS pets
  FROM owners o JOIN pets p ON p.owner = o.id GROUP BY o.name ORDER BY o.name;
RESET chronicle.known_at;
RESET search_path;
