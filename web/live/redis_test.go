package live_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/internal/redistest"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/web/live"
)

// TestRedisReplicas: two hubs on one Redis and prefix are two replicas of chatpay. A
// change published on either reaches the other's subscribers of its shop, and only
// those; the publishing hub's own subscribers get it once, not again as Redis echoes
// it back.
func TestRedisReplicas(t *testing.T) {
	t.Parallel()
	client := redistest.Client(t)
	prefix := redistest.Prefix(t, client, "chatpay:live")
	one := newRedisHub(t, client, live.Options{Prefix: prefix})
	two := newRedisHub(t, client, live.Options{Prefix: prefix})
	ctx := context.Background()

	onOne, stop := one.Subscribe(ctx, "shop-a")
	defer stop()
	onTwo, stop := two.Subscribe(ctx, "shop-a")
	defer stop()
	otherShop, stop := two.Subscribe(ctx, "shop-b")
	defer stop()

	one.Publish(ctx, change("shop-a", "o-1"))
	require.Equal(t, change("shop-a", "o-1"), next(t, onTwo), "published on one, received on two")
	one.Publish(ctx, change("shop-a", "o-2"))
	require.Equal(t, change("shop-a", "o-1"), next(t, onOne))
	require.Equal(t, change("shop-a", "o-2"), next(t, onOne), "no echo of o-1 from Redis in between")
	require.Equal(t, change("shop-a", "o-2"), next(t, onTwo))

	two.Publish(ctx, change("shop-a", "o-3"))
	require.Equal(t, change("shop-a", "o-3"), next(t, onOne), "and the other way round")
	one.Publish(ctx, change("shop-b", "o-4"))
	require.Equal(t, change("shop-b", "o-4"), next(t, otherShop), "shop-b saw none of shop-a's changes")
}

// TestRedisPrefixesKeepDeploymentsApart: a hub under another prefix hears nothing of
// this one's changes.
func TestRedisPrefixesKeepDeploymentsApart(t *testing.T) {
	t.Parallel()
	client := redistest.Client(t)
	prefix, otherPrefix := redistest.Prefix(t, client, "chatpay:live"), redistest.Prefix(t, client, "chatpay:live")
	one := newRedisHub(t, client, live.Options{Prefix: prefix})
	two := newRedisHub(t, client, live.Options{Prefix: prefix})
	stranger := newRedisHub(t, client, live.Options{Prefix: otherPrefix})
	strangersPeer := newRedisHub(t, client, live.Options{Prefix: otherPrefix})
	ctx := context.Background()
	onTwo, stop := two.Subscribe(ctx, "shop-a")
	defer stop()
	onStranger, stop := stranger.Subscribe(ctx, "shop-a")
	defer stop()

	one.Publish(ctx, change("shop-a", "ours"))
	// Once two has it, Redis has dispatched it to every subscriber it had.
	require.Equal(t, change("shop-a", "ours"), next(t, onTwo))
	strangersPeer.Publish(ctx, change("shop-a", "theirs"))
	require.Equal(t, change("shop-a", "theirs"), next(t, onStranger))
}

// TestRedisReconnects: when Redis drops the hub's connections, go-redis subscribes
// again; local subscribers keep their channel and receive both this replica's
// changes meanwhile and the other replicas' once the subscription is back.
func TestRedisReconnects(t *testing.T) {
	t.Parallel()
	shared := redistest.Client(t)
	prefix := redistest.Prefix(t, shared, "chatpay:live")
	// The hub under test gets a client of its own, named, so that the test can find
	// its connections in CLIENT LIST and kill them.
	var id [6]byte
	_, _ = rand.Read(id[:])
	name := "chatpay-live-test-" + hex.EncodeToString(id[:])
	opts, err := goredis.ParseURL(redistest.URL())
	require.NoError(t, err)
	opts.ClientName = name
	own := goredis.NewClient(opts)
	t.Cleanup(func() { _ = own.Close() })

	other := newRedisHub(t, shared, live.Options{Prefix: prefix})
	hub := newRedisHub(t, own, live.Options{Prefix: prefix})
	ctx := context.Background()
	ch, stop := hub.Subscribe(ctx, "shop-a")
	defer stop()

	killed := killClients(t, shared, name)
	require.NotZero(t, killed, "the hub's subscription is one of the named connections")

	hub.Publish(ctx, change("shop-a", "local"))
	require.Equal(t, change("shop-a", "local"), next(t, ch), "local delivery does not depend on Redis")

	// Changes published while the subscription is down are lost, so the other
	// replica keeps publishing until one arrives.
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				other.Publish(ctx, change("shop-a", "remote"))
			}
		}
	}()
	select {
	case c, ok := <-ch:
		require.True(t, ok, "the local channel stays open through the reconnect")
		require.Equal(t, change("shop-a", "remote"), c)
	case <-time.After(20 * time.Second):
		t.Fatal("the subscription did not come back")
	}
}

// killClients kills the Redis connections named name and returns how many it found.
func killClients(t *testing.T, client *goredis.Client, name string) int {
	t.Helper()
	ctx := context.Background()
	list, err := client.ClientList(ctx).Result()
	require.NoError(t, err)
	n := 0
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		var id string
		found := false
		for f := range strings.FieldsSeq(sc.Text()) {
			k, v, _ := strings.Cut(f, "=")
			switch {
			case k == "id":
				id = v
			case k == "name" && v == name:
				found = true
			}
		}
		if found {
			require.NoError(t, client.Do(ctx, "CLIENT", "KILL", "ID", id).Err())
			n++
		}
	}
	return n
}

// syncBuffer is a log destination the hub's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRedisPublishFailureIsLogged: with Redis gone, Publish neither fails nor waits;
// local subscribers still get the change and the failure is logged.
func TestRedisPublishFailureIsLogged(t *testing.T) {
	t.Parallel()
	shared := redistest.Client(t)
	own := goredis.NewClient(&goredis.Options{Addr: shared.Options().Addr, DB: shared.Options().DB})
	var logs syncBuffer
	ctx := context.Background()
	hub, err := live.NewRedisHub(ctx, own, live.Options{
		Prefix: redistest.Prefix(t, shared, "chatpay:live"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	ch, stop := hub.Subscribe(ctx, "shop-a")
	defer stop()
	require.NoError(t, own.Close())

	start := time.Now()
	hub.Publish(ctx, change("shop-a", "o-1"))
	require.Less(t, time.Since(start), 5*time.Second, "Publish does not wait for Redis")
	require.Equal(t, change("shop-a", "o-1"), next(t, ch))
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "publishing changes to redis failed") },
		wait, 10*time.Millisecond, "logs: %s", logs.String())

	closeCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	_ = hub.Close(closeCtx) // the client is gone, so leaving the channel may fail; it must not hang
	closed(t, ch)
}

// TestRedisUnreachable: a hub that cannot subscribe says so at once, rather than
// running without the other replicas.
func TestRedisUnreachable(t *testing.T) {
	t.Parallel()
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := live.NewRedisHub(ctx, client, live.Options{})
	require.ErrorContains(t, err, "subscribe to redis channel chatpay:live:changes")
}

var _ orders.ChangePublisher = (*live.Hub)(nil)
