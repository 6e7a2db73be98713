-- as_of keyed: one row of the tracked table, now and 2 s ago
\set id random(1, 12000)
SELECT * FROM chronicle.as_of(NULL::acct, NULL, NULL, :id);
SELECT * FROM chronicle.as_of(NULL::acct, clock_timestamp() - interval '2 s', NULL, :id);
