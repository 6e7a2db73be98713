-- pgbench script shared by read_follow.sh and wal2json.sh: one event per transaction.
-- Clients write disjoint streams (client_id): no version conflict, no deadlock.
\set k random(1, 20)
SELECT position FROM chronicle.append('ev', 's' || :client_id || '-' || :k, 'single', jsonb_build_object('c', :client_id));
