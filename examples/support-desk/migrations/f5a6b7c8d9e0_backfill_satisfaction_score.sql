-- zero-downtime 2/5: backfill score from rating
--
-- revision: f5a6b7c8d9e0
-- down_revision: e4f5a6b7c8d9
-- branch_labels:
-- depends_on:
-- create_date: 2025-04-02 09:00:00

-- migrate:upgrade
UPDATE customer_satisfaction SET score = rating WHERE score IS NULL;

-- migrate:downgrade
