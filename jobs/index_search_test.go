package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
)

// unindexedOrders creates n orders whose customer is called Trần Lan and deletes their
// search rows, as a replica on the previous version stores them, and returns their
// IDs newest first, as search lists them.
func (b *bundle) unindexedOrders(t *testing.T, n int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		o, err := b.svc.CreateOrder(ctx, b.shop.ID, orders.CreateOrderInput{
			Customer: orders.Customer{Channel: orders.ChannelTelegram, ExternalID: fmt.Sprint(100 + i),
				Name: "Trần Lan", Phone: fmt.Sprintf("090 000 00%02d", i)},
			Items:    []orders.Item{{Name: "Tea", Quantity: 1, UnitPrice: 50000}},
			Currency: "VND",
		})
		require.NoError(t, err)
		ids = append([]string{o.ID}, ids...)
		_, err = b.store.Writer().ExecContext(ctx, `DELETE FROM order_search WHERE order_id = ?`, o.ID)
		require.NoError(t, err)
	}
	require.Empty(t, b.search(t, "lan"))
	return ids
}

func (b *bundle) search(t *testing.T, q string) []string {
	t.Helper()
	list, err := b.store.ListOrders(context.Background(), b.shop.ID, orders.OrderFilter{Query: q})
	require.NoError(t, err)
	ids := []string{}
	for _, o := range list {
		ids = append(ids, o.ID)
	}
	return ids
}

// TestIndexSearchWorker checks that the worker indexes the orders stored without
// search rows, logs how many, and logs nothing when a run finds none.
func TestIndexSearchWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	var logs bytes.Buffer
	j, err := New(Config{Service: b.svc, Gateways: gateway.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	ids := b.unindexedOrders(t, 3)

	require.NoError(t, (&indexSearchWorker{j: j}).Work(ctx, job(orders.IndexSearch{}, 1)))
	require.Equal(t, ids, b.search(t, "lan"))
	require.Equal(t, ids[2:], b.search(t, "0900000000"))
	require.Contains(t, logs.String(), `msg="indexed orders stored without search terms" orders=3`)

	logs.Reset()
	require.NoError(t, (&indexSearchWorker{j: j}).Work(ctx, job(orders.IndexSearch{}, 1)))
	require.Empty(t, logs.String(), "nothing indexed, nothing logged")
}

// roundsStore answers IndexSearch with a full batch every time, as a store with a
// backlog does, and records the calls.
type roundsStore struct {
	*sqlite.Store
	mu     sync.Mutex
	after  []string
	limits []int
	failAt int // the call (from 1) that fails; 0: none
}

func (s *roundsStore) IndexSearch(_ context.Context, afterID string, limit int) (string, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after, s.limits = append(s.after, afterID), append(s.limits, limit)
	if len(s.after) == s.failAt {
		return "", 0, errors.New("database is locked")
	}
	return fmt.Sprintf("order-%d", len(s.after)), 2, nil
}

// TestIndexSearchWorkerRounds checks that a run over a backlog goes on from each
// batch's last order for indexSearchRounds batches and stops, and that a failing
// batch fails the run (River retries it) after logging what was indexed before it.
func TestIndexSearchWorkerRounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	st := &roundsStore{Store: b.store}
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{b.shop}, Store: st, PublicURL: "https://pay.example",
		LinkKey: make([]byte, orders.LinkKeyLen),
	})
	require.NoError(t, err)
	var logs bytes.Buffer
	j, err := New(Config{Service: svc, Gateways: gateway.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)

	require.NoError(t, (&indexSearchWorker{j: j}).Work(ctx, job(orders.IndexSearch{}, 1)))
	want := []string{""}
	for i := 1; i < indexSearchRounds; i++ {
		want = append(want, fmt.Sprintf("order-%d", i))
	}
	require.Equal(t, want, st.after)
	for _, l := range st.limits {
		require.Equal(t, IndexSearchBatch, l)
	}
	require.Contains(t, logs.String(), fmt.Sprintf("orders=%d", 2*indexSearchRounds))

	st.after, st.failAt = nil, 2
	logs.Reset()
	err = (&indexSearchWorker{j: j}).Work(ctx, job(orders.IndexSearch{}, 1))
	require.ErrorContains(t, err, "database is locked")
	require.Len(t, st.after, 2, "no batch after the failed one")
	require.Contains(t, logs.String(), "orders=2")
}

// TestIndexSearchScheduled runs chatpay's River configuration on the SQLite store and
// checks that the search repair job is scheduled and runs once at start.
func TestIndexSearchScheduled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := setup(t)
	ids := b.unindexedOrders(t, 2)

	cfg := b.jobs.RiverConfig()
	cfg.TestOnly = true
	client, err := b.store.JobClient(cfg)
	require.NoError(t, err)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() { require.NoError(t, client.Stop(context.Background())) })
	for !slices.Equal(ids, b.search(t, "tran")) {
		select {
		case <-ctx.Done():
			t.Fatalf("the orders were not indexed: search finds %v", b.search(t, "tran"))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
