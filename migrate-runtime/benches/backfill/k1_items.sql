-- items to backfill
--
-- revision: k1
-- down_revision:

-- migrate:upgrade
CREATE TABLE items (id INTEGER PRIMARY KEY, n BIGINT NOT NULL, v BIGINT, w BIGINT);
CREATE INDEX ix_items_w ON items (w);
