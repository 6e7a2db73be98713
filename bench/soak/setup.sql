-- bench/soak/setup.sql: the soak database (bench/soak.sh).
-- ev: an event table of 1000 shared streams (s-1 … s-1000) written by
-- append() and by plain INSERT (streams i-<client>-<n>, one client each).
-- acct: a tracked table of ~10,000 rows under random single-row CRUD.
-- small: a tracked table of 100 rows, updated now and then, read whole as of.
-- proj: the read models of two consumer groups (g on ev, h on acct's
-- events): how many events each processed and the sum of their positions,
-- updated in the transaction that commits the group's offset.
CREATE EXTENSION chronicle;
SELECT chronicle.create_event_table('ev');
CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL, note text);
INSERT INTO acct SELECT i, 100, 'initial' FROM generate_series(1, 10000) i;
SELECT chronicle.track('acct');
CREATE TABLE small (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO small SELECT i, 0 FROM generate_series(1, 100) i;
SELECT chronicle.track('small');
CREATE TABLE proj (grp text PRIMARY KEY, n bigint NOT NULL, s numeric NOT NULL, last bigint NOT NULL);
INSERT INTO proj VALUES ('g', 0, 0, 0), ('h', 0, 0, 0);
SELECT chronicle.reset('g', 'ev'), chronicle.reset('h', 'acct');
VACUUM ANALYZE;
