// Package live fans committed changes (orders.Change) out to the dashboards and web
// chats that watch a shop, as server-sent events carry them to browsers.
//
// A Hub is both ends: orders.Service publishes to it (orders.ChangePublisher) and the
// web server subscribes to it per shop (web.Subscriber; this package does not import
// web, it only has the same method set). NewHub keeps everything in this process,
// which is all one replica needs. NewRedisHub also sends every change through one
// Redis pub/sub channel and delivers what the other replicas send, so that a webhook
// applied on one replica redraws a dashboard connected to another.
//
// Changes carry identifiers only and a watcher always reads the current state from
// the store, so delivery is best effort by design: a subscriber too slow to keep up
// loses changes rather than holding up the publisher (who is finishing a customer's
// request), and a change lost costs a stale screen until the next one, never a wrong
// one.
package live

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/chatpay/chatpay/orders"
)

// DefaultBuffer is how many changes a subscriber may fall behind before it loses
// some. A dashboard redraws on a burst's last change as well as on its first, so a
// few dozen covers any burst one order or chat makes.
const DefaultBuffer = 64

// Options configure a Hub.
type Options struct {
	// Buffer is each subscriber's channel capacity; 0 means DefaultBuffer.
	Buffer int
	// Prefix goes before the Redis channel's name (DefaultPrefix when empty), so that
	// several deployments, or tests, can share one Redis. NewHub ignores it.
	Prefix string
	// Logger receives what goes wrong on the way to Redis; nil discards it.
	Logger *slog.Logger
}

// Hub fans changes out to the subscribers of their shop. It is safe for concurrent
// use.
type Hub struct {
	buffer int
	log    *slog.Logger

	mu     sync.RWMutex
	subs   map[string]map[*subscription]struct{} // by shop
	closed bool                                  // CloseSubscriptions was called

	// dropped counts the changes subscribers were too slow to take.
	dropped atomic.Uint64

	// redis links the hub to the other replicas; nil keeps it in this process.
	redis *redisLink
}

type subscription struct {
	shop string
	ch   chan orders.Change
}

// NewHub returns a Hub that delivers changes to subscribers in this process only.
func NewHub(o Options) *Hub {
	h := &Hub{buffer: o.Buffer, log: o.Logger, subs: map[string]map[*subscription]struct{}{}}
	if h.buffer <= 0 {
		h.buffer = DefaultBuffer
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Publish delivers c to the subscribers of c.Shop without waiting for any of them and,
// on a Redis hub, queues it for the other replicas. It never fails: the change is
// already committed, and what goes wrong on the way to Redis is logged.
func (h *Hub) Publish(_ context.Context, c orders.Change) {
	h.deliver(c)
	if h.redis != nil {
		h.redis.send(c)
	}
}

// deliver hands c to each subscriber of its shop that has room for it.
func (h *Hub) deliver(c orders.Change) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for sub := range h.subs[c.Shop] {
		select {
		case sub.ch <- c:
		default:
			h.dropped.Add(1)
		}
	}
}

// Subscribe returns the changes of shopID published from now on, here or (on a Redis
// hub) on any replica. The channel is closed when stop is called, when ctx ends, or
// when the hub stops handing out changes (CloseSubscriptions, Close); after that a
// subscriber may redraw once from the store and subscribe again. stop may be called
// more than once.
func (h *Hub) Subscribe(ctx context.Context, shopID string) (<-chan orders.Change, func()) {
	sub := &subscription{shop: shopID, ch: make(chan orders.Change, h.buffer)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(sub.ch)
		return sub.ch, func() {}
	}
	set := h.subs[shopID]
	if set == nil {
		set = map[*subscription]struct{}{}
		h.subs[shopID] = set
	}
	set[sub] = struct{}{}
	h.mu.Unlock()

	unsubscribe := func() { h.remove(sub) }
	cancelAfter := context.AfterFunc(ctx, unsubscribe)
	return sub.ch, func() {
		cancelAfter()
		unsubscribe()
	}
}

// remove ends one subscription, once: its channel is closed under the same lock that
// deliver holds while sending, so no change is ever sent on a closed channel.
func (h *Hub) remove(sub *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.subs[sub.shop]
	if _, ok := set[sub]; !ok {
		return // stopped already, or ended by CloseSubscriptions
	}
	delete(set, sub)
	if len(set) == 0 {
		delete(h.subs, sub.shop)
	}
	close(sub.ch)
}

// CloseSubscriptions ends every subscription (their channels close) and makes later
// ones end at once, while publishing goes on. Call it when the HTTP server starts
// shutting down (http.Server.RegisterOnShutdown): an event stream never goes idle by
// itself, so Shutdown would otherwise wait for its deadline, and the work still
// finishing meanwhile keeps reaching the other replicas' dashboards.
func (h *Hub) CloseSubscriptions() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for shop, set := range h.subs {
		for sub := range set {
			close(sub.ch)
		}
		delete(h.subs, shop)
	}
}

// Close ends every subscription and, on a Redis hub, sends what is still queued for
// the other replicas (until ctx is done) and leaves the Redis channel. It does not
// close the Redis client, which belongs to the caller. Publish may still be called
// after Close; the change then reaches no one.
func (h *Hub) Close(ctx context.Context) error {
	h.CloseSubscriptions()
	if h.redis != nil {
		return h.redis.close(ctx)
	}
	return nil
}

// Dropped returns how many changes subscribers have lost because their buffer was
// full.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }
