package orders_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// chRecorder is an orders.ChangePublisher that keeps what it is given. When check is
// set it runs on every change as it is published, with the store, so a test can look
// at what a reader outside the transaction sees at that moment.
type chRecorder struct {
	mu      sync.Mutex
	changes []orders.Change
	check   func(orders.Change)
}

func (r *chRecorder) Publish(_ context.Context, c orders.Change) {
	if r.check != nil {
		r.check(c)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, c)
}

// take returns what was published since the last take.
func (r *chRecorder) take() []orders.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.changes
	r.changes = nil
	return out
}

// chStore wraps a store so that a test can make its transactions fail after fn ran
// (rolled back, as a failed commit would be) or run fn twice (a rolled-back first try,
// then the one that commits, as a store retrying a busy transaction does).
type chStore struct {
	orders.Store
	mu   sync.Mutex
	mode string // "", "fail" or "retry"
}

var errRolledBack = errors.New("rolled back by the test")

func (s *chStore) set(mode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = mode
}

func (s *chStore) InTx(ctx context.Context, fn func(tx orders.Tx) error) error {
	s.mu.Lock()
	mode := s.mode
	s.mu.Unlock()
	failing := func(tx orders.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errRolledBack
	}
	switch mode {
	case "fail":
		return s.Store.InTx(ctx, failing)
	case "retry":
		if err := s.Store.InTx(ctx, failing); !errors.Is(err, errRolledBack) {
			return err
		}
	}
	return s.Store.InTx(ctx, fn)
}

type chBundle struct {
	ctx   context.Context
	svc   *orders.Service
	store *chStore
	pub   *chRecorder
}

func chSetup(t *testing.T) *chBundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	tpl, err := templates.New()
	require.NoError(t, err)
	b := &chBundle{ctx: ctx, store: &chStore{Store: st}, pub: &chRecorder{}}
	b.svc, err = orders.NewService(orders.Config{
		Shops: []*orders.Shop{
			{ID: "a", Name: "Shop A", Currency: "VND", Locale: "en", SendPaidConfirmation: true, Gateways: []string{"sandbox"}},
			{ID: "b", Name: "Shop B", Currency: "THB", Locale: "en", Gateways: []string{"sandbox"}},
		},
		Store:     b.store,
		Renderer:  bot.Renderer{Templates: tpl},
		PublicURL: "https://pay.example",
		LinkKey:   []byte(strings.Repeat("k", orders.LinkKeyLen)),
		Changes:   b.pub,
	})
	require.NoError(t, err)
	return b
}

func chInput(visitor string) orders.CreateOrderInput {
	return orders.CreateOrderInput{
		Customer: orders.Customer{Channel: orders.ChannelWebchat, ExternalID: visitor, Name: "Lan"},
		Items:    []orders.Item{{Name: "T-shirt", Quantity: 2, UnitPrice: 150_000}},
	}
}

// payable creates an order with a conversation and an attempt with a session, and
// forgets what that published.
func (b *chBundle) payable(t *testing.T) (*orders.Order, *orders.Attempt) {
	t.Helper()
	o, err := b.svc.CreateOrder(b.ctx, "a", chInput("visitor-"+orders.NewID()))
	require.NoError(t, err)
	a, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "sandbox")
	require.NoError(t, err)
	require.NoError(t, b.svc.AttachSession(b.ctx, a, "sess-"+orders.NewID()))
	b.pub.take()
	return o, a
}

func succeeded(a *orders.Attempt) *orders.GatewayEvent {
	return &orders.GatewayEvent{
		ShopID: a.ShopID, Gateway: "sandbox", EventID: "evt-" + orders.NewID(), Type: orders.EventSucceeded,
		SessionID: a.SessionID, Amount: a.Amount, Currency: a.Currency,
	}
}

