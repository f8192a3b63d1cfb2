package orders

import (
	"context"
	"errors"
	"fmt"
)

// ReachableConversation returns the customer's conversation on channel if the
// customer has written in it, which is when a platform such as Telegram lets the
// shop write back; ENOTFOUND otherwise.
func (s *Service) ReachableConversation(ctx context.Context, shopID, channel, externalID string) (*Conversation, error) {
	c, err := s.store.ConversationByExternalID(ctx, shopID, channel, externalID)
	if err == nil && c.LastInboundAt == nil {
		err = ErrNotFound
	}
	if err != nil {
		return nil, notFound(err, "The customer has not written to the shop on %s.", channel)
	}
	return c, nil
}

// ClaimOrder attaches an order created with AwaitCustomer to the conversation its
// customer has just opened, and sends the order card there while the link works.
//
// Only the customer the order was made for can claim it: conv must be on the
// channel, and have the external id, the order recorded. Anyone else, and any order
// that was never waiting, gets not_found, so a shared claim link tells a stranger
// nothing. Claiming again from the same conversation changes nothing and reports
// claimed=false, so a retried update or a second tap sends no second card.
func (s *Service) ClaimOrder(ctx context.Context, shopID, orderID string, conv *Conversation) (o *Order, claimed bool, err error) {
	o, err = s.update(ctx, shopID, orderID, func(tx Tx, shop *Shop, o *Order) error {
		claimed = false // in case the transaction is retried
		switch {
		case o.Customer.Channel != conv.Channel || o.Customer.ExternalID != conv.ExternalID || conv.ShopID != shop.ID:
			return Errorf(ENOTFOUND, "No order #%s is waiting for you.", o.Code)
		case o.ConversationID == conv.ID:
			return nil // claimed before
		case o.ConversationID != "":
			return Errorf(ECONFLICT, "Order %s is already in a conversation.", o.Code)
		}
		o.ConversationID = conv.ID
		claimed = true
		if !o.LinkActive() {
			return nil // paid or closed meanwhile: later messages go here, no card
		}
		return s.queueMessage(ctx, tx, shop, o, KindOrderCard, MessageData{})
	})
	if err != nil {
		return nil, false, err
	}
	return o, claimed, nil
}

// NotifyStaff tells the shop's staff something that concerns no order, such as a
// command that failed where chatpay cannot answer it in place. It is done once per
// key: a chat update handled again notifies nobody twice.
func (s *Service) NotifyStaff(ctx context.Context, shopID, kind, reason, key string) error {
	shop, err := s.Shop(shopID)
	if err != nil {
		return err
	}
	id := "staff:" + key
	if _, err := s.store.Notice(ctx, shopID, id); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	text, err := s.renderer.Notice(kind, MessageData{Shop: shop, Reason: reason})
	if err != nil {
		return fmt.Errorf("render notice %s: %w", kind, err)
	}
	n := &Notice{ID: id, ShopID: shopID, Kind: kind, Text: text, CreatedAt: s.Now()}
	return s.inTx(ctx, func(tx Tx) error {
		if err := tx.InsertNotice(ctx, n); err != nil {
			return err
		}
		if !shop.StaffChat {
			return nil
		}
		return tx.Enqueue(ctx, DeliverNotice{ShopID: shopID, NoticeID: n.ID})
	})
}

// AttachOrder puts an order that has no conversation into conv, where a channel has
// already delivered its card outside the queue: a Messenger private reply to the
// comment the order was made from carries the card, and only its answer names the
// customer's conversation. The delivered card is recorded as sent, under the given
// id, so the order's messages show it. Attaching again to the same conversation
// changes nothing.
func (s *Service) AttachOrder(ctx context.Context, shopID, orderID string, conv *Conversation, card *Message) (*Order, error) {
	return s.update(ctx, shopID, orderID, func(tx Tx, shop *Shop, o *Order) error {
		switch {
		case conv.ShopID != shop.ID:
			return Errorf(ENOTFOUND, "Conversation %s not found.", conv.ID)
		case o.ConversationID == conv.ID:
			return nil
		case o.ConversationID != "":
			return Errorf(ECONFLICT, "Order %s is already in a conversation.", o.Code)
		}
		o.ConversationID = conv.ID
		if card == nil {
			return nil
		}
		now := s.Now()
		m := *card
		m.ShopID, m.ConversationID, m.OrderID = shop.ID, conv.ID, o.ID
		m.Direction, m.Status, m.CreatedAt, m.SentAt = DirectionOut, MessageSent, now, &now
		return tx.InsertMessage(ctx, &m)
	})
}
