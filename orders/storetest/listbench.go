package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// ListBenchOrders is how many orders BenchListOrders loads into the shop it lists:
// issue 4's target is an orders list that renders in under 50 ms at p95 with this
// many orders in the store, whatever single filter is applied.
const ListBenchOrders = 100_000

// listBenchOther is how many orders a second shop gets, so that the shop condition
// has rows to skip as it would in a shared instance.
const listBenchOther = 3_000

// listBenchBatch is how many orders go into one transaction while loading: large
// enough that commits do not dominate, small enough to keep the writer's
// transactions short.
const listBenchBatch = 2_000

// BenchListOrders loads ListBenchOrders orders into one shop through the store's own
// insert path (Tx.InsertOrder and Tx.InsertPayment, so the rows are the ones the
// service writes), then measures ListOrders with a limit of 50 under each single
// filter the dashboard and the API offer, plus a deep page. Each case reports its
// p50 and p95 in milliseconds. settle, when not nil, runs after the load: Postgres
// ANALYZEs there, as autovacuum would soon after a load this size, so that the plans
// measured are the ones a running instance gets.
//
// The data's shape: 20% awaiting payment, 30% paid, 25% shipped, 20% completed, 5%
// cancelled; every paid, shipped or completed order has one payment, and every 500th
// of them is refunded (rare); metadata branch is "hanoi" (60%), "saigon" (the rest)
// or, for every 1,000th order, "danang" (rare). Rare values are spread evenly through
// the IDs, so a scan that walks newest first and filters reads about 1,000 orders
// per match: 50,000 rows for a page of 50.
func BenchListOrders(b *testing.B, s orders.Store, settle func(testing.TB)) {
	ctx := context.Background()
	const shop = ListBenchShop
	ids := LoadListBench(b, s)
	if settle != nil {
		settle(b)
	}

	// ids are in insertion order, which is ID order (UUIDv7 from one process); the
	// deep page starts after the newest 10,000.
	deep := ids[len(ids)-10_000]
	cases := []struct {
		name string
		f    orders.OrderFilter
		want int // rows the page holds
	}{
		{"NoFilter", orders.OrderFilter{}, 50},
		{"StatusPaid", orders.OrderFilter{Status: orders.StatusPaid}, 50},
		{"StatusAwaitingPayment", orders.OrderFilter{Status: orders.StatusAwaitingPayment}, 50},
		{"PaymentRefunded", orders.OrderFilter{PaymentStatus: orders.PaymentRefunded}, 50},
		{"MetadataCommon", orders.OrderFilter{Metadata: map[string]string{"branch": "hanoi"}}, 50},
		{"MetadataRare", orders.OrderFilter{Metadata: map[string]string{"branch": "danang"}}, 50},
		{"DeepPage", orders.OrderFilter{BeforeID: deep}, 50},
		// No order matches these, so the page is empty only after every one of the
		// shop's orders has been ruled out: without an index that matches, the worst
		// case of a single filter.
		{"PaymentDisputedNone", orders.OrderFilter{PaymentStatus: orders.PaymentDisputed}, 0},
		// Run after StatusPaid and StatusAwaitingPayment with the same query text: on
		// Postgres a cached generic plan made for common statuses must not serve it.
		{"StatusDeletedNone", orders.OrderFilter{Status: orders.StatusDeleted}, 0},
		{"MetadataNone", orders.OrderFilter{Metadata: map[string]string{"branch": "nowhere"}}, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.f.Limit = 50
			// One warm-up read fills caches and checks the page's size.
			got, err := s.ListOrders(ctx, shop, c.f)
			require.NoError(b, err)
			require.Len(b, got, c.want)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				t := time.Now()
				if _, err := s.ListOrders(ctx, shop, c.f); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			ReportLatencies(b, lat)
		})
	}
}

// ListBenchShop is the shop LoadListBench fills with ListBenchOrders orders.
const ListBenchShop = "shop-bench"

// LoadListBench loads BenchListOrders' data (see there) and returns the IDs of
// ListBenchShop's orders, oldest first. It is exported so that a store's tests can
// EXPLAIN the list queries against the same data.
func LoadListBench(tb testing.TB, s orders.Store) []string {
	return LoadListBenchShop(tb, s, ListBenchShop, true)
}

