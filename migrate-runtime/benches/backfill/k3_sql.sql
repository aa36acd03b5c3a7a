-- w in batches of 1,000, with a batched statement
--
-- revision: k3
-- down_revision: k2
-- transactional: false

-- migrate:upgrade
-- migrate:batch size=1000
UPDATE items SET w = n * 3 WHERE id IN (SELECT id FROM items WHERE w IS NULL LIMIT {batch_size});

-- migrate:upgrade mysql
-- migrate:batch size=1000
UPDATE items SET w = n * 3 WHERE w IS NULL LIMIT {batch_size};
