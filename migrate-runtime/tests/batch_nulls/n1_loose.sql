-- a table whose walk key may be NULL
--
-- revision: n1
-- down_revision:

-- migrate:upgrade
CREATE TABLE loose (id INTEGER PRIMARY KEY, k INTEGER, a INTEGER NOT NULL DEFAULT 0, b_runs INTEGER NOT NULL DEFAULT 0);

-- migrate:downgrade
DROP TABLE loose;