// LoadListBenchShop is LoadListBench into shop, for a benchmark whose shop already
// exists (the HTTP one). The orders' codes start with "L", apart from the shop's own.
// Without links the orders have no payment link: the links' sealed tokens here are
// not sealed with any server's key, and the API, which opens them, would fail.
func LoadListBenchShop(tb testing.TB, s orders.Store, shop string, links bool) []string {
	start := time.Now()
	loadListBench(tb, s, "shop-list-other", listBenchOther, links)
	ids := loadListBench(tb, s, shop, ListBenchOrders, links)
	tb.Logf("loaded %d+%d orders in %s", ListBenchOrders, listBenchOther, time.Since(start).Round(time.Millisecond))
	return ids
}

// ReportLatencies reports the p50 and p95 of lat in milliseconds.
func ReportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
}

// loadListBench inserts n orders for shop in batched transactions and returns their
// IDs, oldest first.
func loadListBench(b testing.TB, s orders.Store, shop string, n int, links bool) []string {
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, 0, n)
	for lo := 0; lo < n; lo += listBenchBatch {
		err := s.InTx(ctx, func(tx orders.Tx) error {
			for i := lo; i < min(n, lo+listBenchBatch); i++ {
				o := listBenchOrder(shop, i, base.Add(time.Duration(i)*time.Second))
				if !links {
					o.Link = nil
				}
				if err := tx.InsertOrder(ctx, o); err != nil {
					return err
				}
				ids = append(ids, o.ID)
				if o.PaymentStatus == orders.PaymentUnpaid {
					continue
				}
				p := &orders.Payment{
					ID: orders.NewID(), ShopID: shop, OrderID: o.ID, Gateway: "mock",
					GatewayRef: "ref-" + o.ID, Status: orders.PaymentStatusSucceeded,
					Amount: o.Total, Currency: o.Currency, CreatedAt: *o.PaidAt,
				}
				if o.PaymentStatus == orders.PaymentRefunded {
					p.RefundedAmount = o.Total
				}
				if err := tx.InsertPayment(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		require.NoError(b, err)
	}
	return ids
}

func listBenchOrder(shop string, i int, t time.Time) *orders.Order {
	id := orders.NewID()
	tok := orders.NewLinkToken()
	status, pay := orders.StatusAwaitingPayment, orders.PaymentUnpaid
	switch r := i % 20; {
	case r < 4: // 20%
	case r < 10: // 30%
		status, pay = orders.StatusPaid, orders.PaymentPaid
	case r < 15: // 25%
		status, pay = orders.StatusShipped, orders.PaymentPaid
	case r < 19: // 20%
		status, pay = orders.StatusCompleted, orders.PaymentPaid
	default: // 5%
		status = orders.StatusCancelled
	}
	// i%20 == 5 is paid; every 500th order is one of those, so 1 in 500 is refunded.
	if i%500 == 5 {
		pay = orders.PaymentRefunded
	}
	branch := "saigon"
	switch {
	case i%1000 == 7:
		branch = "danang"
	case i%5 < 3:
		branch = "hanoi"
	}
	o := &orders.Order{
		ID: id, ShopID: shop, Code: fmt.Sprintf("L%d", 1001+i),
		Status: status, PaymentStatus: pay, PaymentMethod: orders.MethodOnline, Currency: "VND",
		Items: []orders.Item{
			{Name: "Áo dài lụa", Quantity: 2, UnitPrice: 150000},
			{Name: "Khăn quàng cổ", Quantity: 1, UnitPrice: 30000},
		},
		ShippingFee: 25000, Total: 355000,
		Customer: orders.Customer{
			Channel: orders.ChannelTelegram, ExternalID: fmt.Sprintf("tg-%d", i%5000),
			Name: "Nguyễn Văn A", Phone: "+84 90 123 4567",
		},
		ShipOnPayment: true,
		Metadata:      map[string]string{"branch": branch, "source": "dashboard"},
		Link: &orders.PaymentLink{
			OrderID: id, TokenHash: orders.HashLinkToken(tok), SealedToken: []byte("sealed:" + tok),
			CreatedAt: t,
		},
		Version: 1, CreatedAt: t, UpdatedAt: t,
	}
	if pay != orders.PaymentUnpaid {
		o.PaidAt = &t
	}
	return o
}
