package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// recorder is a batcher's apply function that records the batches it is given and,
// until release is closed, holds the first one, so that the events sent meanwhile
// queue up behind it.
type recorder struct {
	mu       sync.Mutex
	batches  [][]string
	running  atomic.Int32
	maxSeen  atomic.Int32
	release  chan struct{}
	held     chan struct{}
	holdOnce sync.Once
}

func newRecorder() *recorder {
	return &recorder{release: make(chan struct{}), held: make(chan struct{})}
}

func (r *recorder) apply(_ context.Context, evs []*orders.GatewayEvent) ([]*orders.EventResult, []error) {
	n := r.running.Add(1)
	defer r.running.Add(-1)
	for {
		m := r.maxSeen.Load()
		if n <= m || r.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	r.holdOnce.Do(func() {
		close(r.held)
		<-r.release
	})
	ids := make([]string, len(evs))
	res := make([]*orders.EventResult, len(evs))
	errs := make([]error, len(evs))
	for i, ev := range evs {
		ids[i] = ev.EventID
		// Each event gets a result that names it, or an error, so that a caller
		// given another's answer is caught.
		if ev.Type == "fail" {
			errs[i] = fmt.Errorf("event %s failed", ev.EventID)
		} else {
			res[i] = &orders.EventResult{Outcome: "applied:" + ev.EventID}
		}
	}
	r.mu.Lock()
	r.batches = append(r.batches, ids)
	r.mu.Unlock()
	return res, errs
}

func TestBatcherSharesTransactions(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	var observed atomic.Int64
	b := &batcher{apply: rec.apply, maxBatch: 8, maxInFlight: 2, observe: func(n int) { observed.Add(int64(n)) }}

	// The first event starts a batch that the recorder holds; the rest arrive while
	// it is held.
	const n = 50
	type answer struct {
		res *orders.EventResult
		err error
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	wg.Go(func() {
		answers[0].res, answers[0].err = b.Apply(context.Background(), &orders.GatewayEvent{EventID: "e0"})
	})
	<-rec.held
	for i := 1; i < n; i++ {
		typ := ""
		if i%10 == 3 {
			typ = "fail"
		}
		wg.Go(func() {
			answers[i].res, answers[i].err = b.Apply(context.Background(), &orders.GatewayEvent{EventID: fmt.Sprintf("e%d", i), Type: typ})
		})
	}
	// Let the queue fill before releasing the held batch.
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) >= n-1-8 // the second slot took at most one batch of 8
	}, 10*time.Second, time.Millisecond)
	close(rec.release)
	wg.Wait()

	for i, a := range answers {
		if i%10 == 3 {
			require.EqualError(t, a.err, fmt.Sprintf("event e%d failed", i))
			require.Nil(t, a.res)
			continue
		}
		require.NoError(t, a.err)
		require.Equal(t, fmt.Sprintf("applied:e%d", i), a.res.Outcome, "each caller gets its own event's result")
	}
	seen := map[string]int{}
	multi := 0
	for _, batch := range rec.batches {
		require.LessOrEqual(t, len(batch), 8, "no batch above maxBatch")
		if len(batch) > 1 {
			multi++
		}
		for _, id := range batch {
			seen[id]++
		}
	}
	require.Len(t, seen, n)
	for id, k := range seen {
		require.Equal(t, 1, k, "event %s applied once", id)
	}
	require.Positive(t, multi, "events that queued together share a batch")
	require.LessOrEqual(t, rec.maxSeen.Load(), int32(2), "no more than maxInFlight batches at once")
	require.Equal(t, int64(n), observed.Load())
	b.mu.Lock()
	require.Zero(t, b.inFlight, "every batch slot is given back")
	require.Empty(t, b.queue)
	b.mu.Unlock()
}

func TestBatcherAloneRunsAtOnce(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	close(rec.release)
	b := &batcher{apply: rec.apply, maxBatch: 8, maxInFlight: 1}
	for i := range 3 {
		res, err := b.Apply(context.Background(), &orders.GatewayEvent{EventID: fmt.Sprint(i)})
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("applied:%d", i), res.Outcome)
	}
	require.Equal(t, [][]string{{"0"}, {"1"}, {"2"}}, rec.batches, "a lone event does not wait for company")
}

func TestBatcherCallerGivesUp(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	b := &batcher{apply: rec.apply, maxBatch: 8, maxInFlight: 1}
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := b.Apply(context.Background(), &orders.GatewayEvent{EventID: "first"})
		require.NoError(t, err)
	})
	<-rec.held
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Apply(ctx, &orders.GatewayEvent{EventID: "second"})
		done <- err
	}()
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == 1
	}, 10*time.Second, time.Millisecond)
	cancel()
	require.True(t, errors.Is(<-done, context.Canceled), "the caller stops waiting on its own context")

	// Its event is still applied, as a request whose answer was lost would be.
	close(rec.release)
	wg.Wait()
	require.Eventually(t, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.batches) == 2
	}, 10*time.Second, time.Millisecond)
	require.Equal(t, []string{"second"}, rec.batches[1])
}
