-- scheduled reports
--
-- revision: c2d3e4f5a6b7
-- down_revision: b1c2d3e4f5a6
-- branch_labels:
-- depends_on:
-- create_date: 2025-02-27 11:00:00

-- migrate:upgrade
CREATE TABLE scheduled_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    cron VARCHAR(100) NOT NULL,
    next_run_at TIMESTAMP NULL
);

-- migrate:upgrade postgres
CREATE TABLE scheduled_reports (
    id SERIAL PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    cron VARCHAR(100) NOT NULL,
    next_run_at TIMESTAMP NULL
);

-- migrate:upgrade mysql
CREATE TABLE scheduled_reports (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    report_id INTEGER NOT NULL,
    cron VARCHAR(100) NOT NULL,
    next_run_at TIMESTAMP NULL,
    CONSTRAINT fk_scheduled_reports_report FOREIGN KEY (report_id) REFERENCES reports (id) ON DELETE CASCADE
);

-- migrate:downgrade
DROP TABLE scheduled_reports;
