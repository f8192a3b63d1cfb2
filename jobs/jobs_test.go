package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/ratelimit/memory"
	"github.com/chatpay/chatpay/bot/webchat"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// recordingChannel is a chat platform that records what it was asked to send and
// fails the way it is told to.
type recordingChannel struct {
	mu   sync.Mutex
	sent []string
	fail error
}

func (c *recordingChannel) Name() string { return "telegram" }

func (c *recordingChannel) Send(_ context.Context, _ *orders.Shop, _ *orders.Conversation, m *orders.Message) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return "", c.fail
	}
	c.sent = append(c.sent, m.ID)
	return "ext-" + m.ID, nil
}

type bundle struct {
	svc     *orders.Service
	jobs    *Jobs
	store   *sqlite.Store
	chat    *recordingChannel
	staff   *recordingNotifier
	sandbox *sandbox.Engine
	shop    *orders.Shop
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jobs.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	tpl, err := templates.New()
	require.NoError(t, err)
	shop := &orders.Shop{ID: "shop-a", Name: "A", Currency: "VND", Locale: "en", SendPaidConfirmation: true, Gateways: []string{"sandbox"}, StaffChat: true}
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{shop}, Store: st, Renderer: bot.Renderer{Templates: tpl},
		PublicURL: "https://pay.example", LinkKey: make([]byte, orders.LinkKeyLen),
	})
	require.NoError(t, err)

	// The sandbox delivers its webhooks nowhere in these tests: the workers are what
	// is under test, and they talk to the gateway directly.
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(sink.Close)
	sb := sandbox.New(sandbox.Options{PublicURL: "https://pay.example", WebhookURL: func(string) string { return sink.URL }})
	t.Cleanup(func() { sb.Close() })
	reg := gateway.NewRegistry()
	reg.Add(shop.ID, sb.Gateway(shop.ID, "secret"))

	chat := &recordingChannel{}
	staff := &recordingNotifier{}
	j, err := New(Config{
		Service: svc, Gateways: reg, Notifier: staff,
		Channels: bot.Channels{orders.ChannelWebchat: webchat.Channel{}, "telegram": chat},
	})
	require.NoError(t, err)
	return &bundle{svc: svc, jobs: j, store: st, chat: chat, staff: staff, sandbox: sb, shop: shop}
}

func job[T river.JobArgs](args T, attempt int) *river.Job[T] {
	return &river.Job[T]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 5, Kind: args.Kind()}, Args: args}
}

func (b *bundle) order(t *testing.T, channel string) *orders.Order {
	t.Helper()
	o, err := b.svc.CreateOrder(context.Background(), b.shop.ID, orders.CreateOrderInput{
		Customer: orders.Customer{Channel: channel, ExternalID: "12345"},
		Items:    []orders.Item{{Name: "Tea", Quantity: 2, UnitPrice: 50000}},
		Currency: "VND",
	})
	require.NoError(t, err)
	return o
}

func TestDeliverMessageSendsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	o := b.order(t, "telegram")
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	w := &messageWorker{j: b.jobs}
	args := orders.DeliverMessage{ShopID: b.shop.ID, MessageID: ms[0].ID}

	require.NoError(t, w.Work(ctx, job(args, 1)))
	// River may run a job again (a crash after Work, a rescue): nothing is sent twice.
	require.NoError(t, w.Work(ctx, job(args, 2)))
	require.Equal(t, []string{ms[0].ID}, b.chat.sent)
	m, err := b.store.Message(ctx, b.shop.ID, ms[0].ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageSent, m.Status)
	require.Equal(t, "ext-"+m.ID, m.ExternalID)
}

func TestDeliverMessageFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	o := b.order(t, "telegram")
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	w := &messageWorker{j: b.jobs}
	args := orders.DeliverMessage{ShopID: b.shop.ID, MessageID: ms[0].ID}

	// A passing failure is retried and the message stays queued with its reason.
	b.chat.fail = errors.New("telegram: 502 bad gateway")
	err = w.Work(ctx, job(args, 1))
	require.ErrorContains(t, err, "502")
	m, err := b.store.Message(ctx, b.shop.ID, ms[0].ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageQueued, m.Status)
	require.Contains(t, m.FailureReason, "502")

	// A permanent one gives up at once, marks the message failed and tells the owner.
	b.chat.fail = &bot.PermanentError{Reason: "Forbidden: bot was blocked by the user"}
	err = w.Work(ctx, job(args, 2))
	var cancel *rivertype.JobCancelError
	require.ErrorAs(t, err, &cancel)
	m, err = b.store.Message(ctx, b.shop.ID, ms[0].ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageFailed, m.Status)
	notices, err := b.store.Notices(ctx, b.shop.ID, 10)
	require.NoError(t, err)
	require.Len(t, notices, 1)
	require.Equal(t, orders.NoticeMessageFailed, notices[0].Kind)
}

// paid creates an order and pays it through the sandbox, as the webhook would.
func (b *bundle) paid(t *testing.T) (*orders.Order, *orders.Attempt) {
	t.Helper()
	ctx := context.Background()
	o := b.order(t, orders.ChannelWebchat)
	a, o, err := b.svc.StartAttempt(ctx, o.Link.Token, "sandbox")
	require.NoError(t, err)
	g, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	sess, err := g.CreateSession(ctx, gateway.SessionRequest{ShopID: b.shop.ID, OrderID: o.ID, AttemptID: a.ID, Amount: a.Amount, Currency: a.Currency, ReturnURL: "https://pay.example/r"})
	require.NoError(t, err)
	require.NoError(t, b.svc.AttachSession(ctx, a, sess.ID))
	_, err = b.sandbox.Complete(ctx, sess.ID, sandbox.Outcome("success"), sandbox.Delivery("none"))
	require.NoError(t, err)
	return o, a
}

func TestReconcileAndRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.jobs.cfg.ReconcileAfter = -1 // every attempt is old enough in this test
	o, _ := b.paid(t)

	n, err := b.jobs.Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusPaid, got.Status)
	// A second pass finds nothing left to settle and changes nothing.
	n, err = b.jobs.Reconcile(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	amount := int64(40000)
	r, err := b.svc.CreateRefund(ctx, b.shop.ID, o.ID, &amount)
	require.NoError(t, err)
	w := &refundWorker{j: b.jobs}
	args := orders.ProcessRefund{ShopID: b.shop.ID, RefundID: r.ID}
	require.NoError(t, w.Work(ctx, job(args, 1)))
	require.NoError(t, w.Work(ctx, job(args, 2)), "a rerun of a completed refund is a no-op")
	r, err = b.store.Refund(ctx, b.shop.ID, r.ID)
	require.NoError(t, err)
	require.Equal(t, orders.RefundSucceeded, r.Status)
	require.NotEmpty(t, r.GatewayRef)
	got, err = b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentPartiallyRefunded, got.PaymentStatus)
	require.EqualValues(t, 40000, got.Payments[0].RefundedAmount)
}

func TestReconcileLeavesRecentAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jobs.cfg.ReconcileAfter = 1 << 40 // nothing is old enough
	b.paid(t)
	n, err := b.jobs.Reconcile(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
}

// recordingNotifier is a staff chat that records the notices it was given.
type recordingNotifier struct {
	mu    sync.Mutex
	texts []string
	fail  error
}

func (n *recordingNotifier) Notify(_ context.Context, _ *orders.Shop, notice *orders.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return n.fail
	}
	n.texts = append(n.texts, notice.Text)
	return nil
}

func TestDeliverNotice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.jobs.cfg.ReconcileAfter = -1
	o, _ := b.paid(t)
	_, err := b.jobs.Reconcile(ctx)
	require.NoError(t, err)
	notices, err := b.store.Notices(ctx, b.shop.ID, 10)
	require.NoError(t, err)
	require.Len(t, notices, 1)
	require.Contains(t, notices[0].Text, "#"+o.Code)
	w := &noticeWorker{j: b.jobs}
	args := orders.DeliverNotice{ShopID: b.shop.ID, NoticeID: notices[0].ID}

	b.staff.fail = errors.New("telegram: 429 too many requests")
	require.ErrorContains(t, w.Work(ctx, job(args, 1)), "429", "a passing failure is retried")
	b.staff.fail = nil
	require.NoError(t, w.Work(ctx, job(args, 2)))
	require.Equal(t, []string{notices[0].Text}, b.staff.texts)

	b.staff.fail = &bot.PermanentError{Reason: "chat not found"}
	var cancel *rivertype.JobCancelError
	require.ErrorAs(t, w.Work(ctx, job(args, 3)), &cancel, "a permanent failure is not retried")
}

func TestDeliverMessageRespectsRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.jobs.cfg.Limiter = memory.New(memory.Options{})
	b.jobs.cfg.Account = func(*orders.Shop, string) string { return "bot1" }
	first, second := b.order(t, "telegram"), b.order(t, "telegram")
	m1, err := b.store.OrderMessages(ctx, b.shop.ID, first.ID)
	require.NoError(t, err)
	m2, err := b.store.OrderMessages(ctx, b.shop.ID, second.ID)
	require.NoError(t, err)
	w := &messageWorker{j: b.jobs}

	require.NoError(t, w.Work(ctx, job(orders.DeliverMessage{ShopID: b.shop.ID, MessageID: m1[0].ID}, 1)))
	// The same Telegram chat a moment later: over its ~1 message/s, so the job waits
	// instead of sending.
	err = w.Work(ctx, job(orders.DeliverMessage{ShopID: b.shop.ID, MessageID: m2[0].ID}, 1))
	var snooze *rivertype.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Positive(t, snooze.Duration)
	require.LessOrEqual(t, snooze.Duration, 1030*time.Millisecond)
	require.Equal(t, []string{m1[0].ID}, b.chat.sent)
	m, err := b.store.Message(ctx, b.shop.ID, m2[0].ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageQueued, m.Status)
}

func TestDeliverMessageWaitsWhenThePlatformSays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	o := b.order(t, "telegram")
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	w := &messageWorker{j: b.jobs}
	args := orders.DeliverMessage{ShopID: b.shop.ID, MessageID: ms[0].ID}

	// A 429 with retry_after: the job comes back then, and the attempt is not
	// counted, even on what would be the last one.
	b.chat.fail = &bot.RateLimitedError{After: 7 * time.Second, Err: errors.New("Too Many Requests: retry after 7")}
	err = w.Work(ctx, job(args, 5))
	var snooze *rivertype.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Equal(t, 7*time.Second, snooze.Duration)
	m, err := b.store.Message(ctx, b.shop.ID, ms[0].ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageQueued, m.Status, "still queued, not failed")

	b.chat.fail = nil
	require.NoError(t, w.Work(ctx, job(args, 5)))
	m, err = b.store.Message(ctx, b.shop.ID, ms[0].ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageSent, m.Status)
}

// handlerFunc is a ChatHandler from a function.
type handlerFunc func(ctx context.Context, shop *orders.Shop, u *orders.ChatUpdate) error

func (f handlerFunc) HandleUpdate(ctx context.Context, shop *orders.Shop, u *orders.ChatUpdate) error {
	return f(ctx, shop, u)
}

func TestProcessChatUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ups := []*orders.ChatUpdate{
		{UpdateID: 5, Payload: []byte(`{"update_id":5}`)},
		{UpdateID: 6, Payload: []byte(`{"update_id":6}`)},
		{UpdateID: 7, Payload: []byte(`{"update_id":7}`)},
	}
	_, err := b.svc.RecordChatUpdates(ctx, b.shop.ID, "telegram:1", ups, 0)
	require.NoError(t, err)
	var got []int64
	var fail error
	b.jobs.cfg.ChatHandler = handlerFunc(func(_ context.Context, shop *orders.Shop, u *orders.ChatUpdate) error {
		require.Equal(t, b.shop, shop)
		got = append(got, u.UpdateID)
		return fail
	})
	w := &chatUpdateWorker{j: b.jobs}
	args := func(id int64) orders.ProcessChatUpdate {
		return orders.ProcessChatUpdate{ShopID: b.shop.ID, Source: "telegram:1", UpdateID: id}
	}
	processed := func(id int64) bool {
		u, err := b.store.ChatUpdate(ctx, b.shop.ID, "telegram:1", id)
		require.NoError(t, err)
		return u.ProcessedAt != nil
	}

	require.NoError(t, w.Work(ctx, job(args(5), 1)))
	require.True(t, processed(5))
	require.NoError(t, w.Work(ctx, job(args(5), 2)), "a rerun after the work was done")
	require.Equal(t, []int64{5}, got, "is not handled again")

	// A passing failure is retried and leaves the update unprocessed; on the last
	// attempt it is given up on, so that the chat's next update is not held forever.
	fail = errors.New("telegram: 502")
	require.ErrorContains(t, w.Work(ctx, job(args(6), 1)), "502")
	require.False(t, processed(6))
	require.ErrorContains(t, w.Work(ctx, job(args(6), 5)), "502")
	require.True(t, processed(6))

	fail = &bot.PermanentError{Reason: "not an update"}
	var cancel *rivertype.JobCancelError
	require.ErrorAs(t, w.Work(ctx, job(args(7), 1)), &cancel, "a permanent failure is not retried")
	require.True(t, processed(7))

	require.ErrorAs(t, w.Work(ctx, job(args(8), 1)), &cancel, "an update that was never recorded")
	require.Equal(t, []int64{5, 6, 6, 7}, got)
}

func TestProcessChatUpdateKeepsChatOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ups := []*orders.ChatUpdate{
		{UpdateID: 1, Payload: []byte(`{}`), Chat: "5001"},
		{UpdateID: 2, Payload: []byte(`{}`), Chat: "5001"},
		{UpdateID: 3, Payload: []byte(`{}`), Chat: "5002"},
	}
	_, err := b.svc.RecordChatUpdates(ctx, b.shop.ID, "telegram:1", ups, 0)
	require.NoError(t, err)
	var got []int64
	b.jobs.cfg.ChatHandler = handlerFunc(func(_ context.Context, _ *orders.Shop, u *orders.ChatUpdate) error {
		got = append(got, u.UpdateID)
		return nil
	})
	w := &chatUpdateWorker{j: b.jobs}
	args := func(id int64) orders.ProcessChatUpdate {
		return orders.ProcessChatUpdate{ShopID: b.shop.ID, Source: "telegram:1", UpdateID: id}
	}
	// The chat's second update comes first: it waits; another chat's does not.
	var snooze *rivertype.JobSnoozeError
	require.ErrorAs(t, w.Work(ctx, job(args(2), 1)), &snooze)
	require.NoError(t, w.Work(ctx, job(args(3), 1)))
	require.NoError(t, w.Work(ctx, job(args(1), 1)))
	require.NoError(t, w.Work(ctx, job(args(2), 1)))
	require.Equal(t, []int64{3, 1, 2}, got)
}

func TestDeliverMessageKeepsChatOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	first, second := b.order(t, "telegram"), b.order(t, "telegram") // the same chat
	m1, err := b.store.OrderMessages(ctx, b.shop.ID, first.ID)
	require.NoError(t, err)
	m2, err := b.store.OrderMessages(ctx, b.shop.ID, second.ID)
	require.NoError(t, err)
	w := &messageWorker{j: b.jobs}

	// The second card's job runs first: it waits for the first card.
	err = w.Work(ctx, job(orders.DeliverMessage{ShopID: b.shop.ID, MessageID: m2[0].ID}, 1))
	var snooze *rivertype.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Empty(t, b.chat.sent)

	require.NoError(t, w.Work(ctx, job(orders.DeliverMessage{ShopID: b.shop.ID, MessageID: m1[0].ID}, 1)))
	require.NoError(t, w.Work(ctx, job(orders.DeliverMessage{ShopID: b.shop.ID, MessageID: m2[0].ID}, 1)))
	require.Equal(t, []string{m1[0].ID, m2[0].ID}, b.chat.sent, "in the order they were queued")
}

