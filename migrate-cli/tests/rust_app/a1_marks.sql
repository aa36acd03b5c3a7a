-- marks, with the one that makes p2 panic
--
-- revision: a1
-- down_revision:

-- migrate:upgrade
CREATE TABLE marks (id INTEGER PRIMARY KEY, note VARCHAR(20) NOT NULL);
INSERT INTO marks (id, note) VALUES (1, 'panic');

-- migrate:downgrade
DROP TABLE marks;
