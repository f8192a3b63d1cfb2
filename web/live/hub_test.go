package live_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/internal/redistest"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/web/live"
)

// wait is how long a test waits for something that should happen at once.
const wait = 5 * time.Second

// impls are the two Hubs the contract runs against: each returns a fresh hub, closed
// when the test ends.
var impls = map[string]func(t *testing.T, o live.Options) *live.Hub{
	"memory": func(t *testing.T, o live.Options) *live.Hub {
		h := live.NewHub(o)
		t.Cleanup(func() { require.NoError(t, h.Close(context.Background())) })
		return h
	},
	"redis": func(t *testing.T, o live.Options) *live.Hub {
		client := redistest.Client(t)
		if o.Prefix == "" {
			o.Prefix = redistest.Prefix(t, client, "chatpay:live")
		}
		return newRedisHub(t, client, o)
	},
}

func newRedisHub(t *testing.T, client goredis.UniversalClient, o live.Options) *live.Hub {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	h, err := live.NewRedisHub(ctx, client, o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close(context.Background())) })
	return h
}

func contract(t *testing.T, name string, fn func(t *testing.T, newHub func(o live.Options) *live.Hub)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		for impl, open := range impls {
			t.Run(impl, func(t *testing.T) {
				t.Parallel()
				fn(t, func(o live.Options) *live.Hub { return open(t, o) })
			})
		}
	})
}

func change(shop, order string) orders.Change {
	return orders.Change{Kind: orders.ChangeOrder, Shop: shop, Order: order}
}

// next receives one change, failing the test if none comes in time or the channel
// is closed.
func next(t *testing.T, ch <-chan orders.Change) orders.Change {
	t.Helper()
	select {
	case c, ok := <-ch:
		require.True(t, ok, "the channel was closed")
		return c
	case <-time.After(wait):
		t.Fatal("no change arrived")
		return orders.Change{}
	}
}

// closed waits for ch to be closed, draining what is left in it.
func closed(t *testing.T, ch <-chan orders.Change) {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the channel was not closed")
		}
	}
}

func TestContract(t *testing.T) {
	t.Parallel()

	// A change reaches every subscriber of its shop, and no one else's: what shop-b's
	// subscriber receives first is shop-b's own later change.
	contract(t, "DeliversToItsShopOnly", func(t *testing.T, newHub func(live.Options) *live.Hub) {
		h := newHub(live.Options{})
		ctx := context.Background()
		a1, stop := h.Subscribe(ctx, "shop-a")
		defer stop()
		a2, stop := h.Subscribe(ctx, "shop-a")
		defer stop()
		b, stop := h.Subscribe(ctx, "shop-b")
		defer stop()

		c := orders.Change{Kind: orders.ChangeMessage, Shop: "shop-a", Order: "o-1", Conversation: "c-1"}
		h.Publish(ctx, c)
		h.Publish(ctx, change("shop-b", "o-2"))
		require.Equal(t, c, next(t, a1))
		require.Equal(t, c, next(t, a2))
		require.Equal(t, change("shop-b", "o-2"), next(t, b), "shop-b never sees shop-a's change")
	})

	contract(t, "StopClosesTheChannel", func(t *testing.T, newHub func(live.Options) *live.Hub) {
		h := newHub(live.Options{})
		ctx := context.Background()
		ch, stop := h.Subscribe(ctx, "shop-a")
		other, stopOther := h.Subscribe(ctx, "shop-a")
		defer stopOther()
		stop()
		closed(t, ch)
		stop() // again: harmless
		h.Publish(ctx, change("shop-a", "o-1"))
		require.Equal(t, change("shop-a", "o-1"), next(t, other), "the other subscriber goes on")
	})

	contract(t, "ContextEndClosesTheChannel", func(t *testing.T, newHub func(live.Options) *live.Hub) {
		h := newHub(live.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		ch, stop := h.Subscribe(ctx, "shop-a")
		defer stop()
		cancel()
		closed(t, ch)
		h.Publish(context.Background(), change("shop-a", "o-1"))
	})

	// A subscriber that reads nothing fills its buffer and then loses changes; the
	// publisher never waits for it, and a subscriber that keeps up loses nothing.
	contract(t, "SlowSubscriberDoesNotBlock", func(t *testing.T, newHub func(live.Options) *live.Hub) {
		const buffer, published = 4, 1000
		h := newHub(live.Options{Buffer: buffer})
		ctx := context.Background()
		slow, stop := h.Subscribe(ctx, "shop-a")
		defer stop()
		before := h.Dropped()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range published {
				h.Publish(ctx, change("shop-a", fmt.Sprint(i)))
			}
		}()
		select {
		case <-done:
		case <-time.After(wait):
			t.Fatal("Publish waited for a subscriber that reads nothing")
		}
		require.Equal(t, uint64(published-buffer), h.Dropped()-before)
		for i := range buffer {
			require.Equal(t, change("shop-a", fmt.Sprint(i)), next(t, slow), "the first changes were kept")
		}
		h.Publish(ctx, change("shop-a", "after"))
		require.Equal(t, change("shop-a", "after"), next(t, slow), "once read, it has room again")
	})

	contract(t, "CloseSubscriptionsEndsEveryStream", func(t *testing.T, newHub func(live.Options) *live.Hub) {
		h := newHub(live.Options{})
		ctx := context.Background()
		a, stopA := h.Subscribe(ctx, "shop-a")
		defer stopA()
		b, stopB := h.Subscribe(ctx, "shop-b")
		defer stopB()
		h.CloseSubscriptions()
		closed(t, a)
		closed(t, b)
		late, stop := h.Subscribe(ctx, "shop-a")
		defer stop()
		closed(t, late)
		h.Publish(ctx, change("shop-a", "o-1")) // reaches no one, and does not panic
	})

	// Many publishers and subscribers at once (run with -race): with room enough,
	// every subscriber gets exactly its shop's changes, while others come and go.
	contract(t, "Concurrent", func(t *testing.T, newHub func(live.Options) *live.Hub) {
		const shops, publishers, perPublisher, subscribers = 3, 6, 200, 4
		h := newHub(live.Options{Buffer: publishers * perPublisher})
		ctx := context.Background()
		type sub struct {
			shop string
			ch   <-chan orders.Change
			stop func()
		}
		var subs []sub
		for s := range shops {
			for range subscribers {
				ch, stop := h.Subscribe(ctx, fmt.Sprint("shop-", s))
				subs = append(subs, sub{fmt.Sprint("shop-", s), ch, stop})
			}
		}
		var wg sync.WaitGroup
		for p := range publishers {
			wg.Go(func() {
				for i := range perPublisher {
					h.Publish(ctx, change(fmt.Sprint("shop-", (p+i)%shops), fmt.Sprint(p, "-", i)))
				}
			})
			wg.Go(func() { // churn: subscriptions that come and go meanwhile
				for range 50 {
					ch, stop := h.Subscribe(ctx, fmt.Sprint("shop-", p%shops))
					stop()
					for range ch { // closed by stop
					}
				}
			})
		}
		wg.Wait()
		want := publishers * perPublisher / shops
		for _, s := range subs {
			s.stop()
			n := 0
			for c := range s.ch {
				require.Equal(t, s.shop, c.Shop)
				n++
			}
			require.Equal(t, want, n, "subscriber of %s", s.shop)
		}
		require.Zero(t, h.Dropped())
	})
}
