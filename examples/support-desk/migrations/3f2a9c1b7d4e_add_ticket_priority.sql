-- add ticket priority column
--
-- revision: 3f2a9c1b7d4e
-- down_revision: 1a2b3c4d5e6f
-- branch_labels:
-- depends_on:
-- create_date: 2025-01-15 10:30:00

-- migrate:upgrade
ALTER TABLE tickets ADD COLUMN priority VARCHAR(20) DEFAULT 'normal';
CREATE INDEX ix_tickets_priority ON tickets (priority);

-- migrate:downgrade
DROP INDEX ix_tickets_priority;
ALTER TABLE tickets DROP COLUMN priority;

-- migrate:downgrade mysql
DROP INDEX ix_tickets_priority ON tickets;
ALTER TABLE tickets DROP COLUMN priority;
