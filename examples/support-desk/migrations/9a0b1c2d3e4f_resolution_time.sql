-- resolution time of resolved tickets
--
-- revision: 9a0b1c2d3e4f
-- down_revision: 7e8f9a0b1c2d
-- branch_labels:
-- depends_on:
-- create_date: 2025-03-10 16:45:00
--
-- Computed set-based in four batches (by id modulo 4), each one UPDATE, so no statement
-- touches the whole table at once and nothing runs row by row.

-- migrate:upgrade
ALTER TABLE tickets ADD COLUMN resolution_time_seconds INTEGER NULL;
UPDATE tickets SET resolution_time_seconds = CAST(ROUND((julianday(resolved_at) - julianday(created_at)) * 86400) AS INTEGER) WHERE resolved_at IS NOT NULL AND id % 4 = 0;
UPDATE tickets SET resolution_time_seconds = CAST(ROUND((julianday(resolved_at) - julianday(created_at)) * 86400) AS INTEGER) WHERE resolved_at IS NOT NULL AND id % 4 = 1;
UPDATE tickets SET resolution_time_seconds = CAST(ROUND((julianday(resolved_at) - julianday(created_at)) * 86400) AS INTEGER) WHERE resolved_at IS NOT NULL AND id % 4 = 2;
UPDATE tickets SET resolution_time_seconds = CAST(ROUND((julianday(resolved_at) - julianday(created_at)) * 86400) AS INTEGER) WHERE resolved_at IS NOT NULL AND id % 4 = 3;

-- migrate:upgrade postgres
ALTER TABLE tickets ADD COLUMN resolution_time_seconds INTEGER NULL;
UPDATE tickets SET resolution_time_seconds = CAST(EXTRACT(EPOCH FROM (resolved_at - created_at)) AS INTEGER) WHERE resolved_at IS NOT NULL AND id % 4 = 0;
UPDATE tickets SET resolution_time_seconds = CAST(EXTRACT(EPOCH FROM (resolved_at - created_at)) AS INTEGER) WHERE resolved_at IS NOT NULL AND id % 4 = 1;
UPDATE tickets SET resolution_time_seconds = CAST(EXTRACT(EPOCH FROM (resolved_at - created_at)) AS INTEGER) WHERE resolved_at IS NOT NULL AND id % 4 = 2;
UPDATE tickets SET resolution_time_seconds = CAST(EXTRACT(EPOCH FROM (resolved_at - created_at)) AS INTEGER) WHERE resolved_at IS NOT NULL AND id % 4 = 3;

-- migrate:upgrade mysql
ALTER TABLE tickets ADD COLUMN resolution_time_seconds INTEGER NULL;
UPDATE tickets SET resolution_time_seconds = TIMESTAMPDIFF(SECOND, created_at, resolved_at) WHERE resolved_at IS NOT NULL AND id % 4 = 0;
UPDATE tickets SET resolution_time_seconds = TIMESTAMPDIFF(SECOND, created_at, resolved_at) WHERE resolved_at IS NOT NULL AND id % 4 = 1;
UPDATE tickets SET resolution_time_seconds = TIMESTAMPDIFF(SECOND, created_at, resolved_at) WHERE resolved_at IS NOT NULL AND id % 4 = 2;
UPDATE tickets SET resolution_time_seconds = TIMESTAMPDIFF(SECOND, created_at, resolved_at) WHERE resolved_at IS NOT NULL AND id % 4 = 3;

-- migrate:downgrade
ALTER TABLE tickets DROP COLUMN resolution_time_seconds;
