package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// reconcilePages bounds the reads of one run (of reconcileBatch candidates each), and
// with them the gateway calls a run makes; the next run goes on where this one stopped.
const reconcilePages = 5

// reconcileCursor remembers where in the candidates, oldest first, reconciliation
// stopped, so that each run goes on after the attempts the one before asked about.
// Reading the oldest candidates afresh every run would let a gateway outage starve
// everything newer: the attempts it keeps failing to answer for would fill every
// run. The cursor lives in memory on the leader that runs the periodic job; a new
// leader starts again at the oldest, which only repeats questions already asked.
type reconcileCursor struct {
	mu sync.Mutex
	// at and id name the last attempt handed out; a zero at is the start.
	at time.Time
	id string
	// batch and pages override reconcileBatch and reconcilePages (tests).
	batch, pages int
}

// next returns the candidates of one run, created in (createdAfter, createdBefore):
// up to pages reads of batch attempts after the cursor, which it then moves past them.
// When the reads reach the newest candidate, the cursor goes back to the start for
// the next run. Runs that overlap take consecutive candidates, not the same ones.
func (c *reconcileCursor) next(ctx context.Context, st orders.Store, createdAfter, createdBefore time.Time) ([]*orders.Attempt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch, pages := c.batch, c.pages
	if batch <= 0 {
		batch = reconcileBatch
	}
	if pages <= 0 {
		pages = reconcilePages
	}
	at, id := c.at, c.id
	var out []*orders.Attempt
	for range pages {
		page, err := st.StaleAttempts(ctx, createdAfter, createdBefore, at, id, batch)
		if err != nil {
			// The cursor stays where it was: the next run reads these again.
			return nil, err
		}
		out = append(out, page...)
		if len(page) < batch {
			at, id = time.Time{}, ""
			break
		}
		last := page[len(page)-1]
		at, id = last.CreatedAt, last.ID
	}
	c.at, c.id = at, id
	return out, nil
}
