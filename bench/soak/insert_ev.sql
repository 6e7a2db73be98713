-- plain INSERT of two events into the event table, on the client's own
-- streams (two clients inserting into one stream at once fail with 23505)
\set s random(1, 100)
INSERT INTO ev (stream, type, payload) VALUES ('i-' || :client_id || '-' || :s, 'Inserted', '{"a": 1}'),
  ('i-' || :client_id || '-' || (:s % 100 + 1), 'Inserted', '{"b": 2}');
