-- state(): the fold of one shared stream
\set s random(1, 1000)
SELECT chronicle.state('ev', 's-' || :s);
