package jobs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// TestDisputeReminderJob runs the reminder worker against a fake clock: each of the
// 7-day and 2-day reminders is sent once, however often the job runs, also by a
// second Jobs (another replica) over the same store.
func TestDisputeReminderJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jobs.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	tpl, err := templates.New()
	require.NoError(t, err)
	shop := &orders.Shop{ID: "shop-a", Name: "A", Currency: "VND", Locale: "en", Gateways: []string{"sandbox"}}
	now := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{shop}, Store: st, Renderer: bot.Renderer{Templates: tpl},
		PublicURL: "https://pay.example", LinkKey: make([]byte, orders.LinkKeyLen),
		Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	replicas := make([]*Jobs, 2)
	for i := range replicas {
		replicas[i], err = New(Config{Service: svc, Gateways: gateway.NewRegistry()})
		require.NoError(t, err)
	}

	// A paid order with an open dispute whose evidence is due in 10 days.
	o, err := svc.CreateOrder(ctx, shop.ID, orders.CreateOrderInput{Items: []orders.Item{{Name: "Tea", Quantity: 1, UnitPrice: 50000}}})
	require.NoError(t, err)
	a, _, err := svc.StartAttempt(ctx, o.Link.Token, "sandbox")
	require.NoError(t, err)
	require.NoError(t, svc.AttachSession(ctx, a, "sess_1"))
	_, err = svc.ApplyEvent(ctx, &orders.GatewayEvent{ShopID: shop.ID, Gateway: "sandbox", EventID: "evt_pay",
		Type: orders.EventSucceeded, SessionID: "sess_1", PaymentRef: "pi_1", Amount: o.Total, Currency: "VND"})
	require.NoError(t, err)
	due := now.Add(10 * 24 * time.Hour)
	res, err := svc.ApplyEvent(ctx, &orders.GatewayEvent{ShopID: shop.ID, Gateway: "sandbox", EventID: "evt_dispute",
		Type: orders.EventDisputeOpened, PaymentRef: "pi_1", Amount: o.Total, Currency: "VND",
		Dispute: &orders.DisputeDetails{ID: "du_1", Status: orders.DisputeOpen, Reason: "fraudulent", EvidenceDueAt: &due}})
	require.NoError(t, err)
	require.Equal(t, orders.OutcomeApplied, res.Outcome)

	reminders := func() int {
		t.Helper()
		ns, err := st.Notices(ctx, shop.ID, 100)
		require.NoError(t, err)
		n := 0
		for _, x := range ns {
			if x.Kind == orders.NoticeDisputeDeadline {
				n++
			}
		}
		return n
	}
	runAll := func(at time.Time) {
		t.Helper()
		now = at
		for range 2 {
			for _, j := range replicas {
				require.NoError(t, (&disputeReminderWorker{j: j}).Work(ctx, job(orders.RemindDisputes{}, 1)))
			}
		}
	}
	steps := []struct {
		after time.Duration
		want  int
	}{
		{0, 0},
		{2 * 24 * time.Hour, 0},
		{3*24*time.Hour + time.Minute, 1}, // 7 days left
		{5 * 24 * time.Hour, 1},
		{8*24*time.Hour + time.Minute, 2}, // 2 days left
		{9 * 24 * time.Hour, 2},
		{11 * 24 * time.Hour, 2}, // past the deadline
	}
	start := now
	for _, s := range steps {
		runAll(start.Add(s.after))
		require.Equal(t, s.want, reminders(), "after %v", s.after)
	}
}
