package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// testGiveUpAwaitingEvents checks the sweep of events that waited too long for their
// payment: every shop's events still awaiting it and received before the cut-off are
// given up (OutcomePaymentNeverSeen), in batches, and counted; those received at or
// after the cut-off still wait, and an event deferred and applied since keeps its
// outcome. A second run finds nothing, and an event deferred later is given up by a
// later run.
func testGiveUpAwaitingEvents(t *testing.T, h Harness) {
	ctx := context.Background()
	cutoff := at(1000)
	var n int
	event := func(shop, ref string, received int, outcome string) *orders.GatewayEvent {
		n++
		e := newEvent(shop, "stripe", fmt.Sprintf("evt_%d", n))
		e.Type, e.SessionID, e.PaymentRef, e.ReceivedAt = orders.EventRefunded, "", ref, at(received)
		e.Outcome = outcome
		return e
	}
	var old []*orders.GatewayEvent // to give up: 5, more than two batches of 2
	for i := range 4 {
		old = append(old, event(shopA, "pi_old", i, orders.OutcomeAwaitingPayment))
	}
	old = append(old, event(shopB, "pi_old", 999, orders.OutcomeAwaitingPayment))
	young := event(shopA, "pi_young", 1000, orders.OutcomeAwaitingPayment) // received at the cut-off
	applied := event(shopA, "pi_applied", 0, orders.OutcomeAwaitingPayment)
	settled := event(shopA, "pi_old", 0, orders.OutcomeApplied) // never waited
	all := append([]*orders.GatewayEvent{young, applied, settled}, old...)

	inTx(t, h, func(tx orders.Tx) error {
		outcomes := map[*orders.GatewayEvent]string{}
		for _, e := range all {
			outcomes[e], e.Outcome = e.Outcome, ""
		}
		fresh, err := tx.InsertEvents(ctx, all)
		require.NoError(t, err)
		require.NotContains(t, fresh, false)
		for _, e := range all {
			e.Outcome = outcomes[e]
			if e.Outcome == orders.OutcomeAwaitingPayment {
				require.NoError(t, tx.DeferEvent(ctx, e))
			} else {
				require.NoError(t, tx.SetEventOutcome(ctx, e))
			}
		}
		return nil
	})
	// Its payment was recorded at last, and applied it (Service.applyAwaiting).
	inTx(t, h, func(tx orders.Tx) error {
		applied.Outcome = orders.OutcomeApplied
		return tx.SetEventOutcome(ctx, applied)
	})

	got, err := h.Store.GiveUpAwaitingEvents(ctx, cutoff, 2)
	require.NoError(t, err)
	require.Equal(t, len(old), got, "every shop's old waiting events, across batches")

	list := func(tx orders.Tx, shop, ref, outcome string) []*orders.GatewayEvent {
		t.Helper()
		evs, err := tx.EventsByRef(ctx, shop, "stripe", ref, outcome)
		require.NoError(t, err)
		return evs
	}
	ids := func(evs []*orders.GatewayEvent) []string {
		out := make([]string, 0, len(evs))
		for _, e := range evs {
			out = append(out, e.EventID)
		}
		return out
	}
	inTx(t, h, func(tx orders.Tx) error {
		require.Equal(t, ids(old[:4]), ids(list(tx, shopA, "pi_old", orders.OutcomePaymentNeverSeen)))
		require.Equal(t, ids(old[4:]), ids(list(tx, shopB, "pi_old", orders.OutcomePaymentNeverSeen)))
		require.Empty(t, list(tx, shopA, "pi_old", orders.OutcomeAwaitingPayment), "a payment recorded now finds none of them")
		require.Equal(t, ids([]*orders.GatewayEvent{settled}), ids(list(tx, shopA, "pi_old", orders.OutcomeApplied)))
		require.Equal(t, ids([]*orders.GatewayEvent{young}), ids(list(tx, shopA, "pi_young", orders.OutcomeAwaitingPayment)),
			"received at the cut-off: it still waits")
		require.Equal(t, ids([]*orders.GatewayEvent{applied}), ids(list(tx, shopA, "pi_applied", orders.OutcomeApplied)),
			"applied since it was deferred: it keeps its outcome")
		require.Empty(t, list(tx, shopA, "pi_applied", orders.OutcomePaymentNeverSeen))
		return nil
	})

	got, err = h.Store.GiveUpAwaitingEvents(ctx, cutoff, 2)
	require.NoError(t, err)
	require.Zero(t, got, "nothing left to give up")

	// With the cut-off past it, the young event is given up too; a batch of 0 is the
	// store's default.
	got, err = h.Store.GiveUpAwaitingEvents(ctx, at(1001), 0)
	require.NoError(t, err)
	require.Equal(t, 1, got)
	inTx(t, h, func(tx orders.Tx) error {
		require.Equal(t, ids([]*orders.GatewayEvent{young}), ids(list(tx, shopA, "pi_young", orders.OutcomePaymentNeverSeen)))
		require.Equal(t, ids([]*orders.GatewayEvent{applied}), ids(list(tx, shopA, "pi_applied", orders.OutcomeApplied)))
		return nil
	})
}
