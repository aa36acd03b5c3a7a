-- marks, with the one that makes p2 panic, and items for r3 to walk
--
-- revision: a1
-- down_revision:

-- migrate:upgrade
CREATE TABLE marks (id INTEGER PRIMARY KEY, note VARCHAR(20) NOT NULL);
INSERT INTO marks (id, note) VALUES (1, 'panic');
CREATE TABLE items (id INTEGER PRIMARY KEY, stop INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0);
INSERT INTO items (id) VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9), (10);

-- migrate:downgrade
DROP TABLE items;
DROP TABLE marks;
