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
// The data's shape (see ListBenchCases for what each case finds): 20% awaiting
// payment, 30% paid, 25% shipped, 20% completed, 5% cancelled; every paid, shipped or
// completed order has one payment, and every 500th of them is refunded (rare);
// metadata branch is "hanoi" (60%), "saigon" (the rest) or, for every 1,000th order,
// "danang" (rare). Orders are 5 minutes apart, so 100,000 span almost a year. They
// belong to 5,000 customers (20 orders each, spread through the year), whose family
// names follow Vietnam's (38% Nguyễn, ...; 1 in 1,000 customers is an Ông), with 10
// given names, a phone each whose last 4 digits are the customer's number, and a
// channel each (60% Telegram, 25% Messenger, the rest web chat); 1 order in 1,000 has
// no conversation (rare). Rare values are spread evenly through the IDs, so a scan
// that walks newest first and filters reads about 1,000 orders per match: 50,000
// rows for a page of 50.
func BenchListOrders(b *testing.B, s orders.Store, settle func(testing.TB)) {
	ctx := context.Background()
	const shop = ListBenchShop
	ids := LoadListBench(b, s)
	if settle != nil {
		settle(b)
	}

	for _, c := range ListBenchCases(ids) {
		b.Run(c.Name, func(b *testing.B) {
			c.Filter.Limit = 50
			// One warm-up read fills caches and checks the page's size.
			got, err := s.ListOrders(ctx, shop, c.Filter)
			require.NoError(b, err)
			require.Len(b, got, c.Want)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				t := time.Now()
				if _, err := s.ListOrders(ctx, shop, c.Filter); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			ReportLatencies(b, lat)
		})
	}
}

// ListBenchCase is one filter BenchListOrders measures: a name for the benchmark, the
// filter, and how many orders the page of 50 holds.
type ListBenchCase struct {
	Name   string
	Filter orders.OrderFilter
	Want   int
}

// listBenchStart is when the first of the benchmark's orders is created; the others
// follow listBenchStep apart.
var listBenchStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const listBenchStep = 5 * time.Minute

