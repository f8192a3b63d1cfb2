package webhooks_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger"
	"github.com/chatpay/chatpay/bot/messenger/messengertest"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/webhooks"
)

const fbVerifyToken = "verify-me-please"

// setupMessenger is the Messenger webhook route on a store, with the emulator
// standing in for Meta and shop1's page only.
func setupMessenger(t *testing.T, store orders.Store) (*bundle, *messengertest.Server) {
	t.Helper()
	b := setup(t, setupOptions{store: store})
	fb := messengertest.New(t)
	h := &webhooks.MessengerHandler{
		Service:  b.service,
		Platform: messenger.Platform{},
		Pages: func(shop string) (webhooks.MessengerPage, bool) {
			if shop != "shop1" {
				return webhooks.MessengerPage{}, false
			}
			return webhooks.MessengerPage{Source: messenger.Source(fb.PageID()), PageID: fb.PageID(), AppSecret: fb.AppSecret(), VerifyToken: fbVerifyToken}, true
		},
		MaxBody: 64 << 10,
		Metrics: webhooks.NewMetrics(prometheus.NewRegistry()),
	}
	r := gin.New()
	h.Register(r)
	b.router.Any("/webhooks/messenger/*rest", func(c *gin.Context) { r.HandleContext(c) })
	fb.SetWebhook(b.server.URL + "/webhooks/messenger/shop1")
	return b, fb
}

func processJobs(t *testing.T, store orders.Store) int {
	t.Helper()
	n := 0
	for _, j := range jobs(t, store) {
		if _, ok := j.(orders.ProcessChatUpdate); ok {
			n++
		}
	}
	return n
}

func TestMessengerWebhook(t *testing.T) {
	t.Parallel()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := open(t)
			b, fb := setupMessenger(t, store)

			// The subscription handshake.
			status, body := fb.Verify(fbVerifyToken, "challenge-123")
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "challenge-123", body)
			status, _ = fb.Verify("wrong", "challenge-123")
			require.Equal(t, http.StatusForbidden, status)

			// A message: recorded with its job before the 200.
			d, err := fb.CustomerSays("Lan", "Chào shop")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, d.Status)
			require.Equal(t, 1, processJobs(t, store))
			u, err := store.ChatUpdate(context.Background(), "shop1", messenger.Source(fb.PageID()), 1)
			require.NoError(t, err)
			ev, err := messenger.DecodeUpdate(u.Payload)
			require.NoError(t, err, "a recorded update is a delivery of its one event")
			require.Equal(t, "Chào shop", ev.Text)
			require.Equal(t, ev.PSID, u.Chat, "a customer's events are one chat")

			// Delivered again (Meta retries), or with a bad signature: nothing more.
			again, err := fb.Deliver(d.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, again.Status)
			bad, err := fb.DeliverWithSignature(d.Body, "sha256=00")
			require.NoError(t, err)
			require.Equal(t, http.StatusUnauthorized, bad.Status)
			unsigned, err := fb.DeliverWithSignature(d.Body, "")
			require.NoError(t, err)
			require.Equal(t, http.StatusUnauthorized, unsigned.Status)
			require.Equal(t, 1, processJobs(t, store))

			// A batch of three events, one of them already recorded: two new jobs.
			e1, err := fb.NewMessageEvent("Lan", "Áo còn size M không?")
			require.NoError(t, err)
			e2, err := fb.NewMessageEvent("Minh", "Ship về Đà Nẵng được không?")
			require.NoError(t, err)
			batch, err := fb.Batch(e1, e2, d.Event)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, batch.Status)
			require.Equal(t, 3, processJobs(t, store))
			// The same batch again records nothing.
			again, err = fb.Deliver(batch.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, again.Status)
			require.Equal(t, 3, processJobs(t, store))

			// Another page's event, signed with the same app's secret (shops may share
			// an app): acknowledged, recorded nowhere.
			foreign := bytes.ReplaceAll(e1.RawJSON(), []byte(fb.PageID()), []byte("109999999999999"))
			foreign = bytes.ReplaceAll(foreign, []byte(e1.MID), []byte("m_foreign"))
			foreignBody := []byte(`{"object":"page","entry":[` + string(foreign) + `]}`)
			other, err := fb.DeliverWithSignature(foreignBody, fb.Signature(foreignBody))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, other.Status)
			require.Equal(t, 3, processJobs(t, store))

			// Not a page webhook, though signed: 400. Another shop's URL: 404.
			junk, err := fb.DeliverWithSignature([]byte(`{"object":"user","entry":[]}`), fb.Signature([]byte(`{"object":"user","entry":[]}`)))
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, junk.Status)
			res, err := http.Post(b.server.URL+"/webhooks/messenger/shop2", "application/json", nil)
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusNotFound, res.StatusCode)
		})
	}
}
