package sqlite_test

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/orders/storetest"
)

// setup opens a fresh, migrated store in its own file.
func setup(t testing.TB) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Migrate(ctx))
	return s
}

// jobs reads the River jobs committed to s, oldest first. River stores args as
// SQLite JSONB, which json() turns back into text.
func jobs(t testing.TB, s *sqlite.Store) []orders.Job {
	t.Helper()
	rows, err := s.Writer().QueryContext(context.Background(), `SELECT kind, json(args) FROM river_job ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []orders.Job
	for rows.Next() {
		var kind, args string
		require.NoError(t, rows.Scan(&kind, &args))
		j, err := storetest.DecodeJob(kind, []byte(args))
		require.NoError(t, err)
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s := setup(t)
		return storetest.Harness{Store: s, Jobs: func(t testing.TB) []orders.Job { return jobs(t, s) }}
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	s := setup(t)
	count := func() int {
		var n int
		require.NoError(t, s.Writer().QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n))
		return n
	}
	applied := count()
	files, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	require.Equal(t, len(files), applied, "every migration is recorded once")
	require.NoError(t, s.Migrate(context.Background()))
	require.Equal(t, applied, count(), "a second Migrate applies nothing")
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chatpay.db")
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	key, err := s.Secret(ctx, "link_key", func() (string, error) { return "k1", nil })
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Migrate(ctx))
	again, err := s.Secret(ctx, "link_key", func() (string, error) { return "k2", nil })
	require.NoError(t, err)
	require.Equal(t, key, again)
}

func TestOpenMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Ping(ctx))
	require.NoError(t, s.Close())
}

// TestJobClientWorksEnqueuedJobs checks the whole job path on SQLite: a job enqueued in
// InTx is picked up by the worker client from JobClient, which shares the writer pool.
func TestJobClientWorksEnqueuedJobs(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := setup(t)

	worked := make(chan orders.DeliverMessage, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[orders.DeliverMessage]) error {
		worked <- job.Args
		return nil
	}))
	client, err := s.JobClient(&river.Config{
		Queues:   map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers:  workers,
		TestOnly: true,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() { require.NoError(t, client.Stop(context.Background())) })

	want := orders.DeliverMessage{ShopID: "shop-a", MessageID: orders.NewID()}
	require.NoError(t, s.InTx(ctx, func(tx orders.Tx) error { return tx.Enqueue(ctx, want) }))
	select {
	case got := <-worked:
		require.Equal(t, want, got)
	case <-ctx.Done():
		t.Fatal("the enqueued job was never worked")
	}
}

// BenchmarkCreateOrderTx measures the transaction behind Service.CreateOrder: a code,
// the conversation, the order and its link, the order card and its delivery job.
func BenchmarkCreateOrderTx(b *testing.B) {
	ctx := context.Background()
	s := setup(b)
	for b.Loop() {
		now := time.Now().UTC().Truncate(time.Microsecond)
		o := &orders.Order{
			ID: orders.NewID(), ShopID: "shop-a", Status: orders.StatusAwaitingPayment,
			PaymentStatus: orders.PaymentUnpaid, PaymentMethod: orders.MethodOnline, Currency: "VND",
			Items: []orders.Item{{Name: "Tea", Quantity: 2, UnitPrice: 45000}}, Total: 90000,
			Customer: orders.Customer{Channel: orders.ChannelTelegram, ExternalID: "42"},
			Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now,
		}
		tok := orders.NewLinkToken()
		o.Link = &orders.PaymentLink{OrderID: o.ID, TokenHash: orders.HashLinkToken(tok), SealedToken: []byte(tok), CreatedAt: now}
		err := s.InTx(ctx, func(tx orders.Tx) error {
			code, err := tx.NextOrderCode(ctx, o.ShopID)
			if err != nil {
				return err
			}
			o.Code = strconv.FormatInt(code, 10)
			c := &orders.Conversation{ID: orders.NewID(), ShopID: o.ShopID, Channel: orders.ChannelTelegram, ExternalID: "42", CreatedAt: now}
			if err := tx.UpsertConversation(ctx, c); err != nil {
				return err
			}
			o.ConversationID = c.ID
			if err := tx.InsertOrder(ctx, o); err != nil {
				return err
			}
			m := &orders.Message{ID: orders.NewID(), ShopID: o.ShopID, ConversationID: c.ID, OrderID: o.ID,
				Direction: orders.DirectionOut, Kind: orders.KindOrderCard, Text: "Order #" + o.Code,
				Buttons: []orders.Button{{Label: "Pay now", URL: "https://example.com/pay/" + tok}},
				Status:  orders.MessageQueued, CreatedAt: now}
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			return tx.Enqueue(ctx, orders.DeliverMessage{ShopID: o.ShopID, MessageID: m.ID})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestTwoStoresOneFile checks that two Stores on one file (two chatpay processes, or
// the server and `chatpay migrate`) serialise their writes: IMMEDIATE transactions
// wait for the write lock instead of failing to upgrade a read lock, and InTx retries
// what still comes back SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chatpay.db")
	var stores []*sqlite.Store
	for range 2 {
		s, err := sqlite.Open(ctx, path)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.NoError(t, s.Migrate(ctx))
		stores = append(stores, s)
	}

	const n = 20
	codes := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = stores[i%2].InTx(ctx, func(tx orders.Tx) error {
				// Read before writing, the pattern that deadlocks DEFERRED transactions.
				if _, err := tx.RefundsTotal(ctx, "shop-a", "p"); err != nil {
					return err
				}
				c, err := tx.NextOrderCode(ctx, "shop-a")
				codes[i] = c
				return err
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(codes)
	for i, c := range codes {
		require.Equal(t, int64(1001+i), c)
	}
}

// newOrder stores an order of shop awaiting payment, with its link, and returns it
// with its plain token.
func newOrder(t testing.TB, s *sqlite.Store, shopID string) (*orders.Order, string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	o := &orders.Order{
		ID: orders.NewID(), ShopID: shopID, Status: orders.StatusAwaitingPayment,
		PaymentStatus: orders.PaymentUnpaid, PaymentMethod: orders.MethodOnline, Currency: "VND",
		Items: []orders.Item{{Name: "Tea", Quantity: 2, UnitPrice: 45000}}, Total: 90000,
		Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now,
	}
	tok := orders.NewLinkToken()
	o.Link = &orders.PaymentLink{OrderID: o.ID, TokenHash: orders.HashLinkToken(tok), SealedToken: []byte(tok), CreatedAt: now}
	require.NoError(t, s.InTx(ctx, func(tx orders.Tx) error {
		code, err := tx.NextOrderCode(ctx, shopID)
		if err != nil {
			return err
		}
		o.Code = strconv.FormatInt(code, 10)
		return tx.InsertOrder(ctx, o)
	}))
	return o, tok
}

// TestOrderChildrenGoToTheirOrders checks that orders read together get exactly their
// own payments and shipments, and none when they have none: the store reads children
// only for the orders that have some.
func TestOrderChildrenGoToTheirOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t)
	bare, bareToken := newOrder(t, s, "shop-a")
	paid, _ := newOrder(t, s, "shop-a")
	shipped, shippedToken := newOrder(t, s, "shop-a")
	now := time.Now().UTC().Truncate(time.Microsecond)
	payment := &orders.Payment{ID: orders.NewID(), ShopID: "shop-a", OrderID: paid.ID, AttemptID: orders.NewID(),
		Gateway: "sandbox", GatewayRef: "pay_1", Status: orders.PaymentStatusSucceeded, Amount: paid.Total,
		Currency: "VND", CreatedAt: now}
	shipment := &orders.Shipment{ID: orders.NewID(), ShopID: "shop-a", OrderID: shipped.ID, Carrier: "GHN", CreatedAt: now}
	require.NoError(t, s.InTx(ctx, func(tx orders.Tx) error {
		if err := tx.InsertPayment(ctx, payment); err != nil {
			return err
		}
		return tx.InsertShipment(ctx, shipment)
	}))

	list, err := s.ListOrders(ctx, "shop-a", orders.OrderFilter{})
	require.NoError(t, err)
	require.Len(t, list, 3)
	byID := map[string]*orders.Order{}
	for _, o := range list {
		byID[o.ID] = o
	}
	require.Empty(t, byID[bare.ID].Payments)
	require.Empty(t, byID[bare.ID].Shipments)
	require.Equal(t, []*orders.Payment{payment}, byID[paid.ID].Payments)
	require.Empty(t, byID[paid.ID].Shipments)
	require.Empty(t, byID[shipped.ID].Payments)
	require.Equal(t, []*orders.Shipment{shipment}, byID[shipped.ID].Shipments)

	got, err := s.OrderByTokenHash(ctx, orders.HashLinkToken(shippedToken))
	require.NoError(t, err)
	require.Equal(t, shipped.ID, got.ID)
	require.Equal(t, []*orders.Shipment{shipment}, got.Shipments)
	got, err = s.OrderByTokenHash(ctx, orders.HashLinkToken(bareToken))
	require.NoError(t, err)
	require.Equal(t, bare.ID, got.ID)
	require.Equal(t, bare.Link.TokenHash, got.Link.TokenHash)
	require.Empty(t, got.Payments)
}

// BenchmarkOrderByTokenHash measures the pay page's read of an order by its link.
func BenchmarkOrderByTokenHash(b *testing.B) {
	ctx := context.Background()
	s := setup(b)
	_, tok := newOrder(b, s, "shop-a")
	hash := orders.HashLinkToken(tok)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.OrderByTokenHash(ctx, hash); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
