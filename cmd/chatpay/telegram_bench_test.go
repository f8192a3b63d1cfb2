package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/webhooks"
)

// The Telegram benchmarks measure the two figures the Telegram work promises, against
// the in-repo Bot API emulator:
//
//	go test ./cmd/chatpay -run '^$' -bench 'TelegramConfirmations' -benchtime 1x -timeout 20m
//	go test ./cmd/chatpay -run '^$' -bench 'TelegramInbound' -benchtime 10000x -timeout 20m
//
// Outbound, the emulator enforces Telegram's limits (1 msg/s per chat, 30/s per bot) and
// answers 429 past them, so the promise is a delivery rate close to 30/s with no 429.
// Inbound, the figure is how many updates per second chatpay records and handles.

// telegramChats is how many customers, orders and confirmations the confirmation
// benchmark uses: enough that the 30/s bot limit, not the per-chat one, decides.
const telegramChats = 1000

// shopBExtraotLimit is Telegram's per-bot send limit; telegramChats messages cannot
// reach their chats faster than telegramChats/shopBExtraotLimit seconds.
const shopBExtraotLimit = 30.0

// BenchmarkTelegramConfirmations delivers one order card, then one paid confirmation,
// to each of 1,000 Telegram customers of a polling bot with no operator chat, under the
// emulator's Telegram limits. It reports how long the 1,000 confirmations took from the
// moment the first payment was applied until the last one reached the emulator, that
// rate, its ratio to the 30/s limit's 33.3 s, and the 429s (which must be none); the
// same figures for the order cards come with the prefix "cards-".
//
// b.N is ignored: every call runs the fixed 1,000-chat scenario once, which takes over a
// minute, so run it with -benchtime 1x. It uses SQLite, the embedded default, with
// chatpay's in-process rate limiter (no redis_url).
func BenchmarkTelegramConfirmations(b *testing.B) {
	ctx := context.Background()
	tg := telegramtest.New(b, telegramtest.WithLimits(telegramtest.TelegramLimits()))
	a := setupWith(b, "sqlite", options{shopAExtra: shopBExtralock(tg, "polling", "")})
	gw, err := a.m.Gateways.Get("shop-a", sandbox.Name)
	require.NoError(b, err)

	customers := make([]telegramtest.User, telegramChats)
	for i := range customers {
		customers[i] = tg.NewCustomer(fmt.Sprintf("Khách %d", i))
	}
	b.ResetTimer()

	// The order cards: creating an order queues its card, so the cards go out while
	// the orders are still being created. A few goroutines create them, as several
	// staff members or API clients would.
	made := make([]*orders.Order, telegramChats)
	cardsStart := time.Now()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < telegramChats; i += 8 {
				o, err := a.m.Service.CreateOrder(ctx, "shop-a", orders.CreateOrderInput{
					Customer: orders.Customer{Channel: orders.ChannelTelegram, ExternalID: strconv.FormatInt(customers[i].ChatID, 10), Name: customers[i].FirstName},
					Items:    []orders.Item{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000}},
					Currency: "VND",
				})
				require.NoError(b, err)
				made[i] = o
			}
		})
	}
	wg.Wait()
	cards := waitSends(b, tg, telegramChats, "order cards")
	cardsSecs := cards[len(cards)-1].At.Sub(cardsStart).Seconds()
	cards429 := tg.TooManyRequests()
	cardsSnoozed := snoozedJobs(b, a)
	for i, c := range customers {
		ms := tg.Messages(c.ChatID)
		require.Len(b, ms, 1, "customer %d gets exactly the card", i)
		require.Contains(b, ms[0].Text, "#"+made[i].Code)
	}

	// Each order gets a checkout session, as if its customer had tapped Pay now.
	// This is setup, not measured: nothing is sent to a chat until a payment is applied.
	events := make([]*orders.GatewayEvent, telegramChats)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < telegramChats; i += 8 {
				att, o, err := a.m.Service.StartAttempt(ctx, made[i].Link.Token, sandbox.Name)
				require.NoError(b, err)
				s, err := gw.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop-a", OrderID: o.ID, AttemptID: att.ID, Amount: att.Amount, Currency: att.Currency, ReturnURL: a.url})
				require.NoError(b, err)
				require.NoError(b, a.m.Service.AttachSession(ctx, att, s.ID))
				events[i] = &orders.GatewayEvent{
					ShopID: "shop-a", Gateway: sandbox.Name, EventID: fmt.Sprintf("evt_tg_%d", i), Type: orders.EventSucceeded,
					SessionID: s.ID, PaymentRef: fmt.Sprintf("pi_tg_%d", i), Amount: att.Amount, Currency: att.Currency,
					Payload: fmt.Appendf(nil, `{"id":"evt_tg_%d","type":"checkout.succeeded"}`, i),
				}
			}
		})
	}
	wg.Wait()

	// All 1,000 pay at once: the events are applied in batches of 50, the way the
	// webhook server batches webhooks that arrive together, so that applying them
	// takes a moment and the figure is the delivery's.
	const batch = 50
	var first time.Time
	applyStart := time.Now()
	for lo := 0; lo < telegramChats; lo += batch {
		res, errs := a.m.Service.ApplyEvents(ctx, events[lo:min(lo+batch, telegramChats)])
		for i, err := range errs {
			require.NoError(b, err, "event %d", lo+i)
			require.NotNil(b, res[i])
		}
		if first.IsZero() {
			first = time.Now()
		}
	}
	applySecs := time.Since(applyStart).Seconds()

	all := waitSends(b, tg, 2*telegramChats, "paid confirmations")
	b.StopTimer()
	confirmations := all[telegramChats:]
	last := confirmations[0].At
	for _, r := range confirmations {
		if r.At.After(last) {
			last = r.At
		}
	}
	secs := last.Sub(first).Seconds()
	// Paying also edits each card to show it paid; those edits take slots of the same
	// per-bot limit in chatpay, though the emulator limits sends only.
	var edited int
	for i, c := range customers {
		ms := tg.Messages(c.ChatID)
		require.Len(b, ms, 2, "customer %d gets the card and one confirmation", i)
		require.Equal(b, "Bạn đã thanh toán cho đơn hàng #"+made[i].Code+" thành công.", ms[1].Text)
		if len(ms[0].Edits) > 0 {
			edited++
		}
	}
	tooMany := tg.TooManyRequests()
	snoozed := snoozedJobs(b, a) - cardsSnoozed

	ideal := telegramChats / shopBExtraotLimit
	b.ReportMetric(secs, "s/1000")
	b.ReportMetric(telegramChats/secs, "msgs/s")
	b.ReportMetric(secs/ideal, "x-limit")
	b.ReportMetric(float64(tooMany-cards429), "429s")
	b.ReportMetric(snoozed, "snoozes")
	b.ReportMetric(float64(edited), "cards-edited")
	b.ReportMetric(applySecs, "apply-s")
	b.ReportMetric(cardsSecs, "cards-s/1000")
	b.ReportMetric(telegramChats/cardsSecs, "cards-msgs/s")
	b.ReportMetric(float64(cards429), "cards-429s")
	b.ReportMetric(cardsSnoozed, "cards-snoozes")
	// The figures are logged as well: a failed benchmark prints its log, not its metrics.
	b.Logf("cards: %d in %.2fs (%.1f/s, %d 429s, %.0f snoozes); confirmations: applied in %.2fs, %d delivered in %.2fs after the first payment (%.1f/s, %.2f× the %.1fs the limit allows, %d 429s, %.0f snoozes, %d cards edited by then)",
		telegramChats, cardsSecs, telegramChats/cardsSecs, cards429, cardsSnoozed, applySecs, telegramChats, secs, telegramChats/secs, secs/ideal, ideal, tooMany-cards429, snoozed, edited)
	require.Zero(b, tooMany-cards429, "chatpay's own limiter keeps every confirmation under Telegram's limits")
	require.Zero(b, cards429, "chatpay's own limiter keeps every order card under Telegram's limits")
}

