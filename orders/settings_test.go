package orders_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

const ownPaid = "Cảm ơn bạn! Đơn #{{.OrderCode}} đã được thanh toán{{with .ShopName}} tại {{.}}{{end}}."

// settingsInput is shop A's form as the page first shows it: the configured values
// and no texts.
func (b *bundle) settingsInput(version int64) orders.SettingsInput {
	return orders.SettingsInput{
		Name: b.a.Name, Locale: b.a.Locale, SendPaidConfirmation: b.a.SendPaidConfirmation,
		Version: version, UserID: "owner-1",
	}
}

func (b *bundle) shop(t *testing.T, svc *orders.Service, id string) *orders.Shop {
	t.Helper()
	sh, err := svc.Shop(id)
	require.NoError(t, err)
	return sh
}

// fieldErrors returns the fields of the EINVALID errors joined in err.
func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
	out := map[string]string{}
	var walk func(error)
	walk = func(err error) {
		var e *orders.Error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, err := range j.Unwrap() {
				walk(err)
			}
		} else if errors.As(err, &e) {
			out[e.Field] = e.Message
		}
	}
	walk(err)
	return out
}

// The owner's paid confirmation replaces the built-in one on the next payment, and
// the owner's order card on the next order; the switch turned off sends none.
func TestSettingsOwnTextsAreSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.settingsInput(0)
	in.Name = "Ánh Dương"
	in.TemplatesLocale = "en"
	in.Templates = map[string]string{
		orders.KindPaidConfirmation: ownPaid,
		orders.KindOrderCard:        "Order #{{.OrderCode}}: {{.Total}}\r\n{{range .Items}}- {{.Name}}\r\n{{end}}",
	}
	st, err := b.svc.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)
	require.Equal(t, "Ánh Dương", b.shop(t, b.svc, shopA).Name, "this replica sees the save at once")

	o := b.create(t, shopA, input())
	b.pay(t, o)
	ms := b.messages(t, o)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, kinds(ms))
	require.Equal(t, "Order #"+o.Code+": ₫330,000\n- Áo thun", ms[0].Text, "the owner's card, with CRLF stored as LF")
	require.Len(t, ms[0].Buttons, 1, "the card keeps its Pay now button")
	require.Equal(t, "Pay now", ms[0].Buttons[0].Label)
	require.Equal(t, "Cảm ơn bạn! Đơn #"+o.Code+" đã được thanh toán tại Ánh Dương.", ms[1].Text)

	// Shop B's messages are untouched by shop A's texts.
	ob := b.create(t, shopB, input())
	require.Contains(t, b.messages(t, ob)[0].Text, "Here's your order")

	// The switch off: paid, and no confirmation at all.
	in = b.settingsInput(st.Version)
	in.SendPaidConfirmation = false
	st, err = b.svc.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	o2 := b.create(t, shopA, input())
	b.pay(t, o2)
	require.Equal(t, []string{orders.KindOrderCard}, kinds(b.messages(t, o2)))
	require.False(t, b.shop(t, b.svc, shopA).SendPaidConfirmation)

	// The saved texts stayed (the form above left them out); the default text
	// submitted again goes back to the built-in one.
	saved, err := b.svc.ShopSettings(b.ctx, shopA)
	require.NoError(t, err)
	require.Equal(t, ownPaid, saved.Templates["en"][orders.KindPaidConfirmation])
	in = b.settingsInput(st.Version)
	in.TemplatesLocale = "en"
	in.Templates = map[string]string{
		orders.KindPaidConfirmation: b.svc.DefaultMessage("en", orders.KindPaidConfirmation) + "\r\n\r\n",
		orders.KindOrderCard:        "",
	}
	st, err = b.svc.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	require.Empty(t, st.Templates, "no texts of its own left")
	require.Nil(t, b.shop(t, b.svc, shopA).Messages)
}

