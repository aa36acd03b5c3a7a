-- merge the reporting branch
--
-- revision: d3e4f5a6b7c8
-- down_revision: 9a0b1c2d3e4f, c2d3e4f5a6b7
-- branch_labels:
-- depends_on:
-- create_date: 2025-03-12 09:00:00

-- migrate:upgrade

-- migrate:downgrade
