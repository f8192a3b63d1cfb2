package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// testEventsByRef checks how a gateway event waits for its payment: DeferEvent keeps
// its outcome and dispute details, and EventsByRef finds the shop's events of one
// gateway and payment ref with one outcome, oldest first (received, then event id),
// inside the transaction that wrote them and after it.
func testEventsByRef(t *testing.T, h Harness) {
	ctx := context.Background()
	event := func(shop, gateway, id, ref string, received int) *orders.GatewayEvent {
		e := newEvent(shop, gateway, id)
		e.Type, e.SessionID, e.PaymentRef, e.Amount, e.ReceivedAt = orders.EventRefunded, "", ref, 1000, at(received)
		e.Outcome = orders.OutcomeAwaitingPayment
		return e
	}
	due := at(86400).Add(123 * time.Microsecond)
	dispute := event(shopA, "stripe", "evt_b", "pi_1", 3)
	dispute.Type, dispute.Reason = orders.EventDisputeOpened, "fraudulent"
	dispute.Dispute = &orders.DisputeDetails{ID: "du_1", Status: orders.DisputeOpen, Reason: "fraudulent", EvidenceDueAt: &due}
	tie := event(shopA, "stripe", "evt_a", "pi_1", 3) // received with evt_b: the id decides
	first := event(shopA, "stripe", "evt_c", "pi_1", 1)
	closed := event(shopA, "stripe", "evt_d", "pi_1", 4)
	closed.Type = orders.EventDisputeClosed
	closed.Dispute = &orders.DisputeDetails{ID: "du_1", Status: orders.DisputeLost}
	applied := event(shopA, "stripe", "evt_e", "pi_1", 0)
	applied.Outcome = orders.OutcomeApplied
	others := []*orders.GatewayEvent{
		event(shopA, "stripe", "evt_f", "pi_2", 0),  // another ref
		event(shopA, "omise", "evt_g", "pi_1", 0),   // another gateway
		event(shopB, "stripe", "evt_h", "pi_1", 0),  // another shop
		event(shopA, "stripe", "evt_i", "", 0),      // no ref
		event(shopA, "stripe", "evt_j", "pi_10", 0), // a ref that starts with pi_1
		event(shopA, "stripe", "evt_k", "PI_1", 0),  // refs are case-sensitive
		event(shopA, "stripe", "evt_l", "pi_1 ", 0), // and exact
	}
	all := append([]*orders.GatewayEvent{dispute, tie, first, closed, applied}, others...)
	want := []*orders.GatewayEvent{first, tie, dispute, closed}

	list := func(tx orders.Tx, shop, gateway, ref, outcome string) []*orders.GatewayEvent {
		t.Helper()
		got, err := tx.EventsByRef(ctx, shop, gateway, ref, outcome)
		require.NoError(t, err)
		return got
	}
	inTx(t, h, func(tx orders.Tx) error {
		require.NoError(t, tx.LockPaymentRef(ctx, shopA, "stripe", "pi_1"))
		outcomes := map[*orders.GatewayEvent]string{}
		for _, e := range all {
			outcomes[e] = e.Outcome
			e.Outcome = ""
		}
		fresh, err := tx.InsertEvents(ctx, all)
		require.NoError(t, err)
		for i := range fresh {
			require.True(t, fresh[i], all[i].EventID)
		}
		require.Empty(t, list(tx, shopA, "stripe", "pi_1", orders.OutcomeAwaitingPayment), "none waits yet")
		for _, e := range all {
			e.Outcome = outcomes[e]
			if e == applied {
				require.NoError(t, tx.SetEventOutcome(ctx, e))
			} else {
				require.NoError(t, tx.DeferEvent(ctx, e))
			}
		}
		require.Equal(t, want, list(tx, shopA, "stripe", "pi_1", orders.OutcomeAwaitingPayment),
			"the transaction sees its own writes, oldest first, with the dispute details")
		return nil
	})

	inTx(t, h, func(tx orders.Tx) error {
		got := list(tx, shopA, "stripe", "pi_1", orders.OutcomeAwaitingPayment)
		require.Equal(t, want, got)
		require.True(t, due.Equal(*got[2].Dispute.EvidenceDueAt))
		require.Equal(t, []*orders.GatewayEvent{applied}, list(tx, shopA, "stripe", "pi_1", orders.OutcomeApplied), "another outcome")
		require.Equal(t, []*orders.GatewayEvent{others[2]}, list(tx, shopB, "stripe", "pi_1", orders.OutcomeAwaitingPayment))
		require.Empty(t, list(tx, shopA, "stripe", "", orders.OutcomeAwaitingPayment), "no ref names no event")
		require.Empty(t, list(tx, shopA, "stripe", "pi_3", orders.OutcomeAwaitingPayment))

		// Applied at last: the outcome moves on and the event no longer waits.
		tie.Outcome = orders.OutcomeApplied
		require.NoError(t, tx.SetEventOutcome(ctx, tie))
		require.Equal(t, []*orders.GatewayEvent{first, dispute, closed}, list(tx, shopA, "stripe", "pi_1", orders.OutcomeAwaitingPayment))
		return nil
	})

	// DeferEvent of an event that was never recorded fails, as SetEventOutcome does.
	err := h.Store.InTx(ctx, func(tx orders.Tx) error {
		return tx.DeferEvent(ctx, event(shopA, "stripe", "evt_never", "pi_1", 0))
	})
	require.Error(t, err)
	err = h.Store.InTx(ctx, func(tx orders.Tx) error {
		e := event(shopB, "stripe", "evt_b", "pi_1", 0)
		e.ID = dispute.ID // another shop's row
		return tx.DeferEvent(ctx, e)
	})
	require.Error(t, err)
}

