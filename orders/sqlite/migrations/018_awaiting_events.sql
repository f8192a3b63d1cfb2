-- Gateway events about a payment chatpay has not recorded yet (a refund delivered
-- before its checkout's webhook) wait with outcome 'awaiting_payment' until the
-- transaction that records the payment applies them. It finds them by this index,
-- which holds only the waiting events, so it stays small however many events are
-- recorded. dispute keeps a waiting dispute event's details (orders.DisputeDetails as
-- JSON), which the other columns do not hold and the payload cannot give back without
-- its gateway; NULL for every other event.
ALTER TABLE gateway_events ADD COLUMN dispute TEXT;
CREATE INDEX gateway_events_awaiting ON gateway_events (shop_id, gateway, payment_ref, received_at, event_id)
    WHERE outcome = 'awaiting_payment';
