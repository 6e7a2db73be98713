-- a member of group g: consume a batch of ev, fold it into the read model
-- and commit the offset, in one transaction (exactly once)
BEGIN;
WITH b AS (SELECT position FROM chronicle.consume('g', 'ev', 100)),
     agg AS (SELECT count(*) AS n, sum(position) AS s, max(position) AS m FROM b),
     u AS (UPDATE proj SET n = proj.n + agg.n, s = proj.s + agg.s, last = agg.m
             FROM agg WHERE proj.grp = 'g' AND agg.n > 0 RETURNING proj.last)
SELECT chronicle.commit('g', 'ev', last) FROM u;
COMMIT;
