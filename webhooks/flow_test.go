package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/sqlite"
)

// stores opens a fresh, migrated store of each kind; the flow must behave the same on
// both. Postgres tests skip when the server is unreachable (see postgrestest).
var stores = map[string]func(t *testing.T) orders.Store{
	"sqlite": func(t *testing.T) orders.Store {
		ctx := context.Background()
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.NoError(t, s.Migrate(ctx))
		return s
	},
	"postgres": func(t *testing.T) orders.Store { return postgrestest.Open(t) },
}

// eachStore runs fn against a bundle on every store, in parallel.
func eachStore(t *testing.T, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, setupOptions{store: open(t)}))
		})
	}
}

// checkout is an order with an attempt whose sandbox session is attached, as after the
// customer tapped Pay now.
type checkout struct {
	order   *orders.Order
	attempt *orders.Attempt
	session *gateway.Session
	token   string
	link    string
}

// order creates a 330,000 VND order for a webchat customer of shop and starts paying it.
func (b *bundle) order(t *testing.T, shop string) *checkout {
	t.Helper()
	ctx := context.Background()
	o, err := b.service.CreateOrder(ctx, shop, orders.CreateOrderInput{
		Customer:    orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "visitor-42", Name: "Lan"},
		Items:       []orders.Item{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000}},
		ShippingFee: 30000,
	})
	require.NoError(t, err)
	require.Equal(t, int64(330000), o.Total)
	link, err := b.service.LinkURL(o)
	require.NoError(t, err)
	return b.pay(t, o.Link.Token, link)
}

// pay starts a fresh attempt on the order's link, as each tap of Pay now does.
func (b *bundle) pay(t *testing.T, token, link string) *checkout {
	t.Helper()
	ctx := context.Background()
	a, o, err := b.service.StartAttempt(ctx, token, "sandbox")
	require.NoError(t, err)
	gw, err := b.gws.Get(o.ShopID, "sandbox")
	require.NoError(t, err)
	s, err := gw.CreateSession(ctx, gateway.SessionRequest{
		ShopID: o.ShopID, OrderID: o.ID, OrderCode: o.Code, AttemptID: a.ID,
		Amount: a.Amount, Currency: a.Currency, ReturnURL: link,
	})
	require.NoError(t, err)
	require.NoError(t, b.service.AttachSession(ctx, a, s.ID))
	return &checkout{order: o, attempt: a, session: s, token: token, link: link}
}

func (b *bundle) reload(t *testing.T, o *orders.Order) *orders.Order {
	t.Helper()
	o, err := b.store.Order(context.Background(), o.ShopID, o.ID)
	require.NoError(t, err)
	return o
}

func (b *bundle) messageKinds(t *testing.T, o *orders.Order) []string {
	t.Helper()
	ms, err := b.store.OrderMessages(context.Background(), o.ShopID, o.ID)
	require.NoError(t, err)
	var kinds []string
	for _, m := range ms {
		kinds = append(kinds, m.Kind)
	}
	return kinds
}

func (b *bundle) noticeKinds(t *testing.T, shop string) []string {
	t.Helper()
	ns, err := b.store.Notices(context.Background(), shop, 100)
	require.NoError(t, err)
	var kinds []string
	for _, n := range ns {
		kinds = append(kinds, n.Kind)
	}
	return kinds
}

func receipt(duplicate bool, outcome string) map[string]any {
	return map[string]any{"received": true, "duplicate": duplicate, "outcome": outcome}
}