// A text that would fail is refused with the reason, naming the language and the
// message; every field in error is reported at once, and nothing is saved.
func TestSettingsRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.settingsInput(0)
	in.Name = "  "
	in.Locale = "de"
	in.DisplayToman = true
	in.TemplatesLocale = "vi"
	in.Templates = map[string]string{
		orders.KindPaidConfirmation: "Cảm ơn bạn đã thanh toán!",
		orders.KindShipped:          "Đơn #{{.OrderCode}} {{.Tracking}}",
		"welcome":                   "hi",
	}
	_, err := b.svc.SaveSettings(b.ctx, shopA, in)
	fields := fieldErrors(t, err)
	require.Len(t, fields, 6, "%v", fields)
	require.Contains(t, fields["name"], "needs a name")
	require.Contains(t, fields["locale"], `not "de"`)
	require.Contains(t, fields["display_toman"], "IRR", "toman only for shops that sell in rials")
	require.Equal(t, "The paid_confirmation message in vi: the text must show the order's code, {{.OrderCode}}",
		fields["templates.vi.paid_confirmation"])
	require.Contains(t, fields["templates.vi.shipped"], "The shipped message in vi: line 1: {{.Tracking}} is not something this message can show")
	require.Contains(t, fields["templates.vi.welcome"], "not a message")

	st, err := b.svc.ShopSettings(b.ctx, shopA)
	require.NoError(t, err)
	require.Zero(t, st.Version, "nothing saved")
	require.Equal(t, "Shop A", b.shop(t, b.svc, shopA).Name)

	in = b.settingsInput(0)
	in.Name = "Tab\there"
	_, err = b.svc.SaveSettings(b.ctx, shopA, in)
	require.Contains(t, fieldErrors(t, err)["name"], "one line")
	in.Name = strings.Repeat("ể", 101)
	_, err = b.svc.SaveSettings(b.ctx, shopA, in)
	require.Contains(t, fieldErrors(t, err)["name"], "at most 100")
	in = b.settingsInput(0)
	in.TemplatesLocale = "xx"
	_, err = b.svc.SaveSettings(b.ctx, shopA, in)
	require.Contains(t, fieldErrors(t, err), "templates_locale")
}

// A form made from an older version saves nothing and says so; values equal to the
// configuration follow it; reset hands every field back to the configuration.
func TestSettingsCompareAndSetAndReset(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.settingsInput(0)
	st, err := b.svc.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	require.Nil(t, st.Name, "the configured name is not pinned")
	require.Nil(t, st.Locale)
	require.Nil(t, st.SendPaidConfirmation)
	require.Same(t, b.a, b.shop(t, b.svc, shopA), "settings equal to the configuration leave the configured shop")

	in = b.settingsInput(st.Version)
	in.Name, in.Locale = "Tiệm Hoa", "vi"
	st, err = b.svc.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Version)

	stale := b.settingsInput(1)
	stale.Name = "Lost"
	_, err = b.svc.SaveSettings(b.ctx, shopA, stale)
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err))
	require.Contains(t, orders.ErrorMessage(err), "Someone saved these settings after you opened them")
	require.Equal(t, "Tiệm Hoa", b.shop(t, b.svc, shopA).Name)

	_, err = b.svc.ResetSettings(b.ctx, shopA, 1, "owner-1")
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err), "reset is compare-and-set too")
	st, err = b.svc.ResetSettings(b.ctx, shopA, st.Version, "owner-1")
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Version)
	sh := b.shop(t, b.svc, shopA)
	require.Equal(t, "Shop A", sh.Name)
	require.Equal(t, "en", sh.Locale)

	_, err = b.svc.SaveSettings(b.ctx, "no-such-shop", in)
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
}

// irrService is a service with one shop that sells in Iranian rials.
func irrService(t *testing.T, store *sqlite.Store, tpl *templates.Templates) *orders.Service {
	t.Helper()
	svc, err := orders.NewService(orders.Config{
		Shops:    []*orders.Shop{{ID: "shop-ir", Name: "Ir", Currency: "IRR", Locale: "fa", SendPaidConfirmation: true, Gateways: []string{sandbox}}},
		Store:    store,
		Renderer: bot.Renderer{Templates: tpl}, PublicURL: publicURL,
		LinkKey: []byte(strings.Repeat("k", orders.LinkKeyLen)),
	})
	require.NoError(t, err)
	require.NoError(t, svc.LoadSettings(context.Background()))
	return svc
}

func TestSettingsTomanOnlyForIRR(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := irrService(t, b.store, b.tpl)
	text, _, err := svc.Preview("shop-ir", "en", orders.KindOrderCard, "")
	require.NoError(t, err)
	require.Contains(t, text, "rial", "rials until the owner asks for toman")

	_, err = svc.SaveSettings(b.ctx, "shop-ir", orders.SettingsInput{Name: "Ir", Locale: "fa", DisplayToman: true, SendPaidConfirmation: true})
	require.NoError(t, err)
	require.True(t, b.shop(t, svc, "shop-ir").DisplayToman)
	text, _, err = svc.Preview("shop-ir", "en", orders.KindOrderCard, "")
	require.NoError(t, err)
	require.Contains(t, text, "toman")
	require.Contains(t, text, "Total: 38,000 toman", "a tenth of the 380,000 rials")

	_, err = b.svc.SaveSettings(b.ctx, shopA, orders.SettingsInput{Name: "Shop A", Locale: "en", DisplayToman: true})
	require.Contains(t, fieldErrors(t, err), "display_toman")
}

