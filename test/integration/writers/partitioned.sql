-- pgbench script shared by read_follow.sh and wal2json.sh: events in the partitioned table evp and in ev, one transaction.
-- Clients write disjoint streams (client_id): no version conflict, no deadlock.
\set k random(1, 20)
BEGIN;
SELECT position FROM chronicle.append('evp', 'p' || :client_id || '-' || :k, 'multi', jsonb_build_object('n', 1));
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'with-evp', jsonb_build_object('n', 2));
SELECT position FROM chronicle.append('evp', 'p' || :client_id || '-' || (:k + 1), 'multi', jsonb_build_object('n', 3));
COMMIT;
