package orders

import (
	"context"
	"slices"
)

// EditMessage brings a message the shop sent to the customer of a conversation up to
// date: its text and buttons become text and buttons, its delivery stays as it was.
// It is how the web chat edits a delivered order card once the order is paid or
// cancelled (bot/webchat's Edit, from the RefreshCard job): the web chat delivers by
// storing, so the stored message is the card the customer sees.
//
// The edit is published as a ChangeMessage of the conversation and order after it
// commits, so an open chat page redraws the card. Editing to what is stored already
// writes and publishes nothing, so a retried job is harmless. A message of another
// shop or conversation, one the customer wrote or one to staff is ENOTFOUND.
func (s *Service) EditMessage(ctx context.Context, shopID, conversationID, messageID, text string, buttons []Button) error {
	if _, err := s.Shop(shopID); err != nil {
		return err
	}
	m, err := s.store.Message(ctx, shopID, messageID)
	if err != nil {
		return notFound(err, "no message %s", messageID)
	}
	if m.ConversationID != conversationID || m.Direction != DirectionOut {
		return Errorf(ENOTFOUND, "no message %s", messageID)
	}
	// Stored as queueMessage stores a message, so that a rendering the same as the
	// stored one is recognised as such.
	text = clip(text, maxChatText)
	if m.Text == text && slices.Equal(m.Buttons, buttons) {
		return nil
	}
	m.Text, m.Buttons = text, buttons
	err = s.inTx(ctx, func(tx Tx) error { return tx.EditMessage(ctx, m) })
	return notFound(err, "no message %s", messageID)
}

// EditMessage passes the edit on and notes it as a change of the message's
// conversation and order, as a message's insert or update is.
func (t *changeTx) EditMessage(ctx context.Context, m *Message) error {
	if err := t.Tx.EditMessage(ctx, m); err != nil {
		return err
	}
	t.noteMessage(m)
	return nil
}
