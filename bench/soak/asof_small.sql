-- as_of whole table: the small tracked table, now and 10 s ago
SELECT count(*), sum(v) FROM chronicle.as_of(NULL::small);
SELECT count(*), sum(v) FROM chronicle.as_of(NULL::small, known_at => clock_timestamp() - interval '10 s');
