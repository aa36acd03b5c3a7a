-- map ticket statuses to the new uppercase set
--
-- revision: 7e8f9a0b1c2d
-- down_revision: 5c6d7e8f9a0b
-- branch_labels:
-- depends_on:
-- create_date: 2025-03-01 08:00:00
--
-- A data migration that works on SQLite's limited ALTER TABLE too: a new column with
-- its final NOT NULL default, one set-based UPDATE, drop the old column, rename.

-- migrate:upgrade
ALTER TABLE tickets ADD COLUMN status_new VARCHAR(30) NOT NULL DEFAULT 'OPEN';
UPDATE tickets SET status_new = CASE status
    WHEN 'open' THEN 'OPEN'
    WHEN 'in_progress' THEN 'IN_PROGRESS'
    WHEN 'pending' THEN 'WAITING_ON_CUSTOMER'
    WHEN 'resolved' THEN 'RESOLVED'
    WHEN 'closed' THEN 'CLOSED'
    ELSE UPPER(status)
END;
ALTER TABLE tickets DROP COLUMN status;
ALTER TABLE tickets RENAME COLUMN status_new TO status;

-- migrate:downgrade
ALTER TABLE tickets ADD COLUMN status_old VARCHAR(20) NOT NULL DEFAULT 'open';
UPDATE tickets SET status_old = CASE status
    WHEN 'OPEN' THEN 'open'
    WHEN 'IN_PROGRESS' THEN 'in_progress'
    WHEN 'WAITING_ON_CUSTOMER' THEN 'pending'
    WHEN 'RESOLVED' THEN 'resolved'
    WHEN 'CLOSED' THEN 'closed'
    ELSE LOWER(status)
END;
ALTER TABLE tickets DROP COLUMN status;
ALTER TABLE tickets RENAME COLUMN status_old TO status;