func TestSucceededThenReplayed(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		c := b.order(t, "shop1")
		body := eventBody("evt_1", "checkout.succeeded", c.session.ID, 330000, "VND")

		status, out := b.postSigned(t, "/webhooks/sandbox/shop1", secret1, body)
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "applied"), out)

		paid := b.reload(t, c.order)
		require.Equal(t, orders.StatusPaid, paid.Status)
		require.Equal(t, orders.PaymentPaid, paid.PaymentStatus)
		require.NotNil(t, paid.PaidAt)
		require.Len(t, paid.Payments, 1)
		require.Equal(t, "pi_evt_1", paid.Payments[0].GatewayRef)
		require.Equal(t, int64(330000), paid.Payments[0].Amount)
		require.False(t, paid.Payments[0].Duplicate)
		require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, b.messageKinds(t, paid))
		require.Equal(t, []string{orders.NoticePaid}, b.noticeKinds(t, "shop1"))

		// The gateway retries (a lost acknowledgement): same event, fresh signature.
		status, out = b.postSigned(t, "/webhooks/sandbox/shop1", secret1, body)
		require.Equal(t, 200, status)
		require.Equal(t, receipt(true, "duplicate"), out)
		again := b.reload(t, c.order)
		require.Equal(t, paid.Version, again.Version)
		require.Len(t, again.Payments, 1)
		require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, b.messageKinds(t, again))
		require.Equal(t, []string{orders.NoticePaid}, b.noticeKinds(t, "shop1"))

		require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "applied"))
		require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "duplicate"))
		require.Equal(t, 1.0, b.counter(t, "chatpay_payments_total", "gateway", "sandbox", "result", "succeeded"))
		require.Equal(t, 0.0, b.counter(t, "chatpay_payments_total", "gateway", "sandbox", "result", "failed"))
		require.Equal(t, 1.0, b.counter(t, "chatpay_time_to_pay_seconds"))
	})
}

func TestFailedThenPaidAgain(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		c := b.order(t, "shop1")
		body := []byte(`{"id":"evt_f","type":"checkout.failed","created":1,"data":{"session_id":"` + c.session.ID +
			`","amount":330000,"currency":"VND","reason":"card_declined"}}`)
		status, out := b.postSigned(t, "/webhooks/sandbox/shop1", secret1, body)
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "applied"), out)

		o := b.reload(t, c.order)
		require.Equal(t, orders.StatusAwaitingPayment, o.Status)
		require.True(t, o.LinkActive())
		ms, err := b.store.OrderMessages(context.Background(), o.ShopID, o.ID)
		require.NoError(t, err)
		require.Len(t, ms, 2)
		require.Equal(t, orders.KindPaymentFailed, ms[1].Kind)
		require.Equal(t, orders.MessageQueued, ms[1].Status)
		require.Equal(t, "payment_failed #"+o.Code+": card_declined", ms[1].Text)
		require.Equal(t, []orders.Button{{Label: "Pay again", URL: c.link}}, ms[1].Buttons)
		a, err := b.store.Attempt(context.Background(), "shop1", c.attempt.ID)
		require.NoError(t, err)
		require.Equal(t, orders.AttemptFailed, a.Status)
		require.Equal(t, "card_declined", a.FailureReason)
		require.Equal(t, 1.0, b.counter(t, "chatpay_payments_total", "gateway", "sandbox", "result", "failed"))

		// Pay again: a fresh attempt and session on the same link succeeds.
		c2 := b.pay(t, c.token, c.link)
		require.NotEqual(t, c.session.ID, c2.session.ID)
		status, out = b.postSigned(t, "/webhooks/sandbox/shop1", secret1, eventBody("evt_s", "checkout.succeeded", c2.session.ID, 330000, "VND"))
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "applied"), out)
		require.Equal(t, orders.StatusPaid, b.reload(t, o).Status)
		require.Equal(t, 1.0, b.counter(t, "chatpay_payments_total", "gateway", "sandbox", "result", "succeeded"))
	})
}

func TestAmountMismatch(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		c := b.order(t, "shop1")
		for i, ev := range []struct {
			amount   int64
			currency string
		}{{329999, "VND"}, {330000, "THB"}} {
			body := eventBody("evt_m"+string(rune('0'+i)), "checkout.succeeded", c.session.ID, ev.amount, ev.currency)
			status, out := b.postSigned(t, "/webhooks/sandbox/shop1", secret1, body)
			require.Equal(t, 200, status)
			require.Equal(t, receipt(false, "amount_mismatch"), out)
		}
		o := b.reload(t, c.order)
		require.Equal(t, orders.StatusAwaitingPayment, o.Status)
		require.Equal(t, orders.PaymentUnpaid, o.PaymentStatus)
		require.Empty(t, o.Payments)
		require.Equal(t, []string{orders.NoticeAmountMismatch, orders.NoticeAmountMismatch}, b.noticeKinds(t, "shop1"))
		require.Equal(t, 2.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "amount_mismatch"))
		require.Equal(t, 0.0, b.counter(t, "chatpay_payments_total", "gateway", "sandbox", "result", "succeeded"))
	})
}