func TestStaffMessagesCountAgainstTheOperatorGroup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	limiter := memory.New(memory.Options{})
	b.jobs.cfg.Limiter = limiter
	b.jobs.cfg.Account = func(*orders.Shop, string) string { return "bot1" }
	b.jobs.cfg.OperatorChat = func(string) int64 { return -100777 }
	_, _, err := b.svc.ReceiveMessage(ctx, b.shop.ID, orders.InboundMessage{Channel: "telegram", ExternalID: "12345", Key: "k1", Text: "hi"},
		orders.Outbound{Direction: orders.DirectionStaff, Kind: orders.KindMirror, Text: "hi"})
	require.NoError(t, err)
	staffID := "out:k1:0" // the first message queued under the key
	m, err := b.store.Message(ctx, b.shop.ID, staffID)
	require.NoError(t, err)
	require.Equal(t, orders.DirectionStaff, m.Direction)
	w := &messageWorker{j: b.jobs}
	require.NoError(t, w.Work(ctx, job(orders.DeliverMessage{ShopID: b.shop.ID, MessageID: staffID}, 1)))

	// The group's per-minute budget was charged, not the customer's chat's: the
	// customer's chat is still free, the group has 19 of 20 left.
	wait, err := limiter.Reserve(ctx, bot.TelegramLimits("bot1", 12345)...)
	require.NoError(t, err)
	require.Zero(t, wait, "the customer's chat was not charged")
	for range 19 {
		wait, err = limiter.Reserve(ctx, bot.Limit{Key: "tg:{bot1}:group:-100777", Events: 20, Per: time.Minute})
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	wait, err = limiter.Reserve(ctx, bot.Limit{Key: "tg:{bot1}:group:-100777", Events: 20, Per: time.Minute})
	require.NoError(t, err)
	require.Positive(t, wait, "the staff message took one of the group's 20 a minute")
}

// expiringGateway is a gateway whose sessions can be expired (as Stripe's): it records
// the sessions it was asked to expire and fails the way it is told to.
type expiringGateway struct {
	gateway.Gateway
	mu      sync.Mutex
	expired []string
	fail    map[string]error
}

func (g *expiringGateway) ExpireSession(_ context.Context, sessionID string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.fail[sessionID]; err != nil {
		return err
	}
	g.expired = append(g.expired, sessionID)
	return nil
}

func (g *expiringGateway) calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.expired...)
}

// attempt starts a payment attempt for o; with session it also opens a sandbox
// checkout session for it, as a tap of Pay now does.
func (b *bundle) attempt(t *testing.T, o *orders.Order, session bool) *orders.Attempt {
	t.Helper()
	ctx := context.Background()
	a, _, err := b.svc.StartAttempt(ctx, o.Link.Token, "sandbox")
	require.NoError(t, err)
	if !session {
		return a
	}
	g, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	sess, err := g.CreateSession(ctx, gateway.SessionRequest{ShopID: b.shop.ID, OrderID: o.ID, AttemptID: a.ID, Amount: a.Amount, Currency: a.Currency, ReturnURL: "https://pay.example/r"})
	require.NoError(t, err)
	require.NoError(t, b.svc.AttachSession(ctx, a, sess.ID))
	return a
}

// setStatus moves an attempt to status, as a gateway event would.
func (b *bundle) setStatus(t *testing.T, a *orders.Attempt, status string) {
	t.Helper()
	require.NoError(t, b.store.InTx(context.Background(), func(tx orders.Tx) error {
		cur, err := tx.LockAttempt(context.Background(), a.ShopID, a.ID)
		if err != nil {
			return err
		}
		cur.Status = status
		return tx.UpdateAttempt(context.Background(), cur)
	}))
}

