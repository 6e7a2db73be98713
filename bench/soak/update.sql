-- CRUD: UPDATE one row of the tracked table
\set id random(1, 12000)
UPDATE acct SET bal = bal + 1 WHERE id = :id;
