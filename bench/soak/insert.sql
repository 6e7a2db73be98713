-- CRUD: INSERT … ON CONFLICT on the tracked table (an insert or an update)
\set id random(1, 12000)
INSERT INTO acct VALUES (:id, 100, 'upserted') ON CONFLICT (id) DO UPDATE SET bal = acct.bal + 1, note = 'upserted';