// Another replica (another Service on the same store) sees a save when it reloads:
// on the ChangeSettings the save publishes, or at the latest on its next tick.
func TestSettingsReloadOnAnotherReplica(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pub := &changeLog{}
	one, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{b.a, b.b}, Store: b.store, Renderer: bot.Renderer{Templates: b.tpl},
		PublicURL: publicURL, LinkKey: b.key, Changes: pub,
	})
	require.NoError(t, err)
	other := b.service(t, b.key)

	in := b.settingsInput(0)
	in.Name = "Renamed"
	in.TemplatesLocale = "en"
	in.Templates = map[string]string{orders.KindPaidConfirmation: "Paid: #{{.OrderCode}}"}
	_, err = one.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	require.Equal(t, []orders.Change{{Kind: orders.ChangeSettings, Shop: shopA}}, pub.all(), "other replicas are told")

	require.Equal(t, "Shop A", b.shop(t, other, shopA).Name, "until it reloads")
	require.NoError(t, other.ReloadShopSettings(b.ctx, shopA))
	sh := b.shop(t, other, shopA)
	require.Equal(t, "Renamed", sh.Name)
	require.Equal(t, "Paid: #{{.OrderCode}}", sh.Messages[orders.KindPaidConfirmation].Source())
	require.Equal(t, "Shop B", b.shop(t, other, shopB).Name)

	// A third replica that never hears of the change catches up on its tick.
	third := b.service(t, b.key)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	go third.WatchSettings(ctx, 10*time.Millisecond, nil, func(err error) { t.Error(err) })
	require.Eventually(t, func() bool { return b.shop(t, third, shopA).Name == "Renamed" }, 30*time.Second, 10*time.Millisecond)

	// A reset reaches the others the same way.
	_, err = one.ResetSettings(b.ctx, shopA, 1, "owner-1")
	require.NoError(t, err)
	require.NoError(t, other.ReloadSettings(b.ctx))
	require.Equal(t, "Shop A", b.shop(t, other, shopA).Name)
}

type changeLog struct {
	mu sync.Mutex
	cs []orders.Change
}

func (l *changeLog) Publish(_ context.Context, c orders.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cs = append(l.cs, c)
}

func (l *changeLog) all() []orders.Change {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]orders.Change(nil), l.cs...)
}

// A text saved under an older chatpay that this one refuses is left out when the
// shops load: the built-in text is sent, and the problem is reported.
func TestSettingsLoadSkipsTextsThatNoLongerCompile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.store.InTx(b.ctx, func(tx orders.Tx) error {
		return tx.SaveShopSettings(b.ctx, &orders.ShopSettings{ShopID: shopA, Name: ptr("Kept"),
			Templates: map[string]map[string]string{"en": {
				orders.KindPaidConfirmation: "no code here",
				orders.KindShipped:          "Shipped #{{.OrderCode}}",
			}}, UpdatedAt: b.now})
	}))
	svc := b.service(t, b.key)
	err := svc.LoadSettings(b.ctx)
	var refused *orders.TextsRefusedError
	require.ErrorAs(t, err, &refused, "not a failure to stop for")
	require.Len(t, refused.Errs, 1)
	require.ErrorContains(t, err, "shop-a: paid_confirmation (en)")
	sh := b.shop(t, svc, shopA)
	require.Equal(t, "Kept", sh.Name, "the rest is applied")
	require.Contains(t, sh.Messages, orders.KindShipped)
	require.NotContains(t, sh.Messages, orders.KindPaidConfirmation)
}

