-- Corrections, retractions, valid time, history and timeline (SPEC §2–§3).
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SELECT chronicle.create_event_table('prices');

-- A price valid through January, then a new price from February on.
SELECT * FROM chronicle.append('prices', 'sku-1', 'PriceSet', '{"price": 10}',
                               valid_from => '2026-01-01', valid_to => '2026-02-01');
SELECT * FROM chronicle.append('prices', 'sku-1', 'PriceSet', '{"price": 12}',
                               valid_from => '2026-02-01');
SELECT chronicle.state('prices', 'sku-1', valid_at => '2026-01-15');
SELECT chronicle.state('prices', 'sku-1', valid_at => '2026-03-01');
SELECT chronicle.state('prices', 'sku-1', valid_at => '2025-12-31');

-- A backdated event replays in valid-time order, before the later ones.
SELECT * FROM chronicle.append('prices', 'sku-1', 'Listed', '{"name": "Trousers"}',
                               valid_from => '2025-12-01');
SELECT replay, position, type, payload, valid_from, valid_to FROM chronicle.events('prices', 'sku-1');
SELECT replay, position, payload FROM chronicle.events('prices', 'sku-1', valid_at => '2026-01-10');

-- The January price was wrong: the correction keeps the event's type,
-- valid range and place in replay order.
SELECT * FROM chronicle.correct('prices', 1, '{"price": 9}');
SELECT replay, position, type, payload, valid_from, valid_to, supersedes
  FROM chronicle.events('prices', 'sku-1');
SELECT chronicle.state('prices', 'sku-1', valid_at => '2026-01-15');
-- As known before the correction, January still had price 10.
SELECT chronicle.state('prices', 'sku-1', valid_at => '2026-01-15',
                       known_at => (SELECT recorded_at FROM prices WHERE position = 4) - interval '1 microsecond');

-- Correcting it again is an error: correct the correction instead.
SELECT * FROM chronicle.correct('prices', 1, '{"price": 8}');
SELECT * FROM chronicle.correct('prices', 4, '{"price": 8}');
SELECT position, payload, supersedes FROM chronicle.events('prices', 'sku-1') ORDER BY replay;

-- A retraction removes the event; both disappear.
SELECT * FROM chronicle.retract('prices', 3, meta => '{"reason": "listing was a mistake"}');
SELECT replay, position, type, payload FROM chronicle.events('prices', 'sku-1');
SELECT * FROM chronicle.retract('prices', 3);
SELECT * FROM chronicle.correct('prices', 42, '{}');

-- History: every event with its transaction-time range; superseded events
-- end when their successor was recorded.
SELECT position, version, type, payload, supersedes,
       superseded_at = 'infinity' AS current,
       superseded_at = (SELECT recorded_at FROM prices p WHERE p.supersedes = h.position) AS ends_at_successor
  FROM chronicle.history('prices', 'sku-1') h;

-- Timeline: the state over valid time, adjacent equal periods coalesced.
SELECT * FROM chronicle.timeline('prices', 'sku-1');
SELECT * FROM chronicle.append('prices', 'sku-2', 'PriceSet', '{"price": 5}', valid_from => '2026-01-01', valid_to => '2026-02-01');
SELECT * FROM chronicle.append('prices', 'sku-2', 'PriceSet', '{"price": 5}', valid_from => '2026-02-01', valid_to => '2026-03-01');
SELECT * FROM chronicle.append('prices', 'sku-2', 'PriceSet', '{"price": 6}', valid_from => '2026-04-01', valid_to => '2026-05-01');
SELECT * FROM chronicle.timeline('prices', 'sku-2');

-- A bad valid range is refused.
SELECT * FROM chronicle.append('prices', 'sku-3', 'PriceSet', '{}', valid_from => '2026-02-01', valid_to => '2026-01-01');

-- Erasure (GDPR) needs chronicle_admin; it leaves tombstones and records itself.
CREATE ROLE regress_clerk;
GRANT SELECT, INSERT ON prices TO regress_clerk;
SET ROLE regress_clerk;
SELECT chronicle.erase('prices', 'sku-2');
RESET ROLE;
GRANT chronicle_admin TO regress_clerk;
SET ROLE regress_clerk;
SELECT chronicle.erase('prices', 'sku-2');
RESET ROLE;
SELECT position, version, type, payload, meta - 'erased_by' AS meta FROM prices WHERE stream = 'sku-2' ORDER BY position;
SELECT chronicle.state('prices', 'sku-2', valid_at => '2026-01-15');
DROP OWNED BY regress_clerk;
DROP ROLE regress_clerk;
