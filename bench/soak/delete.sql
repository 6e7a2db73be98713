-- CRUD: DELETE one row of the tracked table
\set id random(1, 12000)
DELETE FROM acct WHERE id = :id;