// snoozedJobs is how many job runs so far snoozed to wait for a rate limit: each is a
// fetch and an update of the job's row that sends nothing.
func snoozedJobs(b *testing.B, a *app) float64 {
	b.Helper()
	families, err := a.m.Registry.Gather()
	require.NoError(b, err)
	var n float64
	for _, f := range families {
		if f.GetName() != "chatpay_jobs_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == "snoozed" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// waitSends waits until the emulator has taken n sends and returns its log. The limit
// allows 30 a second, so the deadline leaves room for several times that.
func waitSends(b *testing.B, tg *telegramtest.Server, n int, what string) []telegramtest.SendRecord {
	b.Helper()
	deadline := time.Now().Add(time.Duration(n)*time.Second/10 + time.Minute)
	for {
		log := tg.SendLog()
		if len(log) >= n {
			return log
		}
		if time.Now().After(deadline) {
			require.FailNow(b, "waiting for "+what, "%d of %d sends, %d answered 429", len(log), n, tg.TooManyRequests())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// telegramInboundCustomers is how many customers write in the inbound benchmark; update
// i comes from customer i modulo this, so each conversation gets several messages.
const telegramInboundCustomers = 1000

// BenchmarkTelegramInbound measures Telegram updates taken by webhook end to end: b.N
// customer text messages are posted to /webhooks/telegram/shop-a over 64 keep-alive
// connections with the secret header, as Telegram would (the emulator delivers one
// update at a time, in order, which would measure its pace instead of chatpay's), and
// each is then handled by its job: the customer's conversation and inbound message are
// recorded. It reports acknowledged updates per second ("recorded/s", the webhook's
// durable record and 200) and updates handled per second ("handled/s", from the first
// POST until the last update's message is in the store), next to the webhook latency.
//
// The shop has no operator chat: with one, every update would also queue a mirror
// message into the staff forum, whose delivery Telegram limits to 20 a minute per group,
// so the figure would mix receiving with that queue. This measures receiving only.
//
// Run it with -benchtime 10000x or so; b.N is the number of updates.
func BenchmarkTelegramInbound(b *testing.B) {
	for _, store := range stores {
		b.Run(store, func(b *testing.B) {
			const secret = "hook-secret_1"
			ctx := context.Background()
			tg := telegramtest.New(b)
			a := setupWith(b, store, options{shopAExtra: shopBExtralock(tg, "webhook", secret)})
			source, err := telegram.Source(tg.Token())
			require.NoError(b, err)
			client := loadClient()
			url := a.url + "/webhooks/telegram/shop-a"
			// Update ids start high so that they can never be taken for the
			// emulator's own, which start at 1.
			const firstUpdate = 500_000_000
			post := func(i int) error {
				chat := int64(7_000_000_000) + int64(i%telegramInboundCustomers)
				body := fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,"first_name":"Khách","last_name":"%d","language_code":"vi"},"chat":{"id":%d,"first_name":"Khách","last_name":"%d","type":"private"},"date":%d,"text":"Chào shop, áo còn size M không? (%d)"}}`,
					firstUpdate+i, i/telegramInboundCustomers+1, chat, i%telegramInboundCustomers, chat, i%telegramInboundCustomers, time.Now().Unix(), i)
				req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					return err
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(webhooks.TelegramSecretHeader, secret)
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("telegram webhook: %d", res.StatusCode)
				}
				return err
			}
			n := b.N

			// handled finds each update's inbound message in the store. Jobs finish
			// out of order, so it checks the first update not yet seen and moves on
			// from there: every update is looked up about once.
			var seen atomic.Int64
			handled := func() bool {
				for i := int(seen.Load()); i < n; i++ {
					id := "in:" + source + ":" + strconv.Itoa(firstUpdate+i)
					if _, err := a.m.Store.Message(ctx, "shop-a", id); err != nil {
						return false
					}
					seen.Store(int64(i + 1))
				}
				return true
			}

			start := time.Now()
			runLoad(b, "recorded", func(i int64) error { return post(int(i)) })
			recorded := time.Since(start)
			b.StartTimer()
			deadline := time.Now().Add(time.Duration(n)*time.Millisecond*10 + time.Minute)
			for !handled() {
				require.True(b, time.Now().Before(deadline), "%d of %d updates handled", seen.Load(), n)
				time.Sleep(10 * time.Millisecond)
			}
			all := time.Since(start)
			b.StopTimer()
			// runLoad reported recorded/s (and the webhook's latency) for the posting
			// alone; recorded is the same span, kept for the log line below.
			b.Logf("%d updates: recorded in %s, handled in %s", n, recorded.Round(time.Millisecond), all.Round(time.Millisecond))
			b.ReportMetric(float64(n)/all.Seconds(), "handled/s")
			b.ReportMetric(all.Seconds(), "handled-s")

			// Each update was handled once: a customer's message is one row, and
			// their conversation has it.
			last := "in:" + source + ":" + strconv.Itoa(firstUpdate+n-1)
			m, err := a.m.Store.Message(ctx, "shop-a", last)
			require.NoError(b, err)
			require.Equal(b, orders.DirectionIn, m.Direction)
			require.Contains(b, m.Text, fmt.Sprintf("(%d)", n-1))
		})
	}
}