func TestUnknownSessionAndIgnoredTypes(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		status, out := b.postSigned(t, "/webhooks/sandbox/shop1", secret1, eventBody("evt_u", "checkout.succeeded", "cs_sbx_never", 1000, "VND"))
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "unknown_session"), out)
		require.Equal(t, []string{orders.NoticeUnknownSession}, b.noticeKinds(t, "shop1"))

		status, out = b.postSigned(t, "/webhooks/sandbox/shop1", secret1, []byte(`{"id":"evt_x","type":"charge.refunded","data":{"session_id":"cs"}}`))
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "ignored"), out)

		require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "unknown_session"))
		require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "ignored"))
	})
}

// TestOtherShopsURL: the shop comes from the URL. An event about shop1's session posted
// to shop2's endpoint (signed with shop2's secret) cannot touch shop1's order, and
// shop1's signature does not open shop2's endpoint.
func TestOtherShopsURL(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		c := b.order(t, "shop1")
		body := eventBody("evt_1", "checkout.succeeded", c.session.ID, 330000, "VND")

		status, _ := b.postSigned(t, "/webhooks/sandbox/shop2", secret1, body)
		require.Equal(t, 401, status)

		status, out := b.postSigned(t, "/webhooks/sandbox/shop2", secret2, body)
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "unknown_session"), out)

		o := b.reload(t, c.order)
		require.Equal(t, orders.StatusAwaitingPayment, o.Status)
		require.Empty(t, o.Payments)
		require.Empty(t, b.noticeKinds(t, "shop1"))
		require.Equal(t, []string{orders.NoticeUnknownSession}, b.noticeKinds(t, "shop2"))

		// Event ids are per shop: the same id at shop1 is fresh and pays the order.
		status, out = b.postSigned(t, "/webhooks/sandbox/shop1", secret1, body)
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "applied"), out)
		require.Equal(t, orders.StatusPaid, b.reload(t, o).Status)
	})
}

func TestSecondPaymentIsDuplicate(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		c1 := b.order(t, "shop1")
		c2 := b.pay(t, c1.token, c1.link) // the customer opened the checkout twice
		status, out := b.postSigned(t, "/webhooks/sandbox/shop1", secret1, eventBody("evt_1", "checkout.succeeded", c1.session.ID, 330000, "VND"))
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "applied"), out)
		status, out = b.postSigned(t, "/webhooks/sandbox/shop1", secret1, eventBody("evt_2", "checkout.succeeded", c2.session.ID, 330000, "VND"))
		require.Equal(t, 200, status)
		require.Equal(t, receipt(false, "duplicate_payment"), out)

		o := b.reload(t, c1.order)
		require.Len(t, o.Payments, 2)
		require.True(t, o.Payments[1].Duplicate)
		rs, err := b.store.OrderRefunds(context.Background(), "shop1", o.ID)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, orders.RefundReasonDuplicate, rs[0].Reason)
		require.Equal(t, int64(330000), rs[0].Amount)
		require.Equal(t, 1.0, b.counter(t, "chatpay_payments_total", "gateway", "sandbox", "result", "succeeded"))
		require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "duplicate_payment"))
	})
}

