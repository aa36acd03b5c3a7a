-- zero-downtime 4/5: score becomes NOT NULL
--
-- revision: b7c8d9e0f1a2
-- down_revision: a6b7c8d9e0f1
-- branch_labels:
-- depends_on:
-- create_date: 2025-04-10 09:00:00
--
-- SQLite cannot alter a column's nullability: the table is rebuilt inside the
-- migration's transaction (nothing references customer_satisfaction, so no foreign key
-- needs to be switched off).

-- migrate:upgrade sqlite
CREATE TABLE customer_satisfaction_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    rating INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    score INTEGER NOT NULL
);
INSERT INTO customer_satisfaction_new (id, ticket_id, rating, feedback, created_at, score)
    SELECT id, ticket_id, rating, feedback, created_at, score FROM customer_satisfaction;
DROP TABLE customer_satisfaction;
ALTER TABLE customer_satisfaction_new RENAME TO customer_satisfaction;
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);
CREATE INDEX ix_customer_satisfaction_score ON customer_satisfaction (score);

-- migrate:upgrade postgres
ALTER TABLE customer_satisfaction ALTER COLUMN score SET NOT NULL;

-- migrate:upgrade mysql
ALTER TABLE customer_satisfaction MODIFY score INTEGER NOT NULL;

-- migrate:downgrade sqlite
CREATE TABLE customer_satisfaction_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    rating INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    score INTEGER NULL
);
INSERT INTO customer_satisfaction_old (id, ticket_id, rating, feedback, created_at, score)
    SELECT id, ticket_id, rating, feedback, created_at, score FROM customer_satisfaction;
DROP TABLE customer_satisfaction;
ALTER TABLE customer_satisfaction_old RENAME TO customer_satisfaction;
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);
CREATE INDEX ix_customer_satisfaction_score ON customer_satisfaction (score);

-- migrate:downgrade postgres
ALTER TABLE customer_satisfaction ALTER COLUMN score DROP NOT NULL;

-- migrate:downgrade mysql
ALTER TABLE customer_satisfaction MODIFY score INTEGER NULL;
