package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// SettledText returns what m, an order card or Pay again message (KindPaymentFailed)
// to the customer, should read now that its order can no longer be paid: the card as
// CardUpdate draws it (the status line, no Pay now), or the message's own words with
// that status line under them and no buttons. For an order that awaits payment again
// after its hold was released (reopened), it is the payable message as CardUpdate
// draws it, and ok only when m is stored otherwise (it was settled while queued). It
// reports ok false when m is no such message, its order awaits payment and was never
// paid, or m already reads as it should.
//
// Both messages are drawn when they are queued, with a button that opens the order's
// link. The DeliverMessage job asks this just before it sends one, so that a message
// held back (a chat's rate limit, an earlier message's retries) while the customer
// paid or the shop cancelled goes out without a button that no longer works, and one
// settled so before a released hold reopened its order goes out payable. The text is
// clipped as a stored message is, so what is stored and what is sent agree.
func (s *Service) SettledText(ctx context.Context, shopID string, m *Message) (text string, buttons []Button, ok bool, err error) {
	if m.Direction != DirectionOut || m.OrderID == "" || (m.Kind != KindOrderCard && m.Kind != KindPaymentFailed) {
		return "", nil, false, nil
	}
	shop, err := s.Shop(shopID)
	if err != nil {
		return "", nil, false, err
	}
	o, err := s.store.Order(ctx, shopID, m.OrderID)
	if errors.Is(err, ErrNotFound) {
		// Orders are not removed (a deleted one keeps its row), so this is not
		// expected; a message that outlived its order goes out as it was drawn
		// rather than never.
		return "", nil, false, nil
	} else if err != nil {
		return "", nil, false, err
	}
	kind, settled := settledKind(o)
	d := MessageData{Shop: shop, Order: o}
	if !settled {
		if !reopened(o) {
			return "", nil, false, nil
		}
		if m.Kind == KindOrderCard {
			text, buttons, err = s.payableCard(d)
		} else {
			text, buttons, err = s.payableAgain(d, m.Text)
		}
		if err != nil {
			return "", nil, false, err
		}
		text = clip(text, maxChatText)
		if text == m.Text && slices.Equal(buttons, m.Buttons) {
			return "", nil, false, nil
		}
		return text, buttons, true, nil
	}
	if m.Kind == KindOrderCard {
		if text, buttons, err = s.renderer.Message(kind, d); err != nil {
			return "", nil, false, fmt.Errorf("render %s: %w", kind, err)
		}
		return clip(text, maxChatText), buttons, true, nil
	}
	lines, err := s.cardStatusLines(d)
	if err != nil {
		return "", nil, false, err
	}
	return clip(settledPayAgain(m.Text, lines, kind), maxChatText), nil, true, nil
}

// RefreshStale enqueues the RefreshCard job for the order of m, a delivered order
// card or Pay again message, when m as delivered no longer reads as SettledText says
// it should: the order was paid or cancelled (or reopened) after the DeliverMessage
// job drew m.
//
// The DeliverMessage job calls it once the delivery is recorded. The RefreshCard job
// the payment (or cancel) enqueued edits only messages recorded as delivered, and may
// have run between the job's look at the order and that record, finding m still
// queued. Asking after the record closes that gap: a payment that commits after this
// look enqueues a RefreshCard that can only run after it, and so finds m delivered.
// A second RefreshCard besides the payment's is harmless: editing a message to what
// it reads changes nothing.
func (s *Service) RefreshStale(ctx context.Context, shopID string, m *Message) error {
	text, buttons, ok, err := s.SettledText(ctx, shopID, m)
	if err != nil || !ok {
		return err
	}
	if m.Text == text && slices.Equal(m.Buttons, buttons) {
		return nil // sent as it should read
	}
	return s.inTx(ctx, func(tx Tx) error {
		return tx.Enqueue(ctx, RefreshCard{ShopID: shopID, OrderID: m.OrderID})
	})
}