// ListBenchCases are the single filters the orders list is measured with, given the
// IDs LoadListBench returned: every filter the dashboard and the API offer, each with
// a common value, a rare one and, where it can happen, one that matches nothing (the
// worst case without an index that matches: every order ruled out).
func ListBenchCases(ids []string) []ListBenchCase {
	end := listBenchStart.Add(ListBenchOrders * listBenchStep)
	day := 24 * time.Hour
	// Customer 1234's phone, whose orders are the 20 with i%5000 == 1234.
	phone := listBenchPhone(1234)
	return []ListBenchCase{
		{"NoFilter", orders.OrderFilter{}, 50},
		{"StatusPaid", orders.OrderFilter{Status: orders.StatusPaid}, 50},
		{"StatusAwaitingPayment", orders.OrderFilter{Status: orders.StatusAwaitingPayment}, 50},
		{"PaymentRefunded", orders.OrderFilter{PaymentStatus: orders.PaymentRefunded}, 50},
		{"MetadataCommon", orders.OrderFilter{Metadata: map[string]string{"branch": "hanoi"}}, 50},
		{"MetadataRare", orders.OrderFilter{Metadata: map[string]string{"branch": "danang"}}, 50},
		// ids are in insertion order, which is ID order (UUIDv7 from one process); the
		// deep page starts after the newest 10,000.
		{"DeepPage", orders.OrderFilter{BeforeID: ids[len(ids)-10_000]}, 50},
		{"ChannelTelegram", orders.OrderFilter{Channel: orders.ChannelTelegram}, 50},
		{"ChannelWebchat", orders.OrderFilter{Channel: orders.ChannelWebchat}, 50},
		{"ChannelNone", orders.OrderFilter{Channel: orders.ChannelNone}, 50},
		{"DateLast30Days", orders.OrderFilter{CreatedFrom: end.Add(-30 * day), CreatedBefore: end}, 50},
		{"DateOldMonth", orders.OrderFilter{CreatedFrom: listBenchStart.Add(60 * day), CreatedBefore: listBenchStart.Add(90 * day)}, 50},
		{"DateWide", orders.OrderFilter{CreatedFrom: listBenchStart, CreatedBefore: listBenchStart.Add(300 * day)}, 50},
		{"DateFrom", orders.OrderFilter{CreatedFrom: listBenchStart.Add(100 * day)}, 50},
		{"SearchCode", orders.OrderFilter{Query: "L51001"}, 1},
		{"SearchCodeHash", orders.OrderFilter{Query: "#L1001"}, 1},
		{"SearchNameCommon", orders.OrderFilter{Query: "nguyen"}, 50},
		{"SearchNameRare", orders.OrderFilter{Query: "Ông"}, 50},
		{"SearchNameTwoWords", orders.OrderFilter{Query: "nguyen lan"}, 50},
		{"SearchNamePrefix", orders.OrderFilter{Query: "ph"}, 50},
		{"SearchPhoneSuffix", orders.OrderFilter{Query: phone[len(phone)-4:]}, 20},
		{"SearchPhoneFull", orders.OrderFilter{Query: "+84 " + phone[1:]}, 20},
		// No order matches these, so the page is empty only after every one of the
		// shop's orders has been ruled out: without an index that matches, the worst
		// case of a single filter.
		{"PaymentDisputedNone", orders.OrderFilter{PaymentStatus: orders.PaymentDisputed}, 0},
		// Run after StatusPaid and StatusAwaitingPayment with the same query text: on
		// Postgres a cached generic plan made for common statuses must not serve it.
		{"StatusDeletedNone", orders.OrderFilter{Status: orders.StatusDeleted}, 0},
		{"MetadataNone", orders.OrderFilter{Metadata: map[string]string{"branch": "nowhere"}}, 0},
		{"DateNone", orders.OrderFilter{CreatedFrom: listBenchStart.Add(-30 * day), CreatedBefore: listBenchStart}, 0},
		{"SearchNone", orders.OrderFilter{Query: "zzz"}, 0},
		{"SearchPhoneNone", orders.OrderFilter{Query: "0999 999 999"}, 0},
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
	ids := make([]string, 0, n)
	for lo := 0; lo < n; lo += listBenchBatch {
		err := s.InTx(ctx, func(tx orders.Tx) error {
			for i := lo; i < min(n, lo+listBenchBatch); i++ {
				o := listBenchOrder(shop, i, listBenchStart.Add(time.Duration(i)*listBenchStep))
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
	c := i % 5000
	customer := orders.Customer{
		Channel: orders.ChannelTelegram, ExternalID: fmt.Sprintf("tg-%d", c),
		Name: listBenchName(c), Phone: listBenchPhone(c),
	}
	switch {
	case i%1000 == 3:
		customer.Channel, customer.ExternalID = "", ""
	case c%20 >= 17:
		customer.Channel, customer.ExternalID = orders.ChannelWebchat, fmt.Sprintf("visitor-%d", c)
	case c%20 >= 12:
		customer.Channel, customer.ExternalID = orders.ChannelMessenger, fmt.Sprintf("psid-%d", c)
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
		Customer:      customer,
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

// Vietnamese family names, each listed as often as it is common (in hundredths),
// and given names.
var (
	listBenchFamilies = slices.Concat(
		slices.Repeat([]string{"Nguyễn"}, 38), slices.Repeat([]string{"Trần"}, 11), slices.Repeat([]string{"Lê"}, 10),
		slices.Repeat([]string{"Phạm"}, 7), slices.Repeat([]string{"Hoàng"}, 6), slices.Repeat([]string{"Huỳnh"}, 5),
		slices.Repeat([]string{"Phan"}, 5), slices.Repeat([]string{"Vũ"}, 4), slices.Repeat([]string{"Võ"}, 4),
		slices.Repeat([]string{"Đặng"}, 3), slices.Repeat([]string{"Bùi"}, 3), slices.Repeat([]string{"Đỗ"}, 4),
	)
	listBenchGiven = []string{"Lan", "Anh", "Hùng", "Dũng", "Hương", "Minh", "Thảo", "Tuấn", "Ngọc", "Phương"}
)

// listBenchName is customer c's name: 1 customer in 1,000 is an Ông (rare).
func listBenchName(c int) string {
	family := listBenchFamilies[c%100]
	if c%1000 == 7 {
		family = "Ông"
	}
	middle := "Văn"
	if c%2 == 1 {
		middle = "Thị"
	}
	return family + " " + middle + " " + listBenchGiven[c%10]
}

// listBenchPhone is customer c's mobile number, in local form; its last 4 digits are
// c (below 10,000).
func listBenchPhone(c int) string {
	return fmt.Sprintf("09%04d%04d", c*37%10000, c)
}
