package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// The inbox's reads: ListConversations, ConversationMessages, ConversationOrders.

// inboxConv stores a conversation of shop on channel, created at created.
func inboxConv(t *testing.T, h Harness, shop, id, channel string, created time.Time) *orders.Conversation {
	t.Helper()
	c := &orders.Conversation{ID: id, ShopID: shop, Channel: channel, ExternalID: "ext-" + id, CustomerName: "Name " + id, CreatedAt: created}
	inTx(t, h, func(tx orders.Tx) error { return tx.UpsertConversation(context.Background(), c) })
	return c
}

// inboxMsg stores a message of c in direction at the given time.
func inboxMsg(t *testing.T, h Harness, c *orders.Conversation, id, direction string, created time.Time) *orders.Message {
	t.Helper()
	m := &orders.Message{
		ID: id, ShopID: c.ShopID, ConversationID: c.ID, Direction: direction, Kind: "text",
		Text: "«" + id + "» <b>&</b>", Status: orders.MessageSent, CreatedAt: created, SentAt: &created,
	}
	if direction != orders.DirectionIn {
		m.Kind, m.Status, m.SentAt = orders.KindStaffReply, orders.MessageQueued, nil
		m.Buttons = []orders.Button{{Label: "Pay now", URL: "https://pay.example/pay/x?a=1&b=2"}}
	}
	inTx(t, h, func(tx orders.Tx) error { return tx.InsertMessage(context.Background(), m) })
	return m
}

// ids lists the conversations' IDs, in order.
func summaryIDs(list []*orders.ConversationSummary) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Conversation.ID
	}
	return out
}

func testListConversations(t *testing.T, h Harness) {
	ctx := context.Background()
	web := inboxConv(t, h, shopA, "conv-web", orders.ChannelWebchat, at(0))
	tg := inboxConv(t, h, shopA, "conv-tg", orders.ChannelTelegram, at(1))
	inboxMsg(t, h, web, "web-in", orders.DirectionIn, at(2))
	tgIn := inboxMsg(t, h, tg, "tg-in", orders.DirectionIn, at(3))
	webOut := inboxMsg(t, h, web, "web-out", orders.DirectionOut, at(5))
	// Staff-topic traffic is not activity with the customer: tg stays at 3.
	inboxMsg(t, h, tg, "tg-staff", orders.DirectionStaff, at(10))
	// No message yet: its creation is its activity.
	fb := inboxConv(t, h, shopA, "conv-fb", orders.ChannelMessenger, at(4))
	// Another shop's conversation, newer than all of them.
	other := inboxConv(t, h, shopB, "conv-b", orders.ChannelWebchat, at(6))
	inboxMsg(t, h, other, "b-in", orders.DirectionIn, at(7))

	list, err := h.Store.ListConversations(ctx, shopA, orders.ConversationFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"conv-web", "conv-fb", "conv-tg"}, summaryIDs(list), "latest activity first; no other shop's")
	require.Equal(t, at(5), list[0].LastActivityAt)
	require.Equal(t, normMessage(webOut), normMessage(list[0].LastMessage), "the newest message in or out")
	require.Equal(t, time.UTC, list[0].LastActivityAt.Location())
	require.False(t, list[0].AwaitingReply())
	require.Equal(t, fb.CustomerName, list[1].Conversation.CustomerName)
	require.Equal(t, at(4), list[1].LastActivityAt)
	require.Nil(t, list[1].LastMessage)
	require.Equal(t, normMessage(tgIn), normMessage(list[2].LastMessage), "not the staff message after it")
	require.True(t, list[2].AwaitingReply())
	require.Equal(t, *tg, *list[2].Conversation)

	// A message recorded late with an older time does not move the conversation.
	inboxMsg(t, h, web, "web-late", orders.DirectionIn, at(1))
	// Upserting an existing conversation changes nothing either.
	again := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram, ExternalID: tg.ExternalID, CreatedAt: at(50)}
	inTx(t, h, func(tx orders.Tx) error { return tx.UpsertConversation(ctx, again) })
	list, err = h.Store.ListConversations(ctx, shopA, orders.ConversationFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"conv-web", "conv-fb", "conv-tg"}, summaryIDs(list))
	require.Equal(t, "web-out", list[0].LastMessage.ID)

	// A new message moves its conversation to the top.
	inboxMsg(t, h, tg, "tg-out", orders.DirectionOut, at(8))
	list, err = h.Store.ListConversations(ctx, shopA, orders.ConversationFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"conv-tg", "conv-web", "conv-fb"}, summaryIDs(list))
	require.Equal(t, at(8), list[0].LastActivityAt)

	// By channel.
	for channel, want := range map[string][]string{
		orders.ChannelTelegram:  {"conv-tg"},
		orders.ChannelWebchat:   {"conv-web"},
		orders.ChannelMessenger: {"conv-fb"},
	} {
		list, err = h.Store.ListConversations(ctx, shopA, orders.ConversationFilter{Channel: channel})
		require.NoError(t, err)
		require.Equal(t, want, summaryIDs(list), channel)
	}
	list, err = h.Store.ListConversations(ctx, shopB, orders.ConversationFilter{Channel: orders.ChannelTelegram})
	require.NoError(t, err)
	require.Empty(t, list)

	list, err = h.Store.ListConversations(ctx, shopB, orders.ConversationFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"conv-b"}, summaryIDs(list))
	require.Equal(t, "b-in", list[0].LastMessage.ID)
	list, err = h.Store.ListConversations(ctx, "shop-none", orders.ConversationFilter{})
	require.NoError(t, err)
	require.Empty(t, list)
}

