-- zero-downtime 1/5: add nullable score beside rating
--
-- revision: e4f5a6b7c8d9
-- down_revision: d3e4f5a6b7c8
-- branch_labels:
-- depends_on:
-- create_date: 2025-04-01 09:00:00

-- migrate:upgrade
ALTER TABLE customer_satisfaction ADD COLUMN score INTEGER NULL;

-- migrate:downgrade
ALTER TABLE customer_satisfaction DROP COLUMN score;
