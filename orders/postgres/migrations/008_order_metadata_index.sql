-- ListOrders filters by metadata with o.metadata @> $n::jsonb (every given key with
-- exactly that value). jsonb_path_ops serves @> with a smaller index than the default
-- jsonb_ops, which chatpay does not need: it never asks whether a key exists alone.
-- The planner combines it with orders_shop_id_idx (BitmapAnd) or, for a common
-- value, walks that index and filters; either way the shop condition still applies.
-- Orders never change their metadata after insert, so the index costs only at insert
-- and does not turn status updates into non-HOT ones. Built in the migration's
-- transaction (CREATE INDEX CONCURRENTLY cannot run in one): it blocks writes to
-- orders while it builds, which is brief at chatpay's table sizes.
CREATE INDEX orders_metadata_idx ON orders USING gin (metadata jsonb_path_ops);