// TestSandboxDelivery drives the whole path: the sandbox engine delivers signed
// webhooks over HTTP to the handler, as it does in production.
func TestSandboxDelivery(t *testing.T) {
	t.Parallel()
	complete := func(t *testing.T, b *bundle, c *checkout, o sandbox.Outcome, d sandbox.Delivery) *orders.Order {
		t.Helper()
		ret, err := b.engine.Complete(context.Background(), c.session.ID, o, d)
		require.NoError(t, err)
		require.Equal(t, c.link, ret)
		require.NoError(t, b.engine.Wait(context.Background()))
		return b.reload(t, c.order)
	}
	webhooks := func(t *testing.T, b *bundle, result string) float64 {
		return b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", result)
	}

	t.Run("normal", func(t *testing.T) {
		t.Parallel()
		eachStore(t, func(t *testing.T, b *bundle) {
			c := b.order(t, "shop1")
			o := complete(t, b, c, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
			require.Equal(t, orders.StatusPaid, o.Status)
			require.Len(t, o.Payments, 1)
			st, err := b.engine.Gateway("shop1", secret1).SessionStatus(context.Background(), c.session.ID)
			require.NoError(t, err)
			require.Equal(t, st.PaymentRef, o.Payments[0].GatewayRef)
			require.Equal(t, 1.0, webhooks(t, b, "applied"))
		})
	})
	t.Run("twice", func(t *testing.T) {
		t.Parallel()
		eachStore(t, func(t *testing.T, b *bundle) {
			c := b.order(t, "shop1")
			o := complete(t, b, c, sandbox.OutcomeSuccess, sandbox.DeliverTwice)
			require.Equal(t, orders.StatusPaid, o.Status)
			require.Len(t, o.Payments, 1, "exactly one payment")
			require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, b.messageKinds(t, o))
			require.Equal(t, 1.0, webhooks(t, b, "applied"))
			require.Equal(t, 1.0, webhooks(t, b, "duplicate"))
		})
	})
	t.Run("reversed pending", func(t *testing.T) {
		t.Parallel()
		eachStore(t, func(t *testing.T, b *bundle) {
			c := b.order(t, "shop1")
			o := complete(t, b, c, sandbox.OutcomePending, sandbox.DeliverReversed)
			require.Equal(t, orders.StatusPaid, o.Status)
			require.Len(t, o.Payments, 1)
			a, err := b.store.Attempt(context.Background(), "shop1", c.attempt.ID)
			require.NoError(t, err)
			require.Equal(t, orders.AttemptSucceeded, a.Status, "the late pending event must not undo the success")
			require.Equal(t, 1.0, webhooks(t, b, "applied"))
			require.Equal(t, 1.0, webhooks(t, b, "ignored"))
		})
	})
	t.Run("pending", func(t *testing.T) {
		t.Parallel()
		eachStore(t, func(t *testing.T, b *bundle) {
			c := b.order(t, "shop1")
			o := complete(t, b, c, sandbox.OutcomePending, sandbox.DeliverNormal)
			require.Equal(t, orders.StatusPaid, o.Status)
			require.Equal(t, 2.0, webhooks(t, b, "applied"))
		})
	})
	t.Run("decline", func(t *testing.T) {
		t.Parallel()
		eachStore(t, func(t *testing.T, b *bundle) {
			c := b.order(t, "shop1")
			o := complete(t, b, c, sandbox.OutcomeDecline, sandbox.DeliverReversed)
			require.Equal(t, orders.StatusAwaitingPayment, o.Status)
			require.Equal(t, []string{orders.KindOrderCard, orders.KindPaymentFailed}, b.messageKinds(t, o))
		})
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		eachStore(t, func(t *testing.T, b *bundle) {
			c := b.order(t, "shop1")
			o := complete(t, b, c, sandbox.OutcomeSuccess, sandbox.DeliverNone)
			require.Equal(t, orders.StatusAwaitingPayment, o.Status, "nothing is paid without a webhook")
			require.Equal(t, 0.0, webhooks(t, b, "applied"))
		})
	})
}

// TestConcurrentReplays: a gateway that retries before our first answer arrives sends
// the same event while it is still being applied. Exactly one delivery applies it.
func TestConcurrentReplays(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		c := b.order(t, "shop1")
		body := eventBody("evt_1", "checkout.succeeded", c.session.ID, 330000, "VND")
		const n = 8
		statuses := make(chan int, n)
		for range n {
			go func() {
				req, err := http.NewRequest(http.MethodPost, b.server.URL+"/webhooks/sandbox/shop1", bytes.NewReader(body))
				if err != nil {
					statuses <- 0
					return
				}
				req.Header.Set(sandbox.SignatureHeader, sandbox.Sign(secret1, body, time.Now()))
				resp, err := b.server.Client().Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		for range n {
			require.Equal(t, 200, <-statuses)
		}
		o := b.reload(t, c.order)
		require.Equal(t, orders.StatusPaid, o.Status)
		require.Len(t, o.Payments, 1)
		require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, b.messageKinds(t, o))
		require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "applied"))
		require.Equal(t, float64(n-1), b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "duplicate"))
	})
}

