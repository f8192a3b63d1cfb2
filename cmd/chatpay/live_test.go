package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/configs"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
)

// liveEvents opens /dashboard/events with a session cookie and returns the changes it
// streams. The stream is closed when the test ends.
func (a *app) liveEvents(cookie *http.Cookie) <-chan orders.Change {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url+"/dashboard/events", nil)
	require.NoError(a.t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.AddCookie(cookie)
	// Not a.client: its timeout would cut the stream.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(a.t, err)
	require.Equal(a.t, http.StatusOK, res.StatusCode)
	require.Equal(a.t, "text/event-stream", res.Header.Get("Content-Type"))
	out := make(chan orders.Change, 64)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var c orders.Change
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				a.t.Errorf("event data %q: %v", data, err)
				return
			}
			out <- c
		}
	}()
	return out
}

// payLive pays order id through the sandbox, as a.pay does, and returns the change
// the stream carried for the payment. Once Pay now has started the checkout (which
// changes the order too), the stream is drained until it has been quiet for a
// while; the next change of the order after the checkout completes is then the
// webhook's, and the order must read paid when it arrives. Every change on the
// stream must be of shop.
func (a *app) payLive(changes <-chan orders.Change, shop, key, id, link string) orders.Change {
	a.t.Helper()
	next := func(timeout time.Duration) (orders.Change, bool) {
		select {
		case c, ok := <-changes:
			require.True(a.t, ok, "the stream ended")
			require.Equal(a.t, shop, c.Shop, "only the signed-in user's shop: %+v", c)
			return c, true
		case <-time.After(timeout):
			return orders.Change{}, false
		}
	}
	res := a.postForm(link, url.Values{"gateway": {"sandbox"}})
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode)
	checkout := res.Header.Get("Location")
	for {
		if _, ok := next(500 * time.Millisecond); !ok {
			break
		}
	}
	res = a.postForm(checkout, url.Values{"outcome": {"success"}, "deliver": {"normal"}})
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode)
	for {
		c, ok := next(20 * time.Second)
		require.True(a.t, ok, "no change told of the payment")
		if c.Order != id || c.Kind != orders.ChangeOrder {
			continue // the chat's messages about it
		}
		_, o := a.call(http.MethodGet, "/api/v1/orders/"+id, key, nil)
		require.Equal(a.t, "paid", o["status"], "the first change of the order after the checkout is the payment's")
		return c
	}
}

// TestLiveDashboardEvents: a signed-in owner's event stream hears of the payment of
// their order, made through the sandbox's signed webhook, and of nothing of another
// shop's; shutting chatpay down ends the stream at once.
func TestLiveDashboardEvents(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	const password = "correct horse battery staple"
	a.addUser("shop-a", "live-owner@example.com", "owner", password)
	changes := a.liveEvents(a.signIn("shop-a", "live-owner@example.com", password))

	a.createOrder(keyB, webchatOrder("live-visitor-b")) // another shop's: never on the stream
	o := a.createOrder(keyA, webchatOrder("live-visitor-a"))
	id := o["id"].(string)
	c := a.payLive(changes, "shop-a", keyA, id, linkOf(o))
	require.NotEmpty(t, c.Conversation, "the order is in the visitor's chat")

	// Shutting down ends the open stream rather than waiting for it. An HTTP server
	// that waited would hold Shutdown until the context expired and Close would
	// return the deadline's error; the assertion is on that, not on a wall-clock
	// figure, because Close also stops the job runner, whose in-flight jobs take
	// their own time on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, a.m.Close(ctx), "Close waited for the event stream")
	for range changes { // closed when the stream ends
	}
}

// startReplica starts a Main that shares the store's Postgres schema and Redis with
// the test's other replicas: two replicas of one deployment.
func startReplica(t *testing.T, schema, redisURL string) *app {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`
http:
  addr: "127.0.0.1:0"
  public_url: %q
redis_url: %q
shops:
  - id: shop-a
    name: "Shop A"
    currency: VND
    locale: en
    api_keys: [%q]
    gateways:
      sandbox:
        webhook_secret: "secret-a"
  - id: shop-b
    name: "Shop B"
    currency: THB
    locale: en
    api_keys: [%q]
    gateways:
      sandbox:
        webhook_secret: "secret-b"
`, base, redisURL, keyA, keyB)
	path := filepath.Join(dir, "chatpay.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	cfg, err := configs.Load(path, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	m := NewMain(cfg)
	m.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m.Listener = ln
	m.OpenStore = func(ctx context.Context) (Store, error) {
		return postgres.Open(ctx, postgrestest.URL(), postgres.Options{Schema: schema})
	}
	require.NoError(t, m.Open(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		require.NoError(t, m.Close(ctx))
	})
	return &app{t: t, m: m, url: base, client: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// TestLiveAcrossReplicas: two replicas share Postgres and Redis. The owner's
// dashboard is connected to one; the order is created, paid and its webhook applied
// on the other; the change reaches the dashboard through Redis.
func TestLiveAcrossReplicas(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	schema := postgrestest.Open(t).Schema() // migrated, and dropped when the test ends
	one := startReplica(t, schema, redisURL)
	two := startReplica(t, schema, redisURL)
	require.NotNil(t, one.m.Redis)

	const password = "correct horse battery staple"
	as, ok := one.m.Store.(auth.Store)
	require.True(t, ok)
	users, err := auth.NewService(auth.Config{Store: as})
	require.NoError(t, err)
	_, err = users.AddUser(context.Background(), "shop-a", "owner@example.com", auth.RoleOwner, password)
	require.NoError(t, err)
	changes := one.liveEvents(one.signIn("shop-a", "owner@example.com", password))

	o := two.createOrder(keyA, webchatOrder("replica-visitor"))
	id, link := o["id"].(string), linkOf(o)
	require.True(t, strings.HasPrefix(link, two.url), "the link is replica two's")
	c := two.payLive(changes, "shop-a", keyA, id, link)
	require.Equal(t, orders.Change{Kind: orders.ChangeOrder, Shop: "shop-a", Order: id, Conversation: c.Conversation}, c)
}
