package jobs

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// heldBatcher is a markBatcher whose first markMaxInFlight batches wait for release,
// so that the marks made meanwhile queue up; then mark runs.
func heldBatcher(mark func(ctx context.Context, ups ...*orders.ChatUpdate) error) (b *markBatcher, release func(), batches func() [][]int64) {
	var mu sync.Mutex
	var sizes [][]int64
	held := make(chan struct{})
	calls := 0
	b = &markBatcher{mark: func(ctx context.Context, ups ...*orders.ChatUpdate) error {
		mu.Lock()
		calls++
		wait := calls <= markMaxInFlight
		ids := make([]int64, len(ups))
		for i, u := range ups {
			ids[i] = u.UpdateID
		}
		sizes = append(sizes, ids)
		mu.Unlock()
		if wait {
			<-held
		}
		return mark(ctx, ups...)
	}}
	batches = func() [][]int64 {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(sizes)
	}
	return b, func() { close(held) }, batches
}

// queued waits until n marks wait in b's queue.
func queued(t *testing.T, b *markBatcher, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == n
	}, 5*time.Second, time.Millisecond)
}

// leaders makes markMaxInFlight marks, of updates first, first+1, …, one at a time,
// each waiting for the previous one's batch to start, so that each is a held batch
// of its own.
func leaders(t *testing.T, b *markBatcher, batches func() [][]int64, shopID string, first int64) []<-chan error {
	t.Helper()
	var outcomes []<-chan error
	for i := range markMaxInFlight {
		outcomes = append(outcomes, markAsync(b, shopID, first+int64(i)))
		require.Eventually(t, func() bool { return len(batches()) == i+1 }, 30*time.Second, time.Millisecond)
	}
	return outcomes
}

// markAsync marks update id in a goroutine and returns where its outcome arrives.
func markAsync(b *markBatcher, shopID string, id int64) <-chan error {
	errc := make(chan error, 1)
	go func() {
		errc <- b.Mark(context.Background(), &orders.ChatUpdate{ShopID: shopID, Source: "telegram:1", UpdateID: id})
	}()
	return errc
}

func TestMarkBatcherSharesTransactions(t *testing.T) {
	t.Parallel()
	b, release, batches := heldBatcher(func(context.Context, ...*orders.ChatUpdate) error { return nil })
	// The first marks are written at once, each alone.
	outcomes := leaders(t, b, batches, "shop-a", 0)
	const waiting = 50
	for i := range int64(waiting) {
		outcomes = append(outcomes, markAsync(b, "shop-a", 100+i))
	}
	queued(t, b, waiting)
	release()
	for _, errc := range outcomes {
		require.NoError(t, <-errc)
	}
	got := batches()
	require.Len(t, got, markMaxInFlight+1, "the marks made meanwhile share one transaction")
	require.Len(t, got[markMaxInFlight], waiting)
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Zero(t, b.inFlight, "nothing runs once the queue is empty")
}

// TestMarkBatcherIsolatesFailures marks, in one batch, two recorded updates and one
// that is not: the batch's transaction fails, and each is then marked alone, so only
// the missing one's caller sees an error.
func TestMarkBatcherIsolatesFailures(t *testing.T) {
	t.Parallel()
	bu := setup(t)
	ctx := context.Background()
	var ups []*orders.ChatUpdate
	for id := range int64(2 + markMaxInFlight) {
		ups = append(ups, &orders.ChatUpdate{UpdateID: id + 1, Payload: []byte(`{}`)})
	}
	_, err := bu.svc.RecordChatUpdates(ctx, bu.shop.ID, "telegram:1", ups, 0)
	require.NoError(t, err)
	b, release, batches := heldBatcher(bu.svc.MarkChatUpdatesProcessed)
	first := leaders(t, b, batches, bu.shop.ID, 3)
	one, missing, two := markAsync(b, bu.shop.ID, 1), markAsync(b, bu.shop.ID, 99), markAsync(b, bu.shop.ID, 2)
	queued(t, b, 3)
	release()
	for _, errc := range first {
		require.NoError(t, <-errc)
	}
	require.NoError(t, <-one)
	require.NoError(t, <-two)
	require.ErrorIs(t, <-missing, orders.ErrNotFound)
	for id := range int64(2 + markMaxInFlight) {
		u, err := bu.store.ChatUpdate(ctx, bu.shop.ID, "telegram:1", id+1)
		require.NoError(t, err)
		require.NotNil(t, u.ProcessedAt, "update %d is marked", id+1)
	}
	got := batches()
	require.Len(t, got, markMaxInFlight+1+3, "the failed batch, then each of its marks alone")
	require.ElementsMatch(t, []int64{1, 99, 2}, got[markMaxInFlight])
}

// TestMarkReturnsWhenTheCallerGivesUp checks that a caller whose context ends stops
// waiting for the batches ahead of its own; its mark is still written.
func TestMarkReturnsWhenTheCallerGivesUp(t *testing.T) {
	t.Parallel()
	b, release, batches := heldBatcher(func(context.Context, ...*orders.ChatUpdate) error { return nil })
	first := leaders(t, b, batches, "shop-a", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.Mark(ctx, &orders.ChatUpdate{UpdateID: 7}), context.DeadlineExceeded)
	release()
	for _, errc := range first {
		require.NoError(t, <-errc)
	}
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.inFlight == 0
	}, 5*time.Second, time.Millisecond)
	got := batches()
	require.Len(t, got, markMaxInFlight+1)
	require.Equal(t, []int64{7}, got[markMaxInFlight])
}
