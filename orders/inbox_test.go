package orders_test

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []orders.Cursor{
		{At: time.Date(2026, 11, 25, 7, 10, 0, 123456000, time.UTC), ID: "0193a0b2-7c4e-7000-8000-000000000001"},
		{At: time.Unix(0, 0).UTC(), ID: "out:reply:conv:nonce:0"},
		{At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ID: "in:tg:123:«ß»"},
	} {
		s := c.String()
		require.NotContains(t, s, "=", "no padding in a URL")
		got, err := orders.ParseCursor("before", s)
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
	got, err := orders.ParseCursor("before", "")
	require.NoError(t, err)
	require.True(t, got.IsZero())
	require.Empty(t, orders.Cursor{}.String())
}

func TestParseCursorRefusesJunk(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		"%%%", enc([]byte("no-colon")), enc([]byte("12:")), enc([]byte(":id")), enc([]byte("-5:id")), enc([]byte("0012:id")), enc([]byte("1e3:id")),
		enc([]byte("99999999999999999999:id")), enc([]byte("1:" + strings.Repeat("x", 401))), enc([]byte("1:a\x00b")), enc([]byte("1:\xff")),
		strings.Repeat("A", 1000),
	} {
		_, err := orders.ParseCursor("before", s)
		require.Error(t, err, "%q", s)
		require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
		var e *orders.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "before", e.Field, "the error names the parameter")
	}
}

// FuzzParseCursor: a cursor from a request never panics, and one it accepts encodes
// back to the same text (there is one spelling of each cursor).
func FuzzParseCursor(f *testing.F) {
	f.Add(orders.Cursor{At: time.Date(2026, 11, 25, 7, 10, 0, 0, time.UTC), ID: "abc"}.String())
	f.Add("")
	f.Add("MTp4")
	f.Add("LTE6eA")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := orders.ParseCursor("before", s)
		if err != nil {
			require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
			return
		}
		require.Equal(t, s, c.String())
	})
}

func TestReplyWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for _, c := range []struct {
		name          string
		conv          orders.Conversation
		applies, open bool
	}{
		{"webchat", orders.Conversation{Channel: orders.ChannelWebchat, LastInboundAt: ago(72 * time.Hour)}, false, false},
		{"telegram bot chat", orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: "42"}, false, false},
		{"telegram business, recent", orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: "biz:c1:42", LastInboundAt: ago(time.Hour)}, true, true},
		{"telegram business, exactly 24h", orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: "biz:c1:42", LastInboundAt: ago(24 * time.Hour)}, true, true},
		{"telegram business, old", orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: "biz:c1:42", LastInboundAt: ago(25 * time.Hour)}, true, false},
		{"telegram business, never wrote", orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: "biz:c1:42"}, true, false},
		{"messenger, recent", orders.Conversation{Channel: orders.ChannelMessenger, LastInboundAt: ago(23 * time.Hour)}, true, true},
		{"messenger, exactly 24h", orders.Conversation{Channel: orders.ChannelMessenger, LastInboundAt: ago(24 * time.Hour)}, true, false},
		{"messenger, never wrote", orders.Conversation{Channel: orders.ChannelMessenger}, true, false},
	} {
		w := c.conv.ReplyWindow(now)
		require.Equal(t, c.applies, w.Applies, c.name)
		require.Equal(t, c.open, w.Open, c.name)
		if w.Open {
			require.Equal(t, c.conv.LastInboundAt.Add(24*time.Hour), w.Closes, c.name)
		} else {
			require.True(t, w.Closes.IsZero(), c.name)
		}
	}
}

// inbound records a customer's message at the bundle's clock and returns its
// conversation.
func (b *bundle) inbound(t *testing.T, shopID, visitor, key, text string) *orders.Conversation {
	t.Helper()
	conv, _, err := b.svc.ReceiveMessage(b.ctx, shopID, orders.InboundMessage{
		Channel: orders.ChannelWebchat, ExternalID: visitor, CustomerName: "Lan", Key: key, Text: text,
	})
	require.NoError(t, err)
	return conv
}

func TestInboxListsAndPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	start := b.now
	var convs []*orders.Conversation
	for i := range 5 {
		b.now = start.Add(time.Duration(i) * time.Minute)
		convs = append(convs, b.inbound(t, shopA, "visitor-"+string(rune('a'+i)), "k"+string(rune('a'+i)), "hello"))
	}
	b.inbound(t, shopB, "visitor-b", "shop-b-1", "other shop")

	list, next, err := b.svc.ListConversations(b.ctx, shopA, orders.ConversationFilter{Limit: 2})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, convs[4].ID, list[0].Conversation.ID, "latest activity first")
	require.True(t, list[0].AwaitingReply())
	require.False(t, next.IsZero())
	var seen []string
	for _, s := range list {
		seen = append(seen, s.Conversation.ID)
	}
	for !next.IsZero() {
		list, next, err = b.svc.ListConversations(b.ctx, shopA, orders.ConversationFilter{Limit: 2, Before: next})
		require.NoError(t, err)
		for _, s := range list {
			seen = append(seen, s.Conversation.ID)
		}
	}
	require.Equal(t, []string{convs[4].ID, convs[3].ID, convs[2].ID, convs[1].ID, convs[0].ID}, seen, "each once, and the last page says so")

	_, _, err = b.svc.ListConversations(b.ctx, shopA, orders.ConversationFilter{Channel: "sms"})
	require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
	_, _, err = b.svc.ListConversations(b.ctx, shopA, orders.ConversationFilter{Limit: orders.MaxConversationPage + 1})
	require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
	_, _, err = b.svc.ListConversations(b.ctx, "no-shop", orders.ConversationFilter{})
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))

	// Replying moves the conversation to the top and answers it.
	b.now = start.Add(time.Hour)
	require.NoError(t, b.svc.Reply(b.ctx, shopA, convs[0].ID, "nonce-1", "  Dạ còn ạ!\n"))
	list, _, err = b.svc.ListConversations(b.ctx, shopA, orders.ConversationFilter{})
	require.NoError(t, err)
	require.Equal(t, convs[0].ID, list[0].Conversation.ID)
	require.False(t, list[0].AwaitingReply())
	require.Equal(t, "Dạ còn ạ!", list[0].LastMessage.Text, "sent without the blank space around it")
	require.Equal(t, orders.KindStaffReply, list[0].LastMessage.Kind)
}

func TestTranscriptPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	start := b.now
	var conv *orders.Conversation
	for i := range 7 {
		b.now = start.Add(time.Duration(i) * time.Second)
		conv = b.inbound(t, shopA, "visitor-t", "t"+string(rune('0'+i)), "message "+string(rune('0'+i)))
	}
	tr, err := b.svc.Transcript(b.ctx, shopA, conv.ID, orders.MessageFilter{Limit: 3})
	require.NoError(t, err)
	require.Equal(t, conv.ID, tr.Conversation.ID)
	require.Equal(t, []string{"message 4", "message 5", "message 6"}, texts(tr.Messages), "the latest, oldest first")
	require.False(t, tr.Older.IsZero())
	tr, err = b.svc.Transcript(b.ctx, shopA, conv.ID, orders.MessageFilter{Limit: 3, Before: tr.Older})
	require.NoError(t, err)
	require.Equal(t, []string{"message 1", "message 2", "message 3"}, texts(tr.Messages))
	tr, err = b.svc.Transcript(b.ctx, shopA, conv.ID, orders.MessageFilter{Limit: 3, Before: tr.Older})
	require.NoError(t, err)
	require.Equal(t, []string{"message 0"}, texts(tr.Messages))
	require.True(t, tr.Older.IsZero(), "the first message: nothing older")

	_, err = b.svc.Transcript(b.ctx, shopB, conv.ID, orders.MessageFilter{})
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err), "another shop's conversation")
	_, err = b.svc.Transcript(b.ctx, shopA, conv.ID, orders.MessageFilter{Limit: orders.MaxTranscriptPage + 1})
	require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
}

