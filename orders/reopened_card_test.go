package orders_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// refreshJobs counts the RefreshCard jobs queued so far for order o.
func (b *bundle) refreshJobs(t *testing.T, o *orders.Order) int {
	t.Helper()
	n := 0
	for _, j := range b.jobs(t) {
		if r, ok := j.(orders.RefreshCard); ok && r.OrderID == o.ID {
			n++
		}
	}
	return n
}

// TestCardUpdateReleasedHold: a held payment draws the order's card paid; once the
// hold is released at the gateway while the order is open, the RefreshCard job the
// release queues draws the card payable again, as first sent, and gives the Pay again
// message back its button and its words without the status line. The customer hears
// of the release. Applying the release again changes nothing more.
func TestCardUpdateReleasedHold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created := b.create(t, shopA, input())
	o := created
	card := b.messages(t, o)[0]
	require.Equal(t, orders.KindOrderCard, card.Kind)
	require.NoError(t, b.svc.RecordDelivery(b.ctx, shopA, card.ID, orders.MessageDelivery{Sent: true, ExternalID: "ext-card"}, false))
	card = b.message(t, o, card.ID)
	require.Len(t, card.Buttons, 1)
	require.Equal(t, "Pay now", card.Buttons[0].Label)
	require.Contains(t, card.Buttons[0].URL, "/pay/")
	failed := b.failAndDeliver(t, o, "card declined", true)

	_, ok, err := b.svc.CardUpdate(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.False(t, ok, "an open order that was never paid reads as sent")

	// The hold is recorded: the card is drawn paid, the Pay again message loses its
	// button. The card's edit is stored (as the web chat does), the Pay again
	// message's is not (as on Telegram, where only the chat shows it).
	o = b.authorize(t, o)
	u, ok, err := b.svc.CardUpdate(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, strings.HasSuffix(u.Text, "\n\n✅ Paid"), "%q", u.Text)
	require.Empty(t, u.Buttons)
	require.Len(t, u.PayAgain, 1)
	require.Equal(t, failed.Text+"\n\n✅ Paid", u.PayAgain[0].Text)
	require.NoError(t, b.svc.EditMessage(b.ctx, shopA, o.ConversationID, card.ID, u.Text, u.Buttons))
	paidText := u.Text

	// The hold expires while the order is open.
	refreshes, msgs := b.refreshJobs(t, o), len(b.messages(t, o))
	ev := heldEvent(o.Payments[0], orders.EventVoided, "evt_expired", 0)
	ev.Reason = "expired"
	require.Equal(t, orders.OutcomeApplied, b.apply(t, ev).Outcome)
	require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
	require.Equal(t, refreshes+1, b.refreshJobs(t, o), "the release redraws the cards")
	ms := b.messages(t, o)
	require.Len(t, ms, msgs+1)
	require.Equal(t, orders.KindHoldReleased, ms[len(ms)-1].Kind)

	check := func() {
		t.Helper()
		u, ok, err := b.svc.CardUpdate(b.ctx, shopA, o.ID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Len(t, u.Cards, 1)
		require.Equal(t, card.ID, u.Cards[0].ID)
		require.Equal(t, card.Text, u.Text, "the card as first sent, with no status line")
		require.Equal(t, card.Buttons, u.Buttons, "Pay now, to the order's link")
		require.Len(t, u.PayAgain, 1)
		require.Equal(t, failed.ID, u.PayAgain[0].ID)
		require.Equal(t, failed.Text, u.PayAgain[0].Text)
		require.Equal(t, failed.Buttons, u.PayAgain[0].Buttons, "Pay again pays the order again")
	}
	check()

	// Once the web chat stored the payable card, the update reads the same.
	require.NoError(t, b.svc.EditMessage(b.ctx, shopA, o.ConversationID, card.ID, card.Text, card.Buttons))
	check()

	// The same release again, by its webhook's retry or as another event, changes
	// nothing more: no second message, no second redraw.
	before := b.snapshot(t)
	require.True(t, b.apply(t, ev).Duplicate)
	require.Equal(t, before, b.snapshot(t))
	again := heldEvent(o.Payments[0], orders.EventVoided, "evt_expired_again", 0)
	require.Equal(t, orders.OutcomeIgnored, b.apply(t, again).Outcome)
	b.requireOnlyEventRecorded(t, before)
	check()

	// A card settled while it was queued goes out payable; one stored payable goes
	// out as it is.
	queued := *card
	queued.Status, queued.ExternalID, queued.Text, queued.Buttons = orders.MessageQueued, "", paidText, nil
	text, buttons, ok, err := b.svc.SettledText(b.ctx, shopA, &queued)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, card.Text, text)
	require.Equal(t, card.Buttons, buttons)
	_, _, ok, err = b.svc.SettledText(b.ctx, shopA, card)
	require.NoError(t, err)
	require.False(t, ok)

	// Paid again, the cards read paid again.
	b.pay(t, created)
	u, ok, err = b.svc.CardUpdate(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, paidText, u.Text)
}

// TestCaptureHoldExpiredRedrawsCard: a capture refused because the hold expired
// releases it as the gateway's event would: the customer is told and the cards are
// redrawn payable.
func TestCaptureHoldExpiredRedrawsCard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.withCaptureRules(t, orders.CaptureRules{Capture: true})
	o := b.authorize(t, b.create(t, shopA, input()))
	p, err := b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	refreshes := b.refreshJobs(t, o)
	require.NoError(t, b.svc.CompleteCapture(b.ctx, shopA, o.ID, p.ID, orders.CaptureResult{HoldExpired: true, Reason: "expired"}))
	require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
	require.Equal(t, refreshes+1, b.refreshJobs(t, o))
	ms := b.messages(t, o)
	require.Equal(t, orders.KindHoldReleased, ms[len(ms)-1].Kind)

	// A second answer finds the payment released and changes nothing.
	before := b.snapshot(t)
	require.NoError(t, b.svc.CompleteCapture(b.ctx, shopA, o.ID, p.ID, orders.CaptureResult{HoldExpired: true, Reason: "expired"}))
	require.Equal(t, before, b.snapshot(t))
}

// TestCardUpdateReleasedHoldWithoutConversation: an order without a chat has no card
// to redraw and nobody to tell.
func TestCardUpdateReleasedHoldWithoutConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.Customer = orders.Customer{Name: "Lan"}
	o := b.authorize(t, b.create(t, shopA, in))
	require.Empty(t, o.ConversationID)
	refreshes := b.refreshJobs(t, o)
	require.Equal(t, orders.OutcomeApplied, b.apply(t, heldEvent(o.Payments[0], orders.EventVoided, "evt_released", 0)).Outcome)
	require.Equal(t, refreshes, b.refreshJobs(t, o))
	require.Empty(t, b.messages(t, o))
	_, ok, err := b.svc.CardUpdate(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.False(t, ok)
}