func testListConversationsPaging(t *testing.T, h Harness) {
	ctx := context.Background()
	// Seven conversations; three share one time, so the pages must break the tie by
	// ID, and a page boundary falls inside the tie.
	var want []string
	for i, id := range []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6"} {
		n := i
		if i >= 2 && i <= 4 {
			n = 2
		}
		c := inboxConv(t, h, shopA, id, orders.ChannelTelegram, at(n))
		if i%2 == 0 {
			inboxMsg(t, h, c, id+"-in", orders.DirectionIn, at(n))
		}
		want = append([]string{id}, want...)
	}
	// Shop B's rows interleave in time and must never appear.
	for i := range 4 {
		inboxConv(t, h, shopB, "q"+string(rune('0'+i)), orders.ChannelTelegram, at(i))
	}

	for _, channel := range []string{"", orders.ChannelTelegram} {
		var got []string
		f := orders.ConversationFilter{Channel: channel, Limit: 3}
		for range 5 {
			page, err := h.Store.ListConversations(ctx, shopA, f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), 3)
			if len(page) == 0 {
				break
			}
			got = append(got, summaryIDs(page)...)
			f.Before = page[len(page)-1].Cursor()
		}
		require.Equal(t, want, got, "channel %q: every conversation once, newest first, ties by ID descending", channel)
	}

	// A cursor with only a time before everything: nothing.
	page, err := h.Store.ListConversations(ctx, shopA, orders.ConversationFilter{Before: orders.Cursor{At: at(0), ID: "p0"}})
	require.NoError(t, err)
	require.Empty(t, page)
}

func testConversationMessages(t *testing.T, h Harness) {
	ctx := context.Background()
	c := inboxConv(t, h, shopA, "conv-t", orders.ChannelWebchat, at(0))
	m1 := inboxMsg(t, h, c, "m1", orders.DirectionIn, at(1))
	m2 := inboxMsg(t, h, c, "m2", orders.DirectionOut, at(2))
	inboxMsg(t, h, c, "m2-staff", orders.DirectionStaff, at(2))
	// Two at the same time: ordered by ID.
	m3b := inboxMsg(t, h, c, "m3b", orders.DirectionOut, at(3))
	m3a := inboxMsg(t, h, c, "m3a", orders.DirectionOut, at(3))
	m4 := inboxMsg(t, h, c, "m4", orders.DirectionIn, at(4))
	other := inboxConv(t, h, shopA, "conv-u", orders.ChannelWebchat, at(0))
	inboxMsg(t, h, other, "u1", orders.DirectionIn, at(5))

	all, err := h.Store.ConversationMessages(ctx, shopA, c.ID, orders.MessageFilter{})
	require.NoError(t, err)
	wantAll := []*orders.Message{m1, m2, m3a, m3b, m4}
	require.Len(t, all, len(wantAll))
	for i, want := range wantAll {
		require.Equal(t, normMessage(want), normMessage(all[i]), "message %d: oldest first, no staff messages", i)
	}

	latest, err := h.Store.ConversationMessages(ctx, shopA, c.ID, orders.MessageFilter{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"m3b", "m4"}, messageIDs(latest), "the latest two, oldest first")
	before := orders.Cursor{At: latest[0].CreatedAt, ID: latest[0].ID}
	older, err := h.Store.ConversationMessages(ctx, shopA, c.ID, orders.MessageFilter{Before: before, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"m2", "m3a"}, messageIDs(older), "the two before, across the tie")
	oldest, err := h.Store.ConversationMessages(ctx, shopA, c.ID, orders.MessageFilter{Before: orders.Cursor{At: older[0].CreatedAt, ID: older[0].ID}, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"m1"}, messageIDs(oldest))

	// Another shop asking for this conversation gets nothing.
	none, err := h.Store.ConversationMessages(ctx, shopB, c.ID, orders.MessageFilter{})
	require.NoError(t, err)
	require.Empty(t, none)
	none, err = h.Store.ConversationMessages(ctx, shopA, "no-such-conversation", orders.MessageFilter{})
	require.NoError(t, err)
	require.Empty(t, none)
}

func messageIDs(ms []*orders.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func testConversationOrders(t *testing.T, h Harness) {
	ctx := context.Background()
	first := createOrder(t, h, newOrder(shopA, 0))
	second := newOrder(shopA, 1)
	second.ConversationID = first.ConversationID
	createOrder(t, h, second)
	// Paid, so that its payment comes back with it.
	inTx(t, h, func(tx orders.Tx) error {
		return tx.InsertPayment(ctx, &orders.Payment{
			ID: orders.NewID(), ShopID: shopA, OrderID: second.ID, Gateway: "sandbox", GatewayRef: "ref",
			Status: orders.PaymentStatusSucceeded, Amount: second.Total, Currency: second.Currency, CreatedAt: at(2),
		})
	})
	elsewhere := newOrder(shopA, 2)
	elsewhere.Customer.ExternalID = "tg-other"
	createOrder(t, h, elsewhere)
	none := newOrder(shopA, 3)
	none.Customer = orders.Customer{}
	createOrder(t, h, none)
	// Shop B has a conversation with the same channel and external id: its own.
	createOrder(t, h, newOrder(shopB, 0))

	list, err := h.Store.ConversationOrders(ctx, shopA, first.ConversationID, 10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, second.ID, list[0].ID, "newest first")
	require.Len(t, list[0].Payments, 1)
	require.Equal(t, first.ID, list[1].ID)
	requireOrder(t, first, list[1])

	list, err = h.Store.ConversationOrders(ctx, shopA, first.ConversationID, 1)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, second.ID, list[0].ID)

	list, err = h.Store.ConversationOrders(ctx, shopB, first.ConversationID, 10)
	require.NoError(t, err)
	require.Empty(t, list, "another shop's conversation")
}
