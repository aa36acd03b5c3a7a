-- create users
--
-- revision: a1b2c3d4e5f6
-- down_revision:
-- branch_labels:
-- depends_on:
-- create_date: 2025-01-15 10:30:00

-- migrate:upgrade
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- migrate:downgrade
DROP TABLE users;
