-- zero-downtime 5/5: drop the old rating column
--
-- revision: c8d9e0f1a2b3
-- down_revision: b7c8d9e0f1a2
-- branch_labels:
-- depends_on:
-- create_date: 2025-04-20 09:00:00

-- migrate:upgrade
DROP INDEX ix_customer_satisfaction_rating;
ALTER TABLE customer_satisfaction DROP COLUMN rating;

-- migrate:upgrade mysql
DROP INDEX ix_customer_satisfaction_rating ON customer_satisfaction;
ALTER TABLE customer_satisfaction DROP COLUMN rating;

-- migrate:downgrade
ALTER TABLE customer_satisfaction ADD COLUMN rating INTEGER NULL;
UPDATE customer_satisfaction SET rating = score;
ALTER TABLE customer_satisfaction ALTER COLUMN rating SET NOT NULL;
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);

-- migrate:downgrade mysql
ALTER TABLE customer_satisfaction ADD COLUMN rating INTEGER NULL;
UPDATE customer_satisfaction SET rating = score;
ALTER TABLE customer_satisfaction MODIFY rating INTEGER NOT NULL;
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);

-- migrate:downgrade sqlite
-- rating was NOT NULL: SQLite adds it back by rebuilding the table.
CREATE TABLE customer_satisfaction_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    rating INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    score INTEGER NOT NULL
);
INSERT INTO customer_satisfaction_old (id, ticket_id, rating, feedback, created_at, score)
    SELECT id, ticket_id, score, feedback, created_at, score FROM customer_satisfaction;
DROP TABLE customer_satisfaction;
ALTER TABLE customer_satisfaction_old RENAME TO customer_satisfaction;
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);
CREATE INDEX ix_customer_satisfaction_score ON customer_satisfaction (score);
