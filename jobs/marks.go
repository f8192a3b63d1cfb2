package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// Bounds of the batches in which chat updates are marked processed: how many updates
// one transaction marks at most, and how many such transactions run at once.
const (
	markMaxBatch    = 128
	markMaxInFlight = 2
)

// markTimeout bounds one batch's transaction. A caller stops waiting on its own
// context; the batch belongs to several callers, so none of theirs may cancel it.
const markTimeout = 30 * time.Second

// markBatcher marks chat updates processed in shared transactions. Each update the
// job handles is marked once the handler is done, after the handler's own writes
// have committed; many jobs finish together in a burst, and a transaction of its own
// for each mark was a commit per update (on SQLite, a turn of the only write lock;
// on Postgres, round trips and a flush, holding a pooled connection meanwhile).
//
// Batching changes nothing a caller relies on: Mark returns only once its update's
// mark has committed (or failed), so the chat's next update still waits for it, and
// a job that fails to mark is retried as before. Nothing waits to fill a batch: a
// mark that arrives while fewer than markMaxInFlight batches run is written at once;
// marks that arrive meanwhile queue for the next batch. The caller that starts a
// batch runs it, and a goroutine carries on while marks are queued after it.
type markBatcher struct {
	mark func(ctx context.Context, ups ...*orders.ChatUpdate) error

	mu       sync.Mutex
	queue    []*pendingMark
	inFlight int
}

// pendingMark is one caller's update and, once done is closed, the outcome.
type pendingMark struct {
	u    *orders.ChatUpdate
	err  error
	done chan struct{}
}

// Mark marks u processed, possibly with other callers' updates, and returns once
// that has committed or failed. If ctx ends first it returns ctx's error; the mark
// may then still commit, and the job's retry finds the update processed.
func (b *markBatcher) Mark(ctx context.Context, u *orders.ChatUpdate) error {
	p := &pendingMark{u: u, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	lead := b.inFlight < markMaxInFlight
	if lead {
		b.inFlight++
	}
	b.mu.Unlock()
	if lead {
		b.run()
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run writes one batch from the queue, then hands on to a goroutine when more is
// queued, or gives up its place.
func (b *markBatcher) run() {
	b.mu.Lock()
	n := min(len(b.queue), markMaxBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	if n > 0 {
		ups := make([]*orders.ChatUpdate, n)
		for i, p := range batch {
			ups[i] = p.u
		}
		ctx, cancel := context.WithTimeout(context.Background(), markTimeout)
		err := b.mark(ctx, ups...)
		if err != nil && n > 1 {
			// One update that cannot be marked (no longer recorded) must not fail
			// the others: mark each alone, so that every caller gets its own answer.
			for _, p := range batch {
				p.err = b.mark(ctx, p.u)
			}
		} else {
			for _, p := range batch {
				p.err = err
			}
		}
		cancel()
		for _, p := range batch {
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
		go b.run()
	}
}