func TestChangesOfCreateOrder(t *testing.T) {
	t.Parallel()
	b := chSetup(t)
	o, err := b.svc.CreateOrder(b.ctx, "a", chInput("visitor-1"))
	require.NoError(t, err)
	require.NotEmpty(t, o.ConversationID)
	require.Equal(t, []orders.Change{
		{Kind: orders.ChangeOrder, Shop: "a", Order: o.ID, Conversation: o.ConversationID},
		{Kind: orders.ChangeMessage, Shop: "a", Order: o.ID, Conversation: o.ConversationID}, // the order card
	}, b.pub.take())

	// An order for nobody's chat is a change of the order alone.
	in := chInput("")
	in.Customer = orders.Customer{}
	o, err = b.svc.CreateOrder(b.ctx, "b", in)
	require.NoError(t, err)
	require.Equal(t, []orders.Change{{Kind: orders.ChangeOrder, Shop: "b", Order: o.ID}}, b.pub.take())
}

// TestChangesOfPayment: a payment applied from a webhook publishes the order (with its
// conversation) and the paid confirmation it queued, once the transaction has
// committed: at the moment of publishing, a reader already sees the order paid.
func TestChangesOfPayment(t *testing.T) {
	t.Parallel()
	b := chSetup(t)
	o, a := b.payable(t)
	var seen []string
	b.pub.check = func(c orders.Change) {
		got, err := b.svc.Order(b.ctx, c.Shop, o.ID)
		require.NoError(t, err)
		seen = append(seen, got.Status)
	}
	res, err := b.svc.ApplyEvent(b.ctx, succeeded(a))
	require.NoError(t, err)
	require.True(t, res.Paid)
	b.pub.check = nil
	changes := b.pub.take()
	require.Contains(t, changes, orders.Change{Kind: orders.ChangeOrder, Shop: "a", Order: o.ID, Conversation: o.ConversationID})
	require.Contains(t, changes, orders.Change{Kind: orders.ChangeMessage, Shop: "a", Order: o.ID, Conversation: o.ConversationID})
	require.Len(t, changes, 2, "each change once, however many rows it wrote: %v", changes)
	require.Equal(t, []string{orders.StatusPaid, orders.StatusPaid}, seen, "published only after the commit")

	// The same event again is a duplicate: nothing changed, nothing is published.
	ev := succeeded(a)
	ev.EventID = "evt-replayed"
	_, err = b.svc.ApplyEvent(b.ctx, ev)
	require.NoError(t, err)
	b.pub.take()
	res, err = b.svc.ApplyEvent(b.ctx, ev)
	require.NoError(t, err)
	require.True(t, res.Duplicate)
	require.Empty(t, b.pub.take())
}

// TestChangesOfDelivery: recording a message's delivery publishes the message's
// conversation and order after the commit.
func TestChangesOfDelivery(t *testing.T) {
	t.Parallel()
	b := chSetup(t)
	o, _ := b.payable(t)
	ms, err := b.svc.Store().OrderMessages(b.ctx, "a", o.ID)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	card := ms[0]
	var status string
	b.pub.check = func(orders.Change) {
		m, err := b.svc.Store().Message(b.ctx, "a", card.ID)
		require.NoError(t, err)
		status = m.Status
	}
	require.NoError(t, b.svc.RecordDelivery(b.ctx, "a", card.ID, orders.MessageDelivery{Sent: true, ExternalID: "x-1"}, false))
	require.Equal(t, []orders.Change{{Kind: orders.ChangeMessage, Shop: "a", Order: o.ID, Conversation: o.ConversationID}}, b.pub.take())
	require.Equal(t, orders.MessageSent, status)
}

// TestChangesOfInboundMessage: a customer's message publishes its conversation (it is
// about no order), and the same platform delivery recorded again publishes nothing.
func TestChangesOfInboundMessage(t *testing.T) {
	t.Parallel()
	b := chSetup(t)
	in := orders.InboundMessage{Channel: orders.ChannelWebchat, ExternalID: "visitor-9", Key: "webchat:1", Text: "hello"}
	conv, fresh, err := b.svc.ReceiveMessage(b.ctx, "a", in,
		orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindWelcome, Text: "Welcome"})
	require.NoError(t, err)
	require.True(t, fresh)
	require.Equal(t, []orders.Change{{Kind: orders.ChangeMessage, Shop: "a", Conversation: conv.ID}}, b.pub.take(),
		"the message and the reply are one change of the conversation")

	_, fresh, err = b.svc.ReceiveMessage(b.ctx, "a", in)
	require.NoError(t, err)
	require.False(t, fresh)
	require.Empty(t, b.pub.take())

	require.NoError(t, b.svc.SendMessages(b.ctx, "a", conv.ID, "reply-1",
		orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindStaffReply, Text: "Hi!"}))
	require.Equal(t, []orders.Change{{Kind: orders.ChangeMessage, Shop: "a", Conversation: conv.ID}}, b.pub.take())
}

