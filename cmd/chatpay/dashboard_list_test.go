package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
)

// addStoreUser adds a dashboard user through the running server's own store, which
// works for Postgres too (addUser's command opens the SQLite file the config names).
func (a *app) addStoreUser(shop, email string, role auth.Role, password string) {
	a.t.Helper()
	svc, err := auth.NewService(auth.Config{Store: a.m.Store.(auth.Store)})
	require.NoError(a.t, err)
	_, err = svc.AddUser(context.Background(), shop, email, role, password)
	require.NoError(a.t, err)
}

var dashboardRow = regexp.MustCompile(`<a href="/dashboard/orders/([^"]+)">#([^<]+)</a>`)

// TestDashboardOrdersListFilters fills two shops with look-alike orders through the
// API and the sandbox, then filters shop A's dashboard list, and its API list, by
// each filter in turn: each finds exactly the orders it should, and shop B's orders
// never appear, on both stores.
func TestDashboardOrdersListFilters(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		const password = "correct horse battery staple"
		a.addStoreUser("shop-a", "owner@example.com", auth.RoleOwner, password)
		day := time.Now().UTC().Format(time.DateOnly)

		type spec struct {
			customer map[string]any
			metadata map[string]any
		}
		specs := []spec{
			{map[string]any{"channel": "webchat", "external_id": "list-v1", "name": "Nguyễn Thị Lan", "phone": "0901234567"}, map[string]any{"branch": "hcm"}},
			{map[string]any{"channel": "telegram", "external_id": "4242", "name": "Trần Nam", "phone": "+84 91 765 4321"}, map[string]any{"branch": "hn"}},
			{map[string]any{"channel": "messenger", "external_id": "psid-9", "name": "Lê Lan Anh"}, map[string]any{"branch": "hcm", "campaign": "tet"}},
			{map[string]any{"name": "Phạm Minh", "phone": "028 3822 1001"}, nil},
			{map[string]any{"channel": "webchat", "external_id": "list-v2", "name": "Đỗ Lan"}, map[string]any{"campaign": "tet"}},
		}
		create := func(key string, s spec) map[string]any {
			body := map[string]any{
				"customer": s.customer, "currency": map[string]string{keyA: "VND", keyB: "THB"}[key],
				"items": []map[string]any{{"name": "Áo thun", "quantity": 1, "unit_price": 150000}},
			}
			if s.metadata != nil {
				body["metadata"] = s.metadata
			}
			return a.createOrder(key, body)
		}
		var ids, codes []string // shop A's, oldest first
		for _, s := range specs {
			o := create(keyA, s)
			ids, codes = append(ids, o["id"].(string)), append(codes, o["code"].(string))
		}
		// The last one is paid through the sandbox; the third is cancelled.
		status, last := a.call(http.MethodGet, "/api/v1/orders/"+ids[4], keyA, nil)
		require.Equal(t, http.StatusOK, status)
		a.pay(linkOf(last), "success", "normal")
		a.waitOrder(keyA, ids[4], "paid", func(o map[string]any) bool { return o["status"] == "paid" })
		status, _ = a.call(http.MethodPost, "/api/v1/orders/"+ids[2]+"/cancel", keyA, nil)
		require.Equal(t, http.StatusOK, status)
		var others []string
		for _, s := range specs {
			others = append(others, create(keyB, s)["id"].(string))
		}

		owner := a.signIn("shop-a", "owner@example.com", password)
		// pick returns shop A's orders by index, newest first, as the list shows them.
		pick := func(idx ...int) []string {
			var out []string
			for _, i := range slices.Backward(idx) {
				out = append(out, ids[i])
			}
			return out
		}
		all := pick(0, 1, 2, 3, 4)
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"", all},
			{"status=paid", pick(4)},
			{"status=cancelled", pick(2)},
			{"status=awaiting_payment", pick(0, 1, 3)},
			{"payment_status=paid", pick(4)},
			{"payment_status=unpaid", pick(0, 1, 2, 3)},
			{"channel=webchat", pick(0, 4)},
			{"channel=telegram", pick(1)},
			{"channel=messenger", pick(2)},
			{"channel=none", pick(3)},
			{"from=" + day + "&to=" + day, all},
			{"to=2020-01-01", nil},
			{"meta=branch%3Dhcm", pick(0, 2)},
			{"metadata[campaign]=tet", pick(2, 4)},
			{"meta=campaign%3Dtet&metadata[branch]=hcm", pick(2)},
			{"q=lan", pick(0, 2, 4)},
			{"q=nguyen+lan", pick(0)},
			{"q=DO", pick(4)},
			{"q=4567", pick(0)},
			{"q=" + url.QueryEscape("+84 90 123 4567"), pick(0)},
			{"q=0917654321", pick(1)},
			{"q=" + url.QueryEscape("#"+codes[3]), pick(3)},
			{"q=" + codes[1], pick(1)},
			{"q=1001", pick(0, 3)}, // code 1001, and the phone ending in 1001
			{"q=lan&channel=webchat&status=paid", pick(4)},
		} {
			if c.query == "from="+day+"&to="+day && time.Now().UTC().Format(time.DateOnly) != day {
				continue // midnight passed while the test ran
			}
			res, body := a.browse(http.MethodGet, "/dashboard?"+c.query, nil, "", owner)
			require.Equal(t, http.StatusOK, res.StatusCode, c.query)
			var got []string
			for _, m := range dashboardRow.FindAllStringSubmatch(body, -1) {
				got = append(got, m[1])
			}
			require.Equal(t, c.want, got, "dashboard ?%s", c.query)
			for _, id := range others {
				require.NotContains(t, body, id, "shop B's order on ?%s", c.query)
			}
		}

		// The API takes the same filters, with to exclusive as in the reports.
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"channel=none", pick(3)},
			{"channel=webchat", pick(0, 4)},
			{"q=lan", pick(0, 2, 4)},
			{"q=" + url.QueryEscape("+84 91 765 4321"), pick(1)},
			{"from=" + day + "&to=" + tomorrow + "&status=paid", pick(4)},
			{"to=" + day, nil},
		} {
			status, body := a.call(http.MethodGet, "/api/v1/orders?"+c.query, keyA, nil)
			require.Equal(t, http.StatusOK, status, c.query)
			var got []string
			for _, o := range body["orders"].([]any) {
				got = append(got, o.(map[string]any)["id"].(string))
			}
			require.Equal(t, c.want, got, "api ?%s", c.query)
		}
		status, body := a.call(http.MethodGet, "/api/v1/orders?q=lan", keyB, nil)
		require.Equal(t, http.StatusOK, status)
		for _, o := range body["orders"].([]any) {
			require.NotContains(t, ids, o.(map[string]any)["id"], "shop A's order in shop B's list")
		}

		// Bad filters are a 400 page, never a 500.
		for _, q := range []string{"status=bogus", "from=someday", "channel=fax", "meta=nokey", "cursor=x"} {
			res, _ := a.browse(http.MethodGet, "/dashboard?"+q, nil, "", owner)
			require.Equal(t, http.StatusBadRequest, res.StatusCode, q)
		}
	})
}
