package webhooks_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/orders/storetest"
	"github.com/chatpay/chatpay/webhooks"
)

const tgSecret = "s3cret-Token_1"

// tgBundle is the Telegram webhook route on a store, with a bot for shop1 only.
type tgBundle struct {
	*bundle
	reg *prometheus.Registry
}

func setupTelegram(t *testing.T, store orders.Store) *tgBundle {
	t.Helper()
	b := setup(t, setupOptions{store: store})
	reg := prometheus.NewRegistry()
	h := &webhooks.TelegramHandler{
		Service: b.service,
		Bots: func(shop string) (webhooks.TelegramBot, bool) {
			if shop != "shop1" {
				return webhooks.TelegramBot{}, false
			}
			return webhooks.TelegramBot{Source: "telegram:42", Secret: tgSecret}, true
		},
		MaxBody: 4096,
		Metrics: webhooks.NewMetrics(reg),
	}
	r := gin.New()
	h.Register(r)
	b.router.Any("/webhooks/telegram/*rest", func(c *gin.Context) { r.HandleContext(c) })
	return &tgBundle{bundle: b, reg: reg}
}

func (b *tgBundle) postUpdate(t *testing.T, shop, secret, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/webhooks/telegram/"+shop, strings.NewReader(body))
	require.NoError(t, err)
	if secret != "" {
		req.Header.Set(webhooks.TelegramSecretHeader, secret)
	}
	res, err := b.server.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// jobs lists the River jobs committed in the store, decoded.
func jobs(t *testing.T, store orders.Store) []orders.Job {
	t.Helper()
	ctx := context.Background()
	var rows interface {
		Next() bool
		Scan(...any) error
		Close()
	}
	switch s := store.(type) {
	case *sqlite.Store:
		r, err := s.Writer().QueryContext(ctx, `SELECT kind, json(args) FROM river_job ORDER BY id`)
		require.NoError(t, err)
		rows = sqlRows{r}
	case *postgres.Store:
		r, err := s.Pool().Query(ctx, `SELECT kind, args::text FROM river_job ORDER BY id`)
		require.NoError(t, err)
		rows = r
	default:
		t.Fatalf("unknown store %T", store)
	}
	defer rows.Close()
	var out []orders.Job
	for rows.Next() {
		var kind, args string
		require.NoError(t, rows.Scan(&kind, &args))
		j, err := storetest.DecodeJob(kind, []byte(args))
		require.NoError(t, err)
		out = append(out, j)
	}
	return out
}

type sqlRows struct {
	r interface {
		Next() bool
		Scan(...any) error
		Close() error
	}
}

func (s sqlRows) Next() bool             { return s.r.Next() }
func (s sqlRows) Scan(dest ...any) error { return s.r.Scan(dest...) }
func (s sqlRows) Close()                 { s.r.Close() }

func chatJobs(t *testing.T, store orders.Store) []orders.ProcessChatUpdate {
	var out []orders.ProcessChatUpdate
	for _, j := range jobs(t, store) {
		if p, ok := j.(orders.ProcessChatUpdate); ok {
			out = append(out, p)
		}
	}
	return out
}

func TestTelegramWebhookRejects(t *testing.T) {
	t.Parallel()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupTelegram(t, open(t))
			valid := `{"update_id": 7, "message": {"text": "hi"}}`
			for _, c := range []struct {
				shop, secret, body string
				status             int
			}{
				{"shop1", "", valid, http.StatusUnauthorized},
				{"shop1", "wrong", valid, http.StatusUnauthorized},
				{"shop1", tgSecret + "x", valid, http.StatusUnauthorized},
				{"shop2", tgSecret, valid, http.StatusNotFound}, // no bot in webhook mode
				{"nobody", tgSecret, valid, http.StatusNotFound},
				{"shop1", tgSecret, `{"message": {}}`, http.StatusBadRequest},
				{"shop1", tgSecret, `{"update_id": 0}`, http.StatusBadRequest},
				{"shop1", tgSecret, `{"update_id": "7"}`, http.StatusBadRequest},
				{"shop1", tgSecret, `{"update_id": 7} {}`, http.StatusBadRequest},
				{"shop1", tgSecret, `not json`, http.StatusBadRequest},
				{"shop1", tgSecret, `{"update_id": 7, "pad": "` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge},
			} {
				require.Equal(t, c.status, b.postUpdate(t, c.shop, c.secret, c.body), "%s %q %.40s", c.shop, c.secret, c.body)
			}
			require.Empty(t, chatJobs(t, b.store), "nothing rejected is recorded")
			_, err := b.store.ChatUpdate(context.Background(), "shop1", "telegram:42", 7)
			require.ErrorIs(t, err, orders.ErrNotFound)
		})
	}
}

// TestTelegramWebhookFromEmulator has the Bot API emulator deliver updates to the
// route as Telegram does: the update is recorded with its job before the 200, and a
// redelivery is recorded once.
func TestTelegramWebhookFromEmulator(t *testing.T) {
	t.Parallel()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupTelegram(t, open(t))
			tg := telegramtest.New(t, telegramtest.WithWebhookBackoff(time.Millisecond, 10*time.Millisecond))
			res, err := http.PostForm(tg.URL()+"/bot"+tg.Token()+"/setWebhook", url.Values{
				"url": {b.server.URL + "/webhooks/telegram/shop1"}, "secret_token": {tgSecret},
			})
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)

			lan := tg.NewCustomer("Lan")
			var ids []int64
			for i := range 3 {
				in := tg.CustomerSays(lan, fmt.Sprintf("Chào shop %d", i))
				ids = append(ids, in.UpdateID)
			}
			require.Eventually(t, func() bool { return tg.WebhookDeliveries() == 3 }, 10*time.Second, 5*time.Millisecond)

			ctx := context.Background()
			for i, id := range ids {
				u, err := b.store.ChatUpdate(ctx, "shop1", "telegram:42", id)
				require.NoError(t, err)
				require.Contains(t, string(u.Payload), fmt.Sprintf("Chào shop %d", i), "the update as Telegram sent it")
			}
			got := chatJobs(t, b.store)
			require.Len(t, got, 3)
			for i, j := range got {
				require.Equal(t, orders.ProcessChatUpdate{ShopID: "shop1", Source: "telegram:42", UpdateID: ids[i]}, j)
			}

			// Telegram redelivers when it did not see the 200: recorded once.
			u, err := b.store.ChatUpdate(ctx, "shop1", "telegram:42", ids[0])
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, b.postUpdate(t, "shop1", tgSecret, string(u.Payload)))
			require.Len(t, chatJobs(t, b.store), 3, "a redelivered update gets no second job")
			require.Equal(t, 3.0, counterOf(t, b.reg, "chatpay_chat_updates_total", "channel", "telegram", "result", "applied"))
			require.Equal(t, 1.0, counterOf(t, b.reg, "chatpay_chat_updates_total", "channel", "telegram", "result", "duplicate"))
		})
	}
}

func counterOf(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func FuzzParseTelegramUpdateID(f *testing.F) {
	for _, seed := range []string{
		`{"update_id": 1}`, `{"update_id": 9223372036854775807, "message": {"text": "x"}}`,
		`{"update_id": -1}`, `{"update_id": 1.5}`, `{"update_id": 1e3}`, `{}`, `[]`, `null`,
		`{"update_id": 1} trailing`, `{"update_id": 99999999999999999999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := webhooks.ParseTelegramUpdateID(body)
		if err != nil {
			require.Zero(t, id)
			return
		}
		require.Positive(t, id)
		require.True(t, bytes.Contains(body, []byte(fmt.Sprint(id))), "the id comes from the body")
	})
}
