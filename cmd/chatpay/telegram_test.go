package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

// telegramBlock is a shop's telegram config pointing at the emulator.
func telegramBlock(tg *telegramtest.Server, mode, secret string) string {
	return fmt.Sprintf(`    telegram:
      token: %q
      api_url: %q
      mode: %s
      webhook_secret: %q`, tg.Token(), tg.URL(), mode, secret)
}

// TestTelegramOrderCardAndConfirmation creates an order over the API for a Telegram
// customer of a shop whose bot polls, and follows it in the customer's chat: the card
// with Pay now, then, after paying, the confirmation.
func TestTelegramOrderCardAndConfirmation(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			tg := telegramtest.New(t)
			a := setupWith(t, store, options{telegramA: telegramBlock(tg, "polling", "")})
			lan := tg.NewCustomer("Lan")

			o := a.createOrder(keyA, map[string]any{
				"customer": map[string]any{"channel": "telegram", "external_id": strconv.FormatInt(lan.ChatID, 10), "name": "Lan"},
				"items":    []any{map[string]any{"name": "Áo thun", "quantity": 2, "unit_price": 150000}},
				"shipping_fee": 30000,
			})
			link := o["payment_link"].(map[string]any)["url"].(string)
			require.Eventually(t, func() bool { return len(tg.Messages(lan.ChatID)) == 1 }, 15*time.Second, 10*time.Millisecond)
			card := tg.Messages(lan.ChatID)[0]
			require.Contains(t, card.Text, "#1001")
			require.Contains(t, card.Text, "330.000")
			require.Len(t, card.Buttons, 1)
			require.Equal(t, link, card.Buttons[0][0].URL, "Pay now opens the order's link")

			a.pay(link, "success", "normal")
			require.Eventually(t, func() bool { return len(tg.Messages(lan.ChatID)) == 2 }, 15*time.Second, 10*time.Millisecond)
			require.Equal(t, "Bạn đã thanh toán cho đơn hàng #1001 thành công.", tg.Messages(lan.ChatID)[1].Text)
			ms := a.waitMessages(keyA, o["id"].(string), "both sent", func(ms []map[string]any) bool {
				return len(ms) == 2 && ms[0]["status"] == "sent" && ms[1]["status"] == "sent"
			})
			require.Equal(t, []string{"order_card", "paid_confirmation"}, kinds(ms))
		})
	}
}

// TestTelegramUpdatesAreRecorded shows both ways updates arrive: shop A's bot polls,
// shop B's bot takes webhooks. Each update is recorded once, with any card number the
// customer typed redacted before it is stored.
func TestTelegramUpdatesAreRecorded(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			polled := telegramtest.New(t)
			hooked := telegramtest.New(t, telegramtest.WithToken("777:hooked-bot-token"), telegramtest.WithWebhookBackoff(time.Millisecond, 20*time.Millisecond))
			a := setupWith(t, store, options{
				telegramA: telegramBlock(polled, "polling", ""),
				telegramB: telegramBlock(hooked, "webhook", "hook-secret_1"),
			})
			ctx := context.Background()
			check := func(tg *telegramtest.Server, shop string) {
				source, err := telegram.Source(tg.Token())
				require.NoError(t, err)
				lan := tg.NewCustomer("Lan")
				first := tg.CustomerSays(lan, "Chào shop")
				card := tg.CustomerSays(lan, "my card is 4111 1111 1111 1111, exp 12/27")
				require.Eventually(t, func() bool {
					_, err := a.m.Store.ChatUpdate(ctx, shop, source, card.UpdateID)
					return err == nil
				}, 15*time.Second, 10*time.Millisecond, "%s: update recorded", shop)
				u, err := a.m.Store.ChatUpdate(ctx, shop, source, first.UpdateID)
				require.NoError(t, err)
				require.Contains(t, string(u.Payload), "Chào shop")
				u, err = a.m.Store.ChatUpdate(ctx, shop, source, card.UpdateID)
				require.NoError(t, err)
				require.NotContains(t, string(u.Payload), "4111 1111", "a card number is never stored")
				require.Contains(t, string(u.Payload), "exp 12/27")
			}
			check(polled, "shop-a")
			check(hooked, "shop-b")

			// The webhook route refuses a request without the secret.
			req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/telegram/shop-b", strings.NewReader(`{"update_id":1}`))
			require.NoError(t, err)
			res, err := a.client.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		})
	}
}
