-- zero-downtime 3/5: index score without blocking writes
--
-- revision: a6b7c8d9e0f1
-- down_revision: f5a6b7c8d9e0
-- branch_labels:
-- depends_on:
-- create_date: 2025-04-03 09:00:00
-- transactional: false

-- migrate:upgrade
CREATE INDEX ix_customer_satisfaction_score ON customer_satisfaction (score);

-- migrate:upgrade postgres
CREATE INDEX CONCURRENTLY ix_customer_satisfaction_score ON customer_satisfaction (score);

-- migrate:downgrade
DROP INDEX ix_customer_satisfaction_score;

-- migrate:downgrade postgres
DROP INDEX CONCURRENTLY ix_customer_satisfaction_score;

-- migrate:downgrade mysql
DROP INDEX ix_customer_satisfaction_score ON customer_satisfaction;
