package orders

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Gateways deliver webhooks at least once and in any order: Stripe may deliver
// charge.refunded before checkout.session.completed. An event about a payment chatpay
// has not recorded yet (a refund, a dispute, a capture, a release) is therefore not
// dropped: it is recorded with OutcomeAwaitingPayment, and the transaction that
// records a payment applies the events waiting for its gateway reference, as if they
// had come after it (applyAwaiting).
//
// Two transactions race here: one that finds no payment and defers an event, and one
// that records the payment. Under Postgres's READ COMMITTED neither need see the
// other's rows, and the event would wait for ever. Both therefore take
// Tx.LockPaymentRef before the read that decides: the deferring one before it looks
// for the payment a second time (applyOrAwait), the recording one before it writes the
// payment. Whichever takes it second sees what the first committed.

// awaitingOutcome is the outcome of an event whose payment chatpay has not recorded:
// it waits for the payment, unless it names none (no payment can ever match it).
func awaitingOutcome(ev *GatewayEvent) string {
	if ev.PaymentRef == "" {
		return OutcomeIgnored
	}
	return OutcomeAwaitingPayment
}

// applyOrAwait applies ev with apply, one of the appliers of events about a recorded
// payment, which returns OutcomeAwaitingPayment, having written nothing, when it finds
// no payment for ev.PaymentRef. The payment may be being recorded right now by another
// transaction, so the event is deferred only after LockPaymentRef and a second look:
// most events find their payment at once and take no lock.
func (s *Service) applyOrAwait(ctx context.Context, tx Tx, shop *Shop, ev *GatewayEvent,
	apply func(context.Context, Tx, *Shop, *GatewayEvent) (string, *Order, error)) (string, *Order, error) {
	outcome, o, err := apply(ctx, tx, shop, ev)
	if err != nil || outcome != OutcomeAwaitingPayment {
		return outcome, o, err
	}
	if err := tx.LockPaymentRef(ctx, shop.ID, ev.Gateway, ev.PaymentRef); err != nil {
		return "", nil, err
	}
	return apply(ctx, tx, shop, ev)
}

// applyAwaiting applies, in the transaction that recorded payment p of order o, the
// shop's events about p that arrived before it (OutcomeAwaitingPayment), and records
// each one's outcome in place of awaiting_payment, so that none is applied twice: a
// redelivery of one is a duplicate of its recorded key, as for any event. It returns
// the order as the last of them left it.
//
// The events are applied in the order they were received, except that captures and
// releases go first. Receipt is not the order things happened at the gateway (which is
// why the events had to wait), and a refund or a dispute can only follow the capture
// of a held payment, never precede it; a refund recorded against a payment still held
// would make the capture that follows look like new money.
func (s *Service) applyAwaiting(ctx context.Context, tx Tx, shop *Shop, o *Order, p *Payment) (*Order, error) {
	if p.GatewayRef == "" {
		return o, nil
	}
	evs, err := tx.EventsByRef(ctx, shop.ID, p.Gateway, p.GatewayRef, OutcomeAwaitingPayment)
	if err != nil || len(evs) == 0 {
		return o, err
	}
	slices.SortStableFunc(evs, func(a, b *GatewayEvent) int { return cmp.Compare(holdRank(a), holdRank(b)) })
	for _, ev := range evs {
		outcome, got, _, err := s.applyEvent(ctx, tx, shop, ev)
		if err != nil {
			return nil, err
		}
		if outcome == OutcomeAwaitingPayment {
			continue // the payment just recorded is not found by its reference: it stays put off
		}
		ev.Outcome = outcome
		if err := tx.SetEventOutcome(ctx, ev); err != nil {
			return nil, err
		}
		if got != nil && got.ID == o.ID {
			o = got
		}
	}
	return o, nil
}

// holdRank sorts the events about a held payment before the others.
func holdRank(ev *GatewayEvent) int {
	switch ev.Type {
	case EventCaptured, EventVoided:
		return 0
	}
	return 1
}

// AwaitingPaymentFor is how long an event waits for its payment (OutcomeAwaitingPayment)
// before it is given up (OutcomePaymentNeverSeen). Webhooks reordered at the gateway
// arrive seconds or, after a gateway's retries over an outage, a few days apart; a
// payment chatpay has not recorded a month after its refund or dispute was taken
// outside chatpay, and the event would otherwise wait for ever.
const AwaitingPaymentFor = 30 * 24 * time.Hour

// AwaitingSweepBatch is how many events one statement of GiveUpAwaitingEvents gives
// up, so that a backlog (the first run over events that waited before the sweep
// existed) never holds SQLite's write lock, or Postgres's row locks, for long.
const AwaitingSweepBatch = 1000

// GiveUpAwaitingEvents gives up, across shops, the events that have waited for their
// payment for longer than AwaitingPaymentFor (Store.GiveUpAwaitingEvents), and returns
// how many it gave up, also when it fails part way. It runs with the hourly sweep job.
func (s *Service) GiveUpAwaitingEvents(ctx context.Context) (int, error) {
	return s.store.GiveUpAwaitingEvents(ctx, s.Now().Add(-AwaitingPaymentFor), AwaitingSweepBatch)
}
