package orders_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// TestRecordDeliveryRace: runs of one delivery job that overlap and record different
// outcomes, some sent (each with its own platform id) and some failed for good, leave
// the message as the first of them recorded it, whole, with one change published and
// the owner told at most once, on either store.
func TestRecordDeliveryRace(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var st orders.Store
			if kind == "sqlite" {
				s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				require.NoError(t, s.Migrate(ctx))
				st = s
			} else {
				st = postgrestest.Open(t)
			}
			tpl, err := templates.New()
			require.NoError(t, err)
			pub := &chRecorder{}
			svc, err := orders.NewService(orders.Config{
				Shops:    []*orders.Shop{{ID: "a", Name: "Shop A", Currency: "VND", Locale: "en", Gateways: []string{"sandbox"}}},
				Store:    st,
				Renderer: bot.Renderer{Templates: tpl}, PublicURL: "https://pay.example",
				LinkKey: []byte(strings.Repeat("k", orders.LinkKeyLen)),
				Changes: pub,
			})
			require.NoError(t, err)
			o, err := svc.CreateOrder(ctx, "a", chInput("visitor-1"))
			require.NoError(t, err)
			ms, err := st.OrderMessages(ctx, "a", o.ID)
			require.NoError(t, err)
			require.Len(t, ms, 1)
			card := ms[0]
			pub.take()

			raceRecord(t, 20, func(i int) error {
				d := orders.MessageDelivery{Sent: true, ExternalID: fmt.Sprintf("ext-%d", i)}
				if i%2 == 1 {
					d = orders.MessageDelivery{Reason: fmt.Sprintf("reason-%d", i)}
				}
				return svc.RecordDelivery(ctx, "a", card.ID, d, true)
			})

			require.Equal(t, []orders.Change{{Kind: orders.ChangeMessage, Shop: "a", Order: o.ID, Conversation: o.ConversationID}},
				pub.take(), "one outcome is recorded, so one change is published")
			m, err := st.Message(ctx, "a", card.ID)
			require.NoError(t, err)
			notices, err := st.Notices(ctx, "a", 100)
			require.NoError(t, err)
			switch m.Status {
			case orders.MessageSent:
				var i int
				_, err := fmt.Sscanf(m.ExternalID, "ext-%d", &i)
				require.NoError(t, err, "external id %q", m.ExternalID)
				require.Zero(t, i%2, "a sent outcome's id")
				require.Empty(t, m.FailureReason)
				require.NotNil(t, m.SentAt)
				require.Empty(t, notices, "a sent message is no failure to tell the owner about")
			case orders.MessageFailed:
				var i int
				_, err := fmt.Sscanf(m.FailureReason, "reason-%d", &i)
				require.NoError(t, err, "failure reason %q", m.FailureReason)
				require.Equal(t, 1, i%2, "a failed outcome's reason")
				require.Empty(t, m.ExternalID)
				require.Nil(t, m.SentAt)
				require.Len(t, notices, 1, "the owner is told once")
				require.Equal(t, orders.NoticeMessageFailed, notices[0].Kind)
				require.Contains(t, notices[0].Text, m.FailureReason, "about the failure that was recorded")
			default:
				t.Fatalf("message status %q", m.Status)
			}

			// Passing failures, which the job retries, recorded around the one run that
			// sent: the message stays sent, not queued again to be sent twice.
			o2, err := svc.CreateOrder(ctx, "a", chInput("visitor-2"))
			require.NoError(t, err)
			ms, err = st.OrderMessages(ctx, "a", o2.ID)
			require.NoError(t, err)
			require.Len(t, ms, 1)
			raceRecord(t, 20, func(i int) error {
				if i == 0 {
					return svc.RecordDelivery(ctx, "a", ms[0].ID, orders.MessageDelivery{Sent: true, ExternalID: "ext-sent"}, true)
				}
				return svc.RecordDelivery(ctx, "a", ms[0].ID, orders.MessageDelivery{Reason: fmt.Sprintf("timeout-%d", i)}, false)
			})
			m, err = st.Message(ctx, "a", ms[0].ID)
			require.NoError(t, err)
			require.Equal(t, orders.MessageSent, m.Status)
			require.Equal(t, "ext-sent", m.ExternalID)
			require.Empty(t, m.FailureReason)
			require.NotNil(t, m.SentAt)
			after, err := st.Notices(ctx, "a", 100)
			require.NoError(t, err)
			require.Equal(t, notices, after, "passing failures tell no one")
		})
	}
}

// raceRecord runs record in n goroutines released at once and requires every call to
// succeed.
func raceRecord(t *testing.T, n int, record func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = record(i)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}