func TestSettingsPreview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	text, buttons, err := b.svc.Preview(shopA, "vi", orders.KindOrderCard, "")
	require.NoError(t, err)
	require.Contains(t, text, "Đơn hàng #1042", "the built-in Vietnamese card for the sample order")
	require.Contains(t, text, "380.000 ₫", "money in the shop's currency, written the locale's way")
	require.Len(t, buttons, 1)

	text, buttons, err = b.svc.Preview(shopA, "en", orders.KindPaymentFailed, "Oops, #{{.OrderCode}} failed: {{.Reason}}")
	require.NoError(t, err)
	require.Equal(t, "Oops, #1042 failed: card declined", text)
	require.Equal(t, "Pay again", buttons[0].Label)

	text, _, err = b.svc.Preview(shopB, "th", orders.KindRefunded, "คืนเงิน {{.Amount}} #{{.OrderCode}}")
	require.NoError(t, err)
	require.Equal(t, "คืนเงิน ฿15.00 #1042", text, "a sample refund in baht")

	_, _, err = b.svc.Preview(shopA, "en", orders.KindPaidConfirmation, "Thanks!")
	require.Contains(t, fieldErrors(t, err)["templates.en.paid_confirmation"], "order's code")
	_, _, err = b.svc.Preview(shopA, "de", orders.KindPaidConfirmation, "")
	require.Contains(t, fieldErrors(t, err), "locale")
	_, _, err = b.svc.Preview(shopA, "en", "welcome", "")
	require.Contains(t, fieldErrors(t, err), "kind")
	require.Nil(t, b.shop(t, b.svc, shopA).Messages, "a preview saves nothing")
}

// Shop is on every hot path: it reads memory and allocates nothing, settings or not.
func TestShopAllocatesNothing(t *testing.T) {
	b := setup(t)
	in := b.settingsInput(0)
	in.Name = "Renamed"
	_, err := b.svc.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := b.svc.Shop(shopA); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

// Shops keeps the configuration's order.
func TestShopsInConfigurationOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	var shops []*orders.Shop
	for _, id := range []string{"z", "a", "m", "b"} {
		shops = append(shops, &orders.Shop{ID: id})
	}
	svc, err := orders.NewService(orders.Config{Shops: shops, Store: st, LinkKey: []byte(strings.Repeat("k", orders.LinkKeyLen))})
	require.NoError(t, err)
	require.Equal(t, shops, svc.Shops())
}

func ptr[T any](v T) *T { return &v }

// fakeHub is a ChangeSubscriber whose subscriptions the test feeds and ends. Like the
// live hub, it closes a subscription's channel when its context ends.
type fakeHub struct {
	mu   sync.Mutex
	subs map[string][]chan orders.Change
	done map[chan orders.Change]bool
	n    int
}

func (h *fakeHub) Subscribe(ctx context.Context, shopID string) (<-chan orders.Change, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan orders.Change, 4)
	if h.subs == nil {
		h.subs, h.done = map[string][]chan orders.Change{}, map[chan orders.Change]bool{}
	}
	h.subs[shopID] = append(h.subs[shopID], ch)
	h.n++
	stop := func() { h.close(ch) }
	context.AfterFunc(ctx, stop)
	return ch, stop
}

func (h *fakeHub) close(ch chan orders.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.done[ch] {
		h.done[ch] = true
		close(ch)
	}
}

func (h *fakeHub) subscriptions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// send publishes c to the latest subscription of its shop; end closes it.
func (h *fakeHub) send(c orders.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.subs[c.Shop]
	subs[len(subs)-1] <- c
}

func (h *fakeHub) end(shopID string) {
	h.mu.Lock()
	subs := h.subs[shopID]
	h.mu.Unlock()
	h.close(subs[len(subs)-1])
}

// A replica following the live hub reloads a shop on its ChangeSettings, long
// before its tick, and subscribes again when a subscription ends.
func TestWatchSettingsFollowsChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hub := &fakeHub{}
	follower := b.service(t, b.key)
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		follower.WatchSettings(ctx, 50*time.Millisecond, hub, func(err error) { t.Error(err) })
	}()
	require.Eventually(t, func() bool { return hub.subscriptions() == 2 }, 30*time.Second, 5*time.Millisecond, "one subscription per shop")

	in := b.settingsInput(0)
	in.Name = "Followed"
	_, err := b.svc.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	hub.send(orders.Change{Kind: orders.ChangeOrder, Shop: shopA, Order: "x"}) // not a settings change
	hub.send(orders.Change{Kind: orders.ChangeSettings, Shop: shopA})
	require.Eventually(t, func() bool { return b.shop(t, follower, shopA).Name == "Followed" }, 30*time.Second, 5*time.Millisecond)

	hub.end(shopA)
	require.Eventually(t, func() bool { return hub.subscriptions() == 3 }, 30*time.Second, 5*time.Millisecond, "taken up again")
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("WatchSettings did not return when its context ended")
	}
}
