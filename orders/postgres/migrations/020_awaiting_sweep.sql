-- The sweep job gives up gateway events that waited for their payment
-- ('awaiting_payment') for a month (orders.AwaitingPaymentFor). Finding them by
-- gateway_events_payment_ref_idx would read every event with a payment_ref, and an
-- index that names the outcome, even only in its WHERE, would end the HOT updates of
-- every event's outcome (see 019). So the waiting events are marked by a column of
-- their own: DeferEvent sets awaiting_since (to the event's received_at) when it defers
-- an event, and only the sweep clears it, a month later, whatever became of the
-- event meanwhile. SetEventOutcome never writes it, so its update stays HOT, and the
-- index holds only the events deferred in the last month: a few, however many events
-- are recorded. The events already waiting are marked here; the UPDATE reads the
-- table once, about a second per million events, and rewrites only those rows.
ALTER TABLE gateway_events ADD COLUMN awaiting_since timestamptz;
UPDATE gateway_events SET awaiting_since = received_at WHERE outcome = 'awaiting_payment';
CREATE INDEX gateway_events_awaiting_since_idx ON gateway_events (awaiting_since)
    WHERE awaiting_since IS NOT NULL;
