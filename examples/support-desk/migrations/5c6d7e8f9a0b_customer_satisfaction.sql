-- customer satisfaction ratings
--
-- revision: 5c6d7e8f9a0b
-- down_revision: 3f2a9c1b7d4e
-- branch_labels:
-- depends_on:
-- create_date: 2025-02-03 14:00:00

-- migrate:upgrade
CREATE TABLE customer_satisfaction (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    rating INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);

-- migrate:upgrade postgres
CREATE TABLE customer_satisfaction (
    id SERIAL PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    rating INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);

-- migrate:upgrade mysql
CREATE TABLE customer_satisfaction (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    ticket_id INTEGER NOT NULL,
    rating INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_customer_satisfaction_ticket FOREIGN KEY (ticket_id) REFERENCES tickets (id) ON DELETE CASCADE
);
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);

-- migrate:downgrade
DROP TABLE customer_satisfaction;
