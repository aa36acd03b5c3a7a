-- Satisfaction scores, one or more per ticket.

-- migrate:schema
CREATE TABLE customer_satisfaction (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    score INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_score ON customer_satisfaction (score);

-- migrate:schema postgres
CREATE TABLE customer_satisfaction (
    id SERIAL PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    score INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_score ON customer_satisfaction (score);

-- migrate:schema mysql
CREATE TABLE customer_satisfaction (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    ticket_id INTEGER NOT NULL,
    score INTEGER NOT NULL,
    feedback TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_customer_satisfaction_ticket FOREIGN KEY (ticket_id) REFERENCES tickets (id) ON DELETE CASCADE
);
CREATE INDEX ix_customer_satisfaction_ticket_id ON customer_satisfaction (ticket_id);
CREATE INDEX ix_customer_satisfaction_score ON customer_satisfaction (score);