// TestChangesOfOrderActions: the dashboard's actions publish the order and the
// message each one queues; a refused action publishes nothing.
func TestChangesOfOrderActions(t *testing.T) {
	t.Parallel()
	b := chSetup(t)
	o, a := b.payable(t)
	_, err := b.svc.ApplyEvent(b.ctx, succeeded(a))
	require.NoError(t, err)
	b.pub.take()
	order := orders.Change{Kind: orders.ChangeOrder, Shop: "a", Order: o.ID, Conversation: o.ConversationID}
	message := orders.Change{Kind: orders.ChangeMessage, Shop: "a", Order: o.ID, Conversation: o.ConversationID}

	half := o.Total / 2
	r, err := b.svc.CreateRefund(b.ctx, "a", o.ID, &half)
	require.NoError(t, err)
	require.Equal(t, []orders.Change{order}, b.pub.take(), "a refund requested")
	require.NoError(t, b.svc.CompleteRefund(b.ctx, "a", r.ID, orders.RefundResult{Succeeded: true, GatewayRef: "re_1"}))
	require.ElementsMatch(t, []orders.Change{order, message}, b.pub.take(), "a refund done, and the customer told")

	_, err = b.svc.CreateShipment(b.ctx, "a", o.ID, "GHN", "123")
	require.NoError(t, err)
	require.ElementsMatch(t, []orders.Change{order, message}, b.pub.take(), "shipped")

	_, err = b.svc.CancelOrder(b.ctx, "a", o.ID)
	require.Error(t, err, "a shipped order cannot be cancelled")
	require.Empty(t, b.pub.take())

	_, err = b.svc.CompleteOrder(b.ctx, "a", o.ID)
	require.NoError(t, err)
	require.Equal(t, []orders.Change{order}, b.pub.take(), "completed")

	other, err := b.svc.CreateOrder(b.ctx, "a", chInput("visitor-cancel"))
	require.NoError(t, err)
	b.pub.take()
	_, err = b.svc.CancelOrder(b.ctx, "a", other.ID)
	require.NoError(t, err)
	require.ElementsMatch(t, []orders.Change{
		{Kind: orders.ChangeOrder, Shop: "a", Order: other.ID, Conversation: other.ConversationID},
		{Kind: orders.ChangeMessage, Shop: "a", Order: other.ID, Conversation: other.ConversationID},
	}, b.pub.take(), "cancelled, and the customer told")
}

// TestChangesNotPublishedForRollback: a transaction that fails, here after every write
// of the change was made, publishes nothing; one the store retries publishes each
// change once, for the run that committed.
func TestChangesNotPublishedForRollback(t *testing.T) {
	t.Parallel()
	b := chSetup(t)
	o, a := b.payable(t)

	b.store.set("fail")
	_, err := b.svc.ApplyEvent(b.ctx, succeeded(a))
	require.ErrorIs(t, err, errRolledBack)
	_, err = b.svc.CreateOrder(b.ctx, "a", chInput("visitor-2"))
	require.ErrorIs(t, err, errRolledBack)
	ms, err := b.svc.Store().OrderMessages(b.ctx, "a", o.ID)
	require.NoError(t, err)
	err = b.svc.RecordDelivery(b.ctx, "a", ms[0].ID, orders.MessageDelivery{Sent: true}, false)
	require.ErrorIs(t, err, errRolledBack)
	require.Empty(t, b.pub.take())
	got, err := b.svc.Order(b.ctx, "a", o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusAwaitingPayment, got.Status, "the failed transaction changed nothing")

	b.store.set("retry")
	_, err = b.svc.ApplyEvent(b.ctx, succeeded(a))
	require.NoError(t, err)
	changes := b.pub.take()
	require.Len(t, changes, 2, "%v", changes)
	require.Len(t, slices.Compact(slices.Clone(changes)), 2, "no change twice")
}