// expireJobs returns the expire_sessions jobs enqueued so far.
func (b *bundle) expireJobs(t *testing.T) []orders.ExpireSessions {
	t.Helper()
	rows, err := b.store.Writer().QueryContext(context.Background(), `SELECT json(args) FROM river_job WHERE kind = ? ORDER BY id`, orders.ExpireSessions{}.Kind())
	require.NoError(t, err)
	defer rows.Close()
	var out []orders.ExpireSessions
	for rows.Next() {
		var args string
		require.NoError(t, rows.Scan(&args))
		var j orders.ExpireSessions
		require.NoError(t, json.Unmarshal([]byte(args), &j))
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestCancelExpiresOpenSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	sb, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	gw := &expiringGateway{Gateway: sb}
	b.jobs.cfg.Gateways.Add(b.shop.ID, gw) // replaces the plain sandbox

	o := b.order(t, orders.ChannelWebchat)
	open1 := b.attempt(t, o, true)
	open2 := b.attempt(t, o, true)
	b.attempt(t, o, false) // Pay now tapped, but no session was opened
	pending := b.attempt(t, o, true)
	b.setStatus(t, pending, orders.AttemptPending)
	failed := b.attempt(t, o, true)
	b.setStatus(t, failed, orders.AttemptFailed)
	other := b.order(t, orders.ChannelWebchat)
	b.attempt(t, other, true) // another order's session stays open

	require.Empty(t, b.expireJobs(t), "nothing is expired before the cancel")
	_, err = b.svc.CancelOrder(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	args := orders.ExpireSessions{ShopID: b.shop.ID, OrderID: o.ID}
	require.Equal(t, []orders.ExpireSessions{args}, b.expireJobs(t), "one job, committed with the cancel")

	w := &expireSessionsWorker{j: b.jobs}
	require.NoError(t, w.Work(ctx, job(args, 1)))
	require.Equal(t, []string{open1.SessionID, open2.SessionID}, gw.calls(), "the created attempts' sessions, each once")

	// A rerun asks again only about those sessions, which the gateway answers without
	// error once they are expired.
	require.NoError(t, w.Work(ctx, job(args, 2)))
	require.Equal(t, []string{open1.SessionID, open2.SessionID, open1.SessionID, open2.SessionID}, gw.calls())
}

func TestExpireSessionsFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	sb, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	gw := &expiringGateway{Gateway: sb}
	b.jobs.cfg.Gateways.Add(b.shop.ID, gw)
	o := b.order(t, orders.ChannelWebchat)
	a1, a2 := b.attempt(t, o, true), b.attempt(t, o, true)
	_, err = b.svc.CancelOrder(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	w := &expireSessionsWorker{j: b.jobs}
	args := orders.ExpireSessions{ShopID: b.shop.ID, OrderID: o.ID}

	// A passing failure fails the job, so River runs it again; the order's other
	// sessions are expired meanwhile.
	gw.fail = map[string]error{a1.SessionID: errors.New("stripe: 502 bad gateway")}
	err = w.Work(ctx, job(args, 1))
	require.ErrorContains(t, err, "502")
	var cancel *rivertype.JobCancelError
	require.False(t, errors.As(err, &cancel))
	require.Equal(t, []string{a2.SessionID}, gw.calls())

	// An answer that will not change is logged and the job ends.
	gw.fail = map[string]error{a1.SessionID: orders.Errorf(orders.ENOTFOUND, "no such checkout session")}
	require.NoError(t, w.Work(ctx, job(args, 2)))
	require.Equal(t, []string{a2.SessionID, a2.SessionID}, gw.calls())

	gw.fail = nil
	require.NoError(t, w.Work(ctx, job(args, 3)))
	require.ElementsMatch(t, []string{a2.SessionID, a2.SessionID, a1.SessionID, a2.SessionID}, gw.calls())
}

func TestExpireSessionsWithoutExpirer(t *testing.T) {
	t.Parallel()
	b := setup(t) // the plain sandbox: its sessions cannot be expired
	ctx := context.Background()
	sb, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	_, ok := sb.(gateway.SessionExpirer)
	require.False(t, ok, "the test needs a gateway without SessionExpirer")
	o := b.order(t, orders.ChannelWebchat)
	b.attempt(t, o, true)
	_, err = b.svc.CancelOrder(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	args := orders.ExpireSessions{ShopID: b.shop.ID, OrderID: o.ID}
	require.Equal(t, []orders.ExpireSessions{args}, b.expireJobs(t))
	require.NoError(t, (&expireSessionsWorker{j: b.jobs}).Work(ctx, job(args, 1)))

	// An order that is gone, or never had attempts, is nothing to do either.
	require.NoError(t, (&expireSessionsWorker{j: b.jobs}).Work(ctx, job(orders.ExpireSessions{ShopID: b.shop.ID, OrderID: orders.NewID()}, 1)))
}
