-- square in batches, in SQL
--
-- revision: b3
-- down_revision: b2
-- transactional: false

-- migrate:upgrade
ALTER TABLE items ADD COLUMN square BIGINT;
ALTER TABLE items ADD COLUMN square_runs INTEGER NOT NULL DEFAULT 0;
-- migrate:batch size=1000 pause=10ms max=1000
-- migrate:batch-rows SELECT COUNT(*) FROM items WHERE square IS NULL
UPDATE items SET square = n * n, square_runs = square_runs + 1
WHERE id IN (SELECT id FROM items WHERE square IS NULL ORDER BY id LIMIT {batch_size});

-- migrate:upgrade mysql
ALTER TABLE items ADD COLUMN square BIGINT;
ALTER TABLE items ADD COLUMN square_runs INTEGER NOT NULL DEFAULT 0;
-- migrate:batch size=1000 pause=10ms max=1000
-- migrate:batch-rows SELECT COUNT(*) FROM items WHERE square IS NULL
UPDATE items SET square = n * n, square_runs = square_runs + 1
WHERE square IS NULL ORDER BY id LIMIT {batch_size};

-- migrate:downgrade
ALTER TABLE items DROP COLUMN square_runs;
ALTER TABLE items DROP COLUMN square;
