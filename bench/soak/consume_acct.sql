-- a member of group h: consume a batch of acct's events, fold it into the read model
-- and commit the offset, in one transaction (exactly once)
BEGIN;
WITH b AS (SELECT position FROM chronicle.consume('h', 'acct', 100)),
     agg AS (SELECT count(*) AS n, sum(position) AS s, max(position) AS m FROM b),
     u AS (UPDATE proj SET n = proj.n + agg.n, s = proj.s + agg.s, last = agg.m
             FROM agg WHERE proj.grp = 'h' AND agg.n > 0 RETURNING proj.last)
SELECT chronicle.commit('h', 'acct', last) FROM u;
COMMIT;
