-- CRUD on the small tracked table, whose whole history as_of folds
\set id random(1, 100)
UPDATE small SET v = v + 1 WHERE id = :id;
