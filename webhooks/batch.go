package webhooks

import (
	"context"
	"sync"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// Defaults for the batcher: how many events one transaction applies at most, and how
// many such transactions run at once. A few concurrent batches keep the database busy
// while the server prepares the next; more would only queue in the connection pool.
const (
	DefaultMaxBatch    = 64
	DefaultMaxInFlight = 4
)

// batchTimeout bounds one batch's transaction, so that a database that stops
// answering fails the batch (every caller answers 500, and gateways retry) instead of
// holding its callers forever.
const batchTimeout = 30 * time.Second

// batcher applies webhook events that arrive together in shared transactions. A
// transaction's fixed cost (its round trips, the commit's flush, River's insert
// statement) is most of what one webhook costs the database, so sharing it is what
// lets the server keep up with bursts from a gateway.
//
// Nothing waits to fill a batch: an event that arrives while fewer than maxInFlight
// batches are running is applied at once, alone if need be. Events that arrive while
// all are running queue, and the next batch takes up to maxBatch of them. No
// goroutine outlives the work: the caller whose event starts a batch runs it, and
// when events are still queued after it, a goroutine carries on until the queue is
// empty.
type batcher struct {
	apply       func(ctx context.Context, evs []*orders.GatewayEvent) ([]*orders.EventResult, []error)
	maxBatch    int
	maxInFlight int
	// observe, when set, is told each batch's size.
	observe func(n int)

	mu       sync.Mutex
	queue    []*pendingEvent
	inFlight int
}

// pendingEvent is one caller's event and, once done is closed, its result.
type pendingEvent struct {
	ev   *orders.GatewayEvent
	res  *orders.EventResult
	err  error
	done chan struct{}
}

// Apply applies ev, possibly together with other callers' events, and returns its
// result. If ctx ends first, Apply returns ctx's error; the event is then still
// applied or not, as for any request whose answer was lost, and the gateway's retry
// finds it recorded or records it.
func (b *batcher) Apply(ctx context.Context, ev *orders.GatewayEvent) (*orders.EventResult, error) {
	p := &pendingEvent{ev: ev, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	lead := b.inFlight < b.maxInFlight
	if lead {
		b.inFlight++
	}
	b.mu.Unlock()
	if lead {
		b.runBatch()
	}
	select {
	case <-p.done:
		return p.res, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runBatch applies one batch from the queue and then either hands the work on to a
// goroutine, when more is queued, or gives up its place.
func (b *batcher) runBatch() {
	b.mu.Lock()
	n := min(len(b.queue), b.maxBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	if n > 0 {
		if b.observe != nil {
			b.observe(n)
		}
		evs := make([]*orders.GatewayEvent, n)
		for i, p := range batch {
			evs[i] = p.ev
		}
		// The batch belongs to several requests, so no single request's context
		// may cancel it; each caller stops waiting on its own context instead.
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		res, errs := b.apply(ctx, evs)
		cancel()
		for i, p := range batch {
			p.res, p.err = res[i], errs[i]
			close(p.done)
		}
	}

	b.mu.Lock()
	more := len(b.queue) > 0
	if !more {
		b.inFlight--
	}
	b.mu.Unlock()
	if more {
		go b.runBatch()
	}
}
