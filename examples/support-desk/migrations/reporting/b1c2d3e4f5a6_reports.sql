-- reports
--
-- revision: b1c2d3e4f5a6
-- down_revision:
-- branch_labels: reporting
-- depends_on: 1a2b3c4d5e6f
-- create_date: 2025-02-20 11:00:00

-- migrate:upgrade
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL,
    created_by INTEGER NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- migrate:upgrade postgres
CREATE TABLE reports (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    created_by INTEGER NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- migrate:upgrade mysql
CREATE TABLE reports (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    created_by INTEGER NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_reports_created_by FOREIGN KEY (created_by) REFERENCES users (id)
);

-- migrate:downgrade
DROP TABLE reports;
