package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders/postgres"
	"github.com/chatpay/chatpay/orders/storetest"
)

// BenchmarkListOrdersHTTP measures GET /api/v1/orders end to end (authentication, the
// store's ListOrders, JSON) with 100,000 orders in the shop, one request at a time,
// and reports p50 and p95 per filter:
//
//	go test ./cmd/chatpay -run '^$' -bench ListOrdersHTTP -benchtime 200x
func BenchmarkListOrdersHTTP(b *testing.B) {
	for _, store := range stores {
		b.Run(store, func(b *testing.B) {
			a := setup(b, store)
			storetest.LoadListBenchShop(b, a.m.Store, "shop-a", false)
			if pg, ok := a.m.Store.(*postgres.Store); ok {
				// As autovacuum would after a load this size (see the store benchmark).
				_, err := pg.Pool().Exec(context.Background(), "ANALYZE")
				require.NoError(b, err)
			}
			client := loadClient()
			for _, query := range []string{"status=paid", "payment_status=refunded", "metadata[branch]=danang", "status=deleted"} {
				b.Run(query, func(b *testing.B) {
					get := func() error {
						req, err := http.NewRequest(http.MethodGet, a.url+"/api/v1/orders?limit=50&"+query, nil)
						if err != nil {
							return err
						}
						req.Header.Set("Authorization", "Bearer "+keyA)
						res, err := client.Do(req)
						if err != nil {
							return err
						}
						_, err = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusOK {
							return fmt.Errorf("GET /api/v1/orders?%s: %d", query, res.StatusCode)
						}
						return err
					}
					require.NoError(b, get())
					lat := make([]time.Duration, 0, b.N)
					b.ResetTimer()
					for b.Loop() {
						t := time.Now()
						if err := get(); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t))
					}
					b.StopTimer()
					storetest.ReportLatencies(b, lat)
				})
			}
		})
	}
}
