package orders_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// reportFixture is a Service on one store with a clock the test moves.
type reportFixture struct {
	ctx   context.Context
	svc   *orders.Service
	store orders.Store
	mu    sync.Mutex
	now   time.Time
}

func (f *reportFixture) at(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

func newReportFixture(t *testing.T, store string) *reportFixture {
	t.Helper()
	f := &reportFixture{ctx: context.Background()}
	switch store {
	case "sqlite":
		st, err := sqlite.Open(f.ctx, filepath.Join(t.TempDir(), "r.db"))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, st.Close()) })
		require.NoError(t, st.Migrate(f.ctx))
		f.store = st
	default:
		f.store = postgrestest.Open(t)
	}
	tpl, err := templates.New()
	require.NoError(t, err)
	f.svc, err = orders.NewService(orders.Config{
		Shops: []*orders.Shop{{ID: shopA, Name: "Shop A", Currency: "VND", Locale: "en", Gateways: []string{sandbox}}},
		Store: f.store, Renderer: bot.Renderer{Templates: tpl}, PublicURL: publicURL,
		LinkKey: []byte(strings.Repeat("r", orders.LinkKeyLen)),
		Now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.now
		},
	})
	require.NoError(t, err)
	return f
}

// order creates an order of 100,000 ₫; with a visitor, in that visitor's web chat,
// whose card is delivered cardAfter later.
func (f *reportFixture) order(t *testing.T, visitor string, meta map[string]string, cardAfter time.Duration) *orders.Order {
	t.Helper()
	in := orders.CreateOrderInput{Items: []orders.Item{{Name: "Trà xanh", Quantity: 1, UnitPrice: 100000}}, Metadata: meta}
	if visitor != "" {
		in.Customer = orders.Customer{Channel: orders.ChannelWebchat, ExternalID: visitor, Name: "Lan"}
	}
	o, err := f.svc.CreateOrder(f.ctx, shopA, in)
	require.NoError(t, err)
	if visitor != "" {
		ms, err := f.store.OrderMessages(f.ctx, shopA, o.ID)
		require.NoError(t, err)
		require.Len(t, ms, 1)
		require.Equal(t, orders.KindOrderCard, ms[0].Kind)
		created := f.svc.Now()
		f.at(created.Add(cardAfter))
		require.NoError(t, f.svc.RecordDelivery(f.ctx, shopA, ms[0].ID, orders.MessageDelivery{Sent: true, ExternalID: "m1"}, false))
		f.at(created)
	}
	return o
}

// attempt runs one attempt on the order at the fixture's clock: succeeded, or failed
// for reason.
func (f *reportFixture) attempt(t *testing.T, o *orders.Order, failReason string) {
	t.Helper()
	a, _, err := f.svc.StartAttempt(f.ctx, o.Link.Token, sandbox)
	require.NoError(t, err)
	require.NoError(t, f.svc.AttachSession(f.ctx, a, "cs_"+a.ID))
	ev := &orders.GatewayEvent{ShopID: shopA, Gateway: sandbox, EventID: "evt_" + a.ID, Type: orders.EventSucceeded,
		SessionID: a.SessionID, PaymentRef: "pi_" + a.ID, Amount: a.Amount, Currency: a.Currency, Payload: []byte(`{}`)}
	if failReason != "" {
		ev.Type, ev.Reason = orders.EventFailed, failReason
	}
	_, err = f.svc.ApplyEvent(f.ctx, ev)
	require.NoError(t, err)
}

// TestReportFigures builds a day of payments on both stores and checks every figure
// of the report: totals, success rate, the time from the link being sent (the card's
// delivery, or the order's creation without a card) to the payment, and failure
// reasons.
func TestReportFigures(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newReportFixture(t, store)
			t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

			// Card delivered 2 minutes after creation, paid 10 minutes after that.
			f.at(t0)
			o1 := f.order(t, "visitor-1", map[string]string{"branch": "hcm"}, 2*time.Minute)
			f.at(t0.Add(12 * time.Minute))
			f.attempt(t, o1, "")

			// No conversation, so no card: paid 30 minutes after creation.
			f.at(t0.Add(time.Hour))
			o2 := f.order(t, "", nil, 0)
			f.at(t0.Add(time.Hour + 30*time.Minute))
			f.attempt(t, o2, "")

			// Two declines, then paid 20 minutes after the card arrived.
			f.at(t0.Add(2 * time.Hour))
			o3 := f.order(t, "visitor-3", map[string]string{"branch": "hn"}, time.Minute)
			f.at(t0.Add(2*time.Hour + 5*time.Minute))
			f.attempt(t, o3, "card_declined")
			f.attempt(t, o3, "insufficient_funds")
			f.at(t0.Add(2*time.Hour + 21*time.Minute))
			f.attempt(t, o3, "")

			// Declined and never paid.
			f.at(t0.Add(3 * time.Hour))
			o4 := f.order(t, "visitor-4", nil, time.Minute)
			f.attempt(t, o4, "card_declined")

			r, err := f.svc.Report(f.ctx, shopA, t0.Truncate(24*time.Hour), t0.Truncate(24*time.Hour).Add(24*time.Hour), "branch")
			require.NoError(t, err)
			require.Len(t, r.Payments, 3)
			require.NotNil(t, r.Payments[0].LinkSentAt, "the card's delivery is read with the payment")
			require.Equal(t, t0.Add(2*time.Minute), *r.Payments[0].LinkSentAt)
			require.Nil(t, r.Payments[1].LinkSentAt, "no card, no delivery")
			require.Equal(t, []orders.ReportTotal{{Key: sandbox, Currency: "VND", Count: 3, Amount: 300000}}, r.ByGateway)
			require.Equal(t, []orders.ReportTotal{{Key: orders.PaymentPaid, Currency: "VND", Count: 3, Amount: 300000}}, r.ByStatus)
			require.Equal(t, []orders.ReportTotal{
				{Key: "hcm", Currency: "VND", Count: 1, Amount: 100000},
				{Key: "hn", Currency: "VND", Count: 1, Amount: 100000},
				{Missing: true, Currency: "VND", Count: 1, Amount: 100000},
			}, r.ByGroup)
			require.EqualValues(t, 6, r.Attempts)
			require.EqualValues(t, 3, r.PaidAttempts)
			require.InDelta(t, 0.5, r.SuccessRate, 1e-9)
			require.Equal(t, 20*time.Minute, *r.MedianTimeToPaid, "of 10, 30 and 20 minutes")
			require.Equal(t, 30*time.Minute, *r.P90TimeToPaid)
			require.Equal(t, []orders.ReasonCount{{Reason: "card_declined", Count: 2}, {Reason: "insufficient_funds", Count: 1}}, r.FailureReasons)
			unit, days := r.Periods()
			require.Equal(t, orders.PeriodDay, unit)
			require.Equal(t, []orders.ReportTotal{{Key: "2026-11-03", Currency: "VND", Count: 3, Amount: 300000}}, days)

			// Another shop's report would be empty; a range with nothing in it is.
			r, err = f.svc.Report(f.ctx, shopA, t0.Add(24*time.Hour), t0.Add(48*time.Hour), "")
			require.NoError(t, err)
			require.Empty(t, r.Payments)
			require.Nil(t, r.MedianTimeToPaid)
			require.Nil(t, r.P90TimeToPaid)
			require.Zero(t, r.SuccessRate)
		})
	}
}
