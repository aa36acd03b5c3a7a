-- items to backfill
--
-- revision: b1
-- down_revision:

-- migrate:upgrade
CREATE TABLE items (id INTEGER PRIMARY KEY, n BIGINT NOT NULL, twice BIGINT, twice_runs INTEGER NOT NULL DEFAULT 0);

-- migrate:downgrade
DROP TABLE items;
