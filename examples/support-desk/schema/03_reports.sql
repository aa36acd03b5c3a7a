-- The reporting branch: saved reports and their schedules.

-- migrate:schema
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL,
    created_by INTEGER NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE scheduled_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    cron VARCHAR(100) NOT NULL,
    next_run_at TIMESTAMP NULL
);

-- migrate:schema postgres
CREATE TABLE reports (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    created_by INTEGER NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE scheduled_reports (
    id SERIAL PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    cron VARCHAR(100) NOT NULL,
    next_run_at TIMESTAMP NULL
);

-- migrate:schema mysql
CREATE TABLE reports (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    created_by INTEGER NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_reports_created_by FOREIGN KEY (created_by) REFERENCES users (id)
);
CREATE TABLE scheduled_reports (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    report_id INTEGER NOT NULL,
    cron VARCHAR(100) NOT NULL,
    next_run_at TIMESTAMP NULL,
    CONSTRAINT fk_scheduled_reports_report FOREIGN KEY (report_id) REFERENCES reports (id) ON DELETE CASCADE
);
