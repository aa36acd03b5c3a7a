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
CREATE INDEX ix_customer_satisfaction_rating ON customer_satisfaction (rating);