// TestBurst sends a burst of webhooks at once, with one batch slot so that they share
// transactions: payments, declines, the gateway's retries of the same events and a
// second payment of one order. Each answer and the state left must be what the same
// webhooks one at a time would give.
func TestBurst(t *testing.T) {
	t.Parallel()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOptions{store: open(t), maxBatch: 16, maxInFlight: 1})
			const paid, declined = 24, 8
			type post struct {
				body    []byte
				replay  bool
				outcome string
			}
			var posts []post
			var paidOrders, declinedOrders []*orders.Order
			for i := range paid {
				c := b.order(t, "shop1")
				paidOrders = append(paidOrders, c.order)
				body := eventBody(fmt.Sprintf("evt_paid_%d", i), "checkout.succeeded", c.session.ID, 330000, "VND")
				posts = append(posts, post{body: body, outcome: orders.OutcomeApplied}, post{body: body, replay: true})
			}
			for i := range declined {
				c := b.order(t, "shop2")
				declinedOrders = append(declinedOrders, c.order)
				posts = append(posts, post{body: eventBody(fmt.Sprintf("evt_declined_%d", i), "checkout.failed", c.session.ID, 330000, "VND"), outcome: orders.OutcomeApplied})
			}
			// Two attempts of one order, both paid: the second is a duplicate payment.
			first := b.order(t, "shop1")
			second := b.pay(t, first.token, first.link)
			posts = append(posts,
				post{body: eventBody("evt_twice_1", "checkout.succeeded", first.session.ID, 330000, "VND")},
				post{body: eventBody("evt_twice_2", "checkout.succeeded", second.session.ID, 330000, "VND")})

			type answer struct {
				status int
				body   map[string]any
			}
			answers := make([]answer, len(posts))
			var wg sync.WaitGroup
			for i, p := range posts {
				wg.Go(func() {
					shop, secret := "shop1", secret1
					if bytes.Contains(p.body, []byte("evt_declined_")) {
						shop, secret = "shop2", secret2
					}
					req, err := http.NewRequest(http.MethodPost, b.server.URL+"/webhooks/sandbox/"+shop, bytes.NewReader(p.body))
					if err != nil {
						return
					}
					req.Header.Set(sandbox.SignatureHeader, sandbox.Sign(secret, p.body, time.Now()))
					resp, err := b.server.Client().Do(req)
					if err != nil {
						return
					}
					defer resp.Body.Close()
					answers[i].status = resp.StatusCode
					_ = json.NewDecoder(resp.Body).Decode(&answers[i].body)
				})
			}
			wg.Wait()

			// Of an event and its replay, whichever came second is the duplicate.
			duplicates := 0
			for i, p := range posts {
				require.Equal(t, http.StatusOK, answers[i].status, "webhook %d", i)
				if answers[i].body["duplicate"] == true {
					duplicates++
					continue
				}
				if p.outcome != "" {
					require.Equal(t, p.outcome, answers[i].body["outcome"], "webhook %d", i)
				}
			}
			require.Equal(t, paid, duplicates, "each replay is a duplicate, once")

			for _, o := range paidOrders {
				got := b.reload(t, o)
				require.Equal(t, orders.StatusPaid, got.Status)
				require.Len(t, got.Payments, 1)
				require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, b.messageKinds(t, o))
			}
			for _, o := range declinedOrders {
				require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
				require.Equal(t, []string{orders.KindOrderCard, orders.KindPaymentFailed}, b.messageKinds(t, o))
			}
			got := b.reload(t, first.order)
			require.Equal(t, orders.StatusPaid, got.Status)
			require.Len(t, got.Payments, 2)
			require.Equal(t, 1, countDuplicates(got.Payments), "one of the two payments is refunded as a duplicate")

			require.Equal(t, float64(paid), b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "duplicate"))
			require.Equal(t, float64(paid+declined+1), b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "applied"))
			require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "duplicate_payment"))
			batches := b.counter(t, "chatpay_webhook_batch_size")
			require.Less(t, batches, float64(len(posts)), "webhooks that arrive together share transactions")
		})
	}
}

func countDuplicates(ps []*orders.Payment) int {
	n := 0
	for _, p := range ps {
		if p.Duplicate {
			n++
		}
	}
	return n
}
