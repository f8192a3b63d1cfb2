-- ListOrders filtered by status or payment status walks these newest first. 001 left
-- status unindexed so that status changes stay HOT updates, and a common status is
-- found quickly by walking orders_shop_id_idx; but a rare one (a refunded or disputed
-- payment, a status no order has yet) makes that walk read every order of the shop,
-- over 50 ms at p95 for 100,000 orders. The cost: changing status or payment status
-- (a few times in an order's life) is no longer a HOT update and writes an entry in
-- each of the orders indexes. Both columns change together at payment, so the second
-- index adds little once the first exists.
CREATE INDEX orders_shop_status_idx ON orders (shop_id, status, id);
CREATE INDEX orders_shop_payment_status_idx ON orders (shop_id, payment_status, id);
