-- append(): one event on one of 1000 shared streams (a same-stream race is
-- a documented 40001)
\set s random(1, 1000)
SELECT chronicle.append('ev', 's-' || :s, 'Added', jsonb_build_object('n', :s, 'c', :client_id), meta => '{"by": "soak"}');
