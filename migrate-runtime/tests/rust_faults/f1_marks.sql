-- marks the Rust migrations leave, and the switches that make them fail
--
-- revision: f1
-- down_revision:

-- migrate:upgrade
CREATE TABLE marks (id INTEGER PRIMARY KEY, note VARCHAR(20) NOT NULL);

-- migrate:downgrade
DROP TABLE marks;
