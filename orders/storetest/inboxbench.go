package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// InboxBenchConversations is how many conversations BenchInbox loads into the shop
// whose inbox it reads, each with a message from the customer and an answer.
const InboxBenchConversations = 100_000

// inboxBenchLong is how many messages the one long conversation has, whose
// transcript BenchInbox pages.
const inboxBenchLong = 20_000

// BenchInbox loads InboxBenchConversations conversations into one shop (and 3,000
// into another) through the store's own insert path, then measures the inbox's
// reads: the list's first page with and without a channel filter (Messenger is 1 in
// 100 conversations, spread evenly, the rarest), a page 10,000 conversations deep,
// and the latest and a deep page of a 20,000-message transcript. Pages are the
// Service's sizes plus the one row it reads to know whether there is a next page.
// Each case reports its p50 and p95 in milliseconds. settle, when not nil, runs after
// the load (Postgres ANALYZEs there).
func BenchInbox(b *testing.B, s orders.Store, settle func(testing.TB)) {
	ctx := context.Background()
	const shop = "shop-inbox-bench"
	start := time.Now()
	loadInboxBench(b, s, "shop-inbox-other", 3_000)
	convs := loadInboxBench(b, s, shop, InboxBenchConversations)
	long := convs[len(convs)/2]
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var deepMsg orders.Cursor
	for lo := 0; lo < inboxBenchLong; lo += 2_000 {
		err := s.InTx(ctx, func(tx orders.Tx) error {
			for i := lo; i < min(inboxBenchLong, lo+2_000); i++ {
				m := benchMessage(shop, long, i, base.Add(time.Duration(i)*time.Second))
				if i == inboxBenchLong-5_000 {
					deepMsg = orders.Cursor{At: m.CreatedAt, ID: m.ID}
				}
				if err := tx.InsertMessage(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		require.NoError(b, err)
	}
	b.Logf("loaded %d+3000 conversations and %d messages in %s", InboxBenchConversations, 2*InboxBenchConversations+inboxBenchLong, time.Since(start).Round(time.Millisecond))
	if settle != nil {
		settle(b)
	}
	// The long conversation was written to last, so it heads the list; the deep page
	// starts after the newest 10,000 others.
	deep, err := s.ListConversations(ctx, shop, orders.ConversationFilter{Limit: 10_001})
	require.NoError(b, err)
	deepCursor := deep[len(deep)-1].Cursor()

	list := func(f orders.ConversationFilter) func() (int, error) {
		return func() (int, error) {
			got, err := s.ListConversations(ctx, shop, f)
			return len(got), err
		}
	}
	transcript := func(f orders.MessageFilter) func() (int, error) {
		return func() (int, error) {
			got, err := s.ConversationMessages(ctx, shop, long, f)
			return len(got), err
		}
	}
	page := orders.DefaultConversationPage + 1
	msgs := orders.DefaultTranscriptPage + 1
	cases := []struct {
		name string
		read func() (int, error)
		want int
	}{
		{"ListAll", list(orders.ConversationFilter{Limit: page}), page},
		{"ListTelegram", list(orders.ConversationFilter{Channel: orders.ChannelTelegram, Limit: page}), page},
		{"ListMessengerRare", list(orders.ConversationFilter{Channel: orders.ChannelMessenger, Limit: page}), page},
		{"ListDeepPage", list(orders.ConversationFilter{Before: deepCursor, Limit: page}), page},
		{"TranscriptLatest", transcript(orders.MessageFilter{Limit: msgs}), msgs},
		{"TranscriptDeepPage", transcript(orders.MessageFilter{Before: deepMsg, Limit: msgs}), msgs},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			n, err := c.read()
			require.NoError(b, err)
			require.Equal(b, c.want, n)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				t := time.Now()
				if _, err := c.read(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			ReportLatencies(b, lat)
		})
	}
}

// loadInboxBench stores n conversations of shop, each with a customer's message and
// the shop's answer a minute apart, and returns their IDs, oldest first.
func loadInboxBench(b testing.TB, s orders.Store, shop string, n int) []string {
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, 0, n)
	for lo := 0; lo < n; lo += 1_000 {
		err := s.InTx(ctx, func(tx orders.Tx) error {
			for i := lo; i < min(n, lo+1_000); i++ {
				at := base.Add(time.Duration(i) * time.Minute)
				channel := orders.ChannelTelegram
				switch {
				case i%100 == 42:
					channel = orders.ChannelMessenger
				case i%10 < 3:
					channel = orders.ChannelWebchat
				}
				c := &orders.Conversation{ID: orders.NewID(), ShopID: shop, Channel: channel,
					ExternalID: fmt.Sprintf("bench-%d", i), CustomerName: fmt.Sprintf("Customer %d", i), CreatedAt: at}
				if err := tx.UpsertConversation(ctx, c); err != nil {
					return err
				}
				ids = append(ids, c.ID)
				for j := range 2 {
					if err := tx.InsertMessage(ctx, benchMessage(shop, c.ID, i*2+j, at.Add(time.Duration(j)*30*time.Second))); err != nil {
						return err
					}
				}
			}
			return nil
		})
		require.NoError(b, err)
	}
	return ids
}

// benchMessage is message i of a conversation: in when i is even, out otherwise.
func benchMessage(shop, conv string, i int, at time.Time) *orders.Message {
	m := &orders.Message{ID: orders.NewID(), ShopID: shop, ConversationID: conv, Direction: orders.DirectionIn,
		Kind: "text", Text: fmt.Sprintf("Chào shop, áo còn size M không? (%d)", i), Status: orders.MessageSent, CreatedAt: at, SentAt: &at}
	if i%2 == 1 {
		m.Direction, m.Kind, m.Text = orders.DirectionOut, orders.KindStaffReply, "Dạ còn ạ!"
	}
	return m
}