func texts(ms []*orders.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

func TestReplyOncePerKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.inbound(t, shopA, "visitor-r", "r1", "hi")
	replies := func() []*orders.Message {
		tr, err := b.svc.Transcript(b.ctx, shopA, conv.ID, orders.MessageFilter{})
		require.NoError(t, err)
		var out []*orders.Message
		for _, m := range tr.Messages {
			if m.Direction == orders.DirectionOut {
				out = append(out, m)
			}
		}
		return out
	}

	// Two submits of one form at once, then a third later: one message.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = b.svc.Reply(b.ctx, shopA, conv.ID, "form-nonce", "Chào bạn") })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.NoError(t, b.svc.Reply(b.ctx, shopA, conv.ID, "form-nonce", "Chào bạn"))
	out := replies()
	require.Len(t, out, 1)
	require.Equal(t, orders.MessageQueued, out[0].Status)
	require.Equal(t, "Chào bạn", out[0].Text)

	// Another form: another message.
	require.NoError(t, b.svc.Reply(b.ctx, shopA, conv.ID, "form-nonce-2", "Còn gì nữa không?"))
	require.Len(t, replies(), 2)

	for _, c := range []struct{ name, text string }{
		{"blank", " \n\t "},
		{"too long", strings.Repeat("ก", orders.MaxReplyText+1)},
		{"not text", "a\xffb"},
	} {
		err := b.svc.Reply(b.ctx, shopA, conv.ID, "form-"+c.name, c.text)
		var e *orders.Error
		require.ErrorAs(t, err, &e, c.name)
		require.Equal(t, orders.EINVALID, e.Code, c.name)
		require.Equal(t, "text", e.Field, c.name)
	}
	require.NoError(t, b.svc.Reply(b.ctx, shopA, conv.ID, "form-max", strings.Repeat("ก", orders.MaxReplyText)), "exactly the limit")
	require.Equal(t, orders.EINVALID, orders.ErrorCode(b.svc.Reply(b.ctx, shopA, conv.ID, "", "hi")))

	err := b.svc.Reply(b.ctx, shopB, conv.ID, "form-b", "hi")
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err), "another shop's conversation")
	require.Len(t, replies(), 3)
}

func TestCreateConversationOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.inbound(t, shopA, "visitor-o", "o1", "I'll take two")
	b.now = b.now.Add(time.Second)
	in := orders.CreateOrderInput{
		// The conversation decides who the order is for, whatever the input says.
		Customer:      orders.Customer{Channel: orders.ChannelTelegram, ExternalID: "999", Name: "Someone else", Phone: "0901"},
		Items:         []orders.Item{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000}},
		ShippingFee:   30000,
		AwaitCustomer: true,
		Key:           "form-1",
	}
	o, err := b.svc.CreateConversationOrder(b.ctx, shopA, conv.ID, in)
	require.NoError(t, err)
	require.Equal(t, conv.ID, o.ConversationID)
	require.Equal(t, orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "visitor-o", Name: "Lan", Phone: "0901"}, o.Customer)
	require.EqualValues(t, 330000, o.Total)

	again, err := b.svc.CreateConversationOrder(b.ctx, shopA, conv.ID, in)
	require.NoError(t, err)
	require.Equal(t, o.ID, again.ID, "the same form twice is one order")

	tr, err := b.svc.Transcript(b.ctx, shopA, conv.ID, orders.MessageFilter{})
	require.NoError(t, err)
	last := tr.Messages[len(tr.Messages)-1]
	require.Equal(t, orders.KindOrderCard, last.Kind, "the card is queued to the conversation")
	require.Equal(t, o.ID, last.OrderID)
	list, err := b.svc.ConversationOrders(b.ctx, shopA, conv.ID, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)

	_, err = b.svc.CreateConversationOrder(b.ctx, shopB, conv.ID, in)
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err), "another shop's conversation")
	in.Items = nil
	in.Key = "form-2"
	_, err = b.svc.CreateConversationOrder(b.ctx, shopA, conv.ID, in)
	var e *orders.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "items", e.Field)
}
