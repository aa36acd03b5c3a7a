-- resolution time of resolved tickets
--
-- revision: 9a0b1c2d3e4f
-- down_revision: 7e8f9a0b1c2d
-- branch_labels:
-- depends_on:
-- create_date: 2025-03-10 16:45:00
-- transactional: false
--
-- Backfilled in batches of 1,000 tickets, each committed on its own, as the guide's loop
-- does: no transaction holds the table for long, and a run that stops (a crash, a
-- deploy killed half-way) continues where it stood when run again. The version row
-- moves once every batch is done.

-- migrate:upgrade
ALTER TABLE tickets ADD COLUMN resolution_time_seconds INTEGER NULL;
-- migrate:batch size=1000
-- migrate:batch-rows SELECT COUNT(*) FROM tickets WHERE resolved_at IS NOT NULL AND resolution_time_seconds IS NULL
UPDATE tickets SET resolution_time_seconds = CAST(ROUND((julianday(resolved_at) - julianday(created_at)) * 86400) AS INTEGER)
WHERE id IN (SELECT id FROM tickets WHERE resolved_at IS NOT NULL AND resolution_time_seconds IS NULL ORDER BY id LIMIT {batch_size});

-- migrate:upgrade postgres
ALTER TABLE tickets ADD COLUMN resolution_time_seconds INTEGER NULL;
-- migrate:batch size=1000
-- migrate:batch-rows SELECT COUNT(*) FROM tickets WHERE resolved_at IS NOT NULL AND resolution_time_seconds IS NULL
UPDATE tickets SET resolution_time_seconds = CAST(EXTRACT(EPOCH FROM (resolved_at - created_at)) AS INTEGER)
WHERE id IN (SELECT id FROM tickets WHERE resolved_at IS NOT NULL AND resolution_time_seconds IS NULL ORDER BY id LIMIT {batch_size});

-- migrate:upgrade mysql
ALTER TABLE tickets ADD COLUMN resolution_time_seconds INTEGER NULL;
-- migrate:batch size=1000
-- migrate:batch-rows SELECT COUNT(*) FROM tickets WHERE resolved_at IS NOT NULL AND resolution_time_seconds IS NULL
UPDATE tickets SET resolution_time_seconds = TIMESTAMPDIFF(SECOND, created_at, resolved_at)
WHERE resolved_at IS NOT NULL AND resolution_time_seconds IS NULL ORDER BY id LIMIT {batch_size};

-- migrate:downgrade
ALTER TABLE tickets DROP COLUMN resolution_time_seconds;
