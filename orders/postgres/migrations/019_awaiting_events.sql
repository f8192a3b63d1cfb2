-- Gateway events about a payment chatpay has not recorded yet (a refund delivered
-- before its checkout's webhook) wait with outcome 'awaiting_payment' until the
-- transaction that records the payment applies them, finding them by their
-- payment_ref. The index leaves out the outcome on purpose: every event's outcome is
-- written after its insert (SetEventOutcome), and that update stays HOT (the table's
-- fillfactor is for it) only while no index names the outcome, also in its WHERE.
-- Events without a payment_ref can never wait and are left out. Migrations run in a
-- transaction, so this cannot be built CONCURRENTLY: webhooks wait for the build,
-- about a second per million events.
--
-- dispute keeps a waiting dispute event's details (orders.DisputeDetails), which the
-- other columns do not hold and the payload cannot give back without its gateway;
-- NULL for every other event. A column without a default rewrites nothing.
ALTER TABLE gateway_events ADD COLUMN dispute jsonb;
CREATE INDEX gateway_events_payment_ref_idx ON gateway_events (shop_id, gateway, payment_ref)
    WHERE payment_ref <> '';
