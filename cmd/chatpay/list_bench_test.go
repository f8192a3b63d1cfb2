package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres"
	"github.com/chatpay/chatpay/orders/storetest"
)

// BenchmarkListOrdersHTTP measures GET /api/v1/orders end to end (authentication, the
// store's ListOrders, JSON) with 100,000 orders in the shop, one request at a time,
// and reports p50 and p95 per filter (storetest.ListBenchCases):
//
//	go test ./cmd/chatpay -run '^$' -bench ListOrdersHTTP -benchtime 200x
func BenchmarkListOrdersHTTP(b *testing.B) {
	for _, store := range stores {
		b.Run(store, func(b *testing.B) {
			a, ids := setupListBench(b, store)
			for _, c := range storetest.ListBenchCases(ids) {
				q := listBenchQuery(c.Filter, false)
				q.Set("limit", "50")
				benchGet(b, c.Name, func() (*http.Request, error) {
					req, err := http.NewRequest(http.MethodGet, a.url+"/api/v1/orders?"+q.Encode(), nil)
					if err == nil {
						req.Header.Set("Authorization", "Bearer "+keyA)
					}
					return req, err
				}, func(body []byte) error {
					var page struct{ Orders []json.RawMessage }
					if err := json.Unmarshal(body, &page); err != nil {
						return err
					}
					if len(page.Orders) != c.Want {
						return fmt.Errorf("/api/v1/orders?%s lists %d orders, want %d", q.Encode(), len(page.Orders), c.Want)
					}
					return nil
				})
			}
		})
	}
}

// BenchmarkDashboardList measures the dashboard's orders list as a browser gets it:
// GET /dashboard through the real router with a signed-in session (the session read
// and touched, the list read, the page rendered), with 100,000 orders in the shop,
// one request at a time, and reports p50 and p95 per filter. Issue 4's target is
// under 50 ms at p95 for every single filter, on both stores:
//
//	go test ./cmd/chatpay -run '^$' -bench DashboardList -benchtime 200x
func BenchmarkDashboardList(b *testing.B) {
	for _, store := range stores {
		b.Run(store, func(b *testing.B) {
			a, ids := setupListBench(b, store)
			const password = "correct horse battery staple"
			a.addStoreUser("shop-a", "bench@example.com", auth.RoleOwner, password)
			session := a.signIn("shop-a", "bench@example.com", password)
			for _, c := range storetest.ListBenchCases(ids) {
				query := listBenchQuery(c.Filter, true).Encode()
				benchGet(b, c.Name, func() (*http.Request, error) {
					req, err := http.NewRequest(http.MethodGet, a.url+"/dashboard?"+query, nil)
					if err == nil {
						req.AddCookie(session)
					}
					return req, err
				}, func(body []byte) error {
					if n := len(dashboardRow.FindAll(body, -1)); n != c.Want {
						return fmt.Errorf("/dashboard?%s lists %d orders, want %d", query, n, c.Want)
					}
					return nil
				})
			}
		})
	}
}

// setupListBench starts chatpay on store with storetest's 100,000 orders in shop A
// and returns the orders' IDs, oldest first.
func setupListBench(b *testing.B, store string) (*app, []string) {
	a := setup(b, store)
	ids := storetest.LoadListBenchShop(b, a.m.Store, "shop-a", false)
	if pg, ok := a.m.Store.(*postgres.Store); ok {
		// As autovacuum would after a load this size (see the store benchmark).
		_, err := pg.Pool().Exec(context.Background(), "ANALYZE")
		require.NoError(b, err)
	}
	return a, ids
}

// listBenchQuery writes f as the list's query string: the dashboard's to names the
// last day shown, the API's is exclusive (and the benchmark's ranges end at
// midnight).
func listBenchQuery(f orders.OrderFilter, dashboard bool) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", f.Status)
	set("payment_status", f.PaymentStatus)
	set("channel", f.Channel)
	set("q", f.Query)
	for k, v := range f.Metadata {
		q.Set("metadata["+k+"]", v)
	}
	if !f.CreatedFrom.IsZero() {
		q.Set("from", f.CreatedFrom.Format(time.DateOnly))
	}
	if to := f.CreatedBefore; !to.IsZero() {
		if dashboard {
			to = to.AddDate(0, 0, -1)
		}
		q.Set("to", to.Format(time.DateOnly))
	}
	if f.BeforeID != "" {
		q.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(f.BeforeID)))
	}
	return q
}

// benchGet measures one request, made by newReq, as a sub-benchmark: one warm-up
// request (checked by check, when set) and then b.N timed ones, reporting their p50
// and p95 in milliseconds.
func benchGet(b *testing.B, name string, newReq func() (*http.Request, error), check func(body []byte) error) {
	client := loadClient()
	// A redirect (to the sign-in page) is an answer to report, not to follow.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b.Run(name, func(b *testing.B) {
		get := func(check func([]byte) error) error {
			req, err := newReq()
			if err != nil {
				return err
			}
			res, err := client.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %d", req.URL, res.StatusCode)
			}
			if check != nil {
				return check(body)
			}
			return nil
		}
		require.NoError(b, get(check))
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for b.Loop() {
			t := time.Now()
			if err := get(nil); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		b.StopTimer()
		storetest.ReportLatencies(b, lat)
	})
}