// testLockPaymentRef checks that LockPaymentRef makes a transaction wait for another
// that holds it on the same reference, and that what it reads afterwards includes
// what that transaction committed: the payment's transaction and one deferring an
// event about it never both miss each other.
func testLockPaymentRef(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	a := newAttempt(o, 1)
	inTx(t, h, func(tx orders.Tx) error { return tx.InsertAttempt(ctx, a) })
	p := &orders.Payment{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, AttemptID: a.ID, Gateway: "stripe",
		GatewayRef: "pi_1", Status: orders.PaymentStatusSucceeded, Amount: o.Total, Currency: o.Currency, CreatedAt: at(2)}

	holding, release := make(chan struct{}), make(chan struct{})
	var released sync.Once
	releaseFirst := func() { released.Do(func() { close(release) }) }
	// A failing test lets the first transaction end, or closing the store would wait
	// for it for ever.
	t.Cleanup(releaseFirst)
	first := make(chan error, 1)
	go func() {
		first <- h.Store.InTx(ctx, func(tx orders.Tx) error {
			if err := tx.LockPaymentRef(ctx, shopA, "stripe", "pi_1"); err != nil {
				return err
			}
			if err := tx.InsertPayment(ctx, p); err != nil {
				return err
			}
			// A read sends what the store may have queued (the lock, the insert).
			if _, err := tx.PaymentByRef(ctx, shopA, "stripe", "pi_1"); err != nil {
				return err
			}
			select {
			case <-holding:
			default:
				close(holding)
			}
			<-release
			return nil
		})
	}()
	select {
	case <-holding:
	case err := <-first:
		t.Fatalf("the first transaction ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the first transaction never took the lock")
	}

	second := make(chan error, 1)
	var found *orders.Payment
	go func() {
		second <- h.Store.InTx(ctx, func(tx orders.Tx) error {
			if err := tx.LockPaymentRef(ctx, shopA, "stripe", "pi_1"); err != nil {
				return err
			}
			var err error
			found, err = tx.PaymentByRef(ctx, shopA, "stripe", "pi_1")
			return err
		})
	}()
	// The second transaction must still be waiting: give it time to get to the lock.
	select {
	case err := <-second:
		t.Fatalf("the second transaction did not wait for the lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	releaseFirst()
	require.NoError(t, <-first)
	select {
	case err := <-second:
		require.NoError(t, err, "the payment committed while it waited is seen")
	case <-time.After(30 * time.Second):
		t.Fatal("the second transaction never got the lock")
	}
	require.Equal(t, p.ID, found.ID)

	// Its holder may take it again.
	inTx(t, h, func(tx orders.Tx) error {
		require.NoError(t, tx.LockPaymentRef(ctx, shopA, "stripe", "pi_1"))
		require.NoError(t, tx.LockPaymentRef(ctx, shopA, "stripe", "pi_1"))
		_, err := tx.PaymentByRef(ctx, shopA, "stripe", "pi_1")
		return err
	})
}
