package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/orders"
)

// listCodes are the order codes a list page shows, in order, and listLinks the
// order pages they link to.
var listRow = regexp.MustCompile(`<a href="(/dashboard/orders/[^"]+)">#([^<]+)</a>`)

func listCodes(body string) []string {
	codes := []string{}
	for _, m := range listRow.FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[2])
	}
	return codes
}

// newDashOrder creates an order in shop for the dashboard tests.
func (d *dash) newOrder(shop string, c orders.Customer, meta map[string]string) *orders.Order {
	d.t.Helper()
	o, err := d.svc.CreateOrder(context.Background(), shop, orders.CreateOrderInput{
		Customer: c, Items: []orders.Item{{Name: "Tea", Quantity: 1, UnitPrice: 150000}}, Metadata: meta,
	})
	require.NoError(d.t, err)
	return o
}

// TestDashboardOrdersList filters the list by each filter and checks it finds exactly
// the orders it should, never another shop's; that bad input is a 400 page saying
// what is wrong; and that pages link to each other with the filters kept.
func TestDashboardOrdersList(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	ctx := context.Background()
	// 1001 is setupDashboard's order, without a chat.
	lan := d.newOrder("shop-a", orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "v-1", Name: "Nguyễn Thị Lan", Phone: "0901234567"},
		map[string]string{"branch": "hcm"})
	nam := d.newOrder("shop-a", orders.Customer{Channel: orders.ChannelTelegram, ExternalID: "42", Name: "Trần Nam", Phone: "+84 91 765 4321"},
		map[string]string{"branch": "hn"})
	anh := d.newOrder("shop-a", orders.Customer{Channel: orders.ChannelMessenger, ExternalID: "psid-1", Name: "Lê Lan Anh"},
		map[string]string{"branch": "hcm"})
	_, err := d.svc.CancelOrder(ctx, "shop-a", anh.ID)
	require.NoError(t, err)
	// Shop B has look-alikes of every one of them.
	var others []*orders.Order
	for _, c := range []orders.Customer{
		{Channel: orders.ChannelWebchat, ExternalID: "v-1", Name: "Nguyễn Thị Lan", Phone: "0901234567"},
		{Channel: orders.ChannelTelegram, ExternalID: "42", Name: "Trần Nam", Phone: "+84 91 765 4321"},
		{Channel: orders.ChannelMessenger, ExternalID: "psid-1", Name: "Lê Lan Anh"},
	} {
		others = append(others, d.newOrder("shop-b", c, map[string]string{"branch": "hcm"}))
	}
	require.Equal(t, []string{"1002", "1003", "1004"}, []string{lan.Code, nam.Code, anh.Code})

	ck := sessionCookieOf(t, d.signIn("owner@example.com", authtest.Password), "chatpay_session")
	get := func(query string, status int) string {
		t.Helper()
		body := requirePage(t, d.do(http.MethodGet, "/dashboard?"+query, nil, nil, ck), status)
		for _, o := range others {
			require.NotContains(t, body, o.ID, "shop B's order on %q", query)
		}
		require.NotContains(t, body, "Customer-of-B")
		return body
	}
	list := func(query string) []string {
		t.Helper()
		return listCodes(get(query, http.StatusOK))
	}
	today := time.Now().UTC().Format(time.DateOnly)
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"1004", "1003", "1002", "1001"}},
		{"status=cancelled", []string{"1004"}},
		{"status=awaiting_payment", []string{"1003", "1002", "1001"}},
		{"payment_status=unpaid", []string{"1004", "1003", "1002", "1001"}},
		{"payment_status=paid", []string{}},
		{"channel=webchat", []string{"1002"}},
		{"channel=telegram", []string{"1003"}},
		{"channel=messenger", []string{"1004"}},
		{"channel=none", []string{"1001"}},
		{"from=" + today + "&to=" + today, []string{"1004", "1003", "1002", "1001"}},
		{"from=" + yesterday + "&to=" + yesterday, []string{}},
		{"to=" + yesterday, []string{}},
		{"from=" + today, []string{"1004", "1003", "1002", "1001"}},
		{"meta=branch%3Dhcm", []string{"1004", "1002"}},
		{"meta=+branch+%3D+hn+", []string{"1003"}},
		{"metadata[branch]=hn", []string{"1003"}},
		{"q=lan", []string{"1004", "1002"}},
		{"q=LAN+nguyen", []string{"1002"}},
		{"q=4567", []string{"1002"}},
		{"q=" + url.QueryEscape("+84 90 123 4567"), []string{"1002"}},
		{"q=0917654321", []string{"1003"}},
		{"q=%231003", []string{"1003"}},
		{"q=1001", []string{"1001"}},
		{"q=nobody", []string{}},
		{"q=lan&status=awaiting_payment&channel=webchat&meta=branch%3Dhcm&from=" + today, []string{"1002"}},
		// Empty fields, as a submitted form sends them, filter nothing.
		{"q=&status=&payment_status=&channel=&from=&to=&meta=", []string{"1004", "1003", "1002", "1001"}},
	} {
		require.Equal(t, c.want, list(c.query), c.query)
	}

	// The page: the dashboard's frame, live results, the form filled in, shareable.
	body := get("q=lan&status=cancelled&channel=messenger&from="+today+"&meta=branch%3Dhcm", http.StatusOK)
	require.Contains(t, body, `<a href="/dashboard" aria-current="page">`)
	require.Contains(t, body, `id="orders-results" data-live="orders"`)
	require.Contains(t, body, `<script src="/assets/live.js" defer></script>`)
	require.Contains(t, body, `<form method="get" action="/dashboard"`)
	require.Contains(t, body, `name="q" value="lan"`)
	require.Contains(t, body, `<option value="cancelled" selected>`)
	require.Contains(t, body, `<option value="messenger" selected>`)
	require.Contains(t, body, `name="from" value="`+today+`"`)
	require.Contains(t, body, `name="meta" value="branch=hcm"`)
	require.Contains(t, body, `<details open>`, "the extra filters start open while in use")
	require.Contains(t, body, `href="/dashboard/inbox"`, "a new order starts from a conversation")
	require.Contains(t, body, "Lê Lan Anh")
	require.Contains(t, body, `href="/dashboard/orders/`+anh.ID+`"`)
	require.Contains(t, body, "پاک کردن فیلترها", "clear filters, in the shop's language")
	require.NotContains(t, get("", http.StatusOK), `<details open>`)

	// Empty states: none yet would be another shop; none matching offers to clear.
	body = get("q=nobody", http.StatusOK)
	require.Contains(t, body, "هیچ سفارشی با این فیلترها پیدا نشد.")

	// Bad input: 400, the form again with the field marked and what is wrong with it.
	for _, c := range []struct{ query, field, input string }{
		{"status=bogus", "status", `id="f-status"`},
		{"payment_status=owed", "payment_status", `id="f-payment"`},
		{"channel=sms", "channel", `id="f-channel"`},
		{"from=2026-99-01", "from", `id="f-from"`},
		{"to=tomorrow", "to", `id="f-to"`},
		{"from=2026-11-02&to=2026-11-01", "to", `id="f-to"`},
		{"meta=branch", "meta", `id="f-meta"`},
		{"meta=%3Dhcm", "meta", `id="f-meta"`},
		{"metadata[bad%20key]=x", "meta", `id="f-meta"`},
		{"metadata[branch]=hcm&meta=branch%3Dhn", "meta", `id="f-meta"`},
		{"q=" + strings.Repeat("a", orders.MaxSearchQuery+1), "q", `id="f-q"`},
		{"q=a&q=b", "q", `id="f-q"`},
		{"cursor=not-a-cursor", "cursor", ""},
	} {
		body := get(c.query, http.StatusBadRequest)
		require.Contains(t, body, `class="banner bad" role="alert"`, c.query)
		require.Empty(t, listCodes(body), "%s lists nothing", c.query)
		if c.input != "" {
			require.Regexp(t, regexp.QuoteMeta(c.input)+`[^>]*aria-invalid="true"`, body, c.query)
		}
	}
	body = get("status=bogus&q=lan", http.StatusBadRequest)
	require.Contains(t, body, "چنین وضعیت سفارشی وجود ندارد.", "what is wrong, in the shop's language")
	require.Contains(t, body, `name="q" value="lan"`, "what was typed is kept")

	// Paging: 50 to a page, the next link keeps the filters, the first page is a link
	// away.
	for i := range 52 {
		d.newOrder("shop-a", orders.Customer{Name: fmt.Sprintf("Bulk %d", i)}, nil)
	}
	body = get("q=bulk&channel=none", http.StatusOK)
	first := listCodes(body)
	require.Len(t, first, dashboardOrders)
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(body)
	require.NotNil(t, next, "a link to the next page")
	nextURL, err := url.Parse(html.UnescapeString(next[1]))
	require.NoError(t, err)
	require.Equal(t, "bulk", nextURL.Query().Get("q"))
	require.Equal(t, "none", nextURL.Query().Get("channel"))
	body = get(nextURL.RawQuery, http.StatusOK)
	second := listCodes(body)
	require.Len(t, second, 2)
	require.NotContains(t, first, second[0])
	require.Contains(t, body, `<a href="/dashboard?channel=none&amp;q=bulk">`, "back to the first page")
	require.NotContains(t, body, `rel="next"`)

	// Staff see the list too; a user who may not create orders gets no New order link
	// (every role may today, so this only checks the link is the role's to show).
	_, err = d.auth.AddUser(ctx, "shop-a", "staff@example.com", auth.RoleStaff, authtest.Password)
	require.NoError(t, err)
	staff := sessionCookieOf(t, d.signIn("staff@example.com", authtest.Password), "chatpay_session")
	body = requirePage(t, d.do(http.MethodGet, "/dashboard?q=lan", nil, nil, staff), http.StatusOK)
	require.Equal(t, []string{"1004", "1002"}, listCodes(body))
	require.NotContains(t, body, `href="/dashboard/settings"`, "staff cannot open settings")
}

// TestDashboardListHidesDeleted checks that deleted orders leave the list unless
// asked for by status.
func TestDashboardListHidesDeleted(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	gone := d.newOrder("shop-a", orders.Customer{Name: "Gone"}, nil)
	_, err := d.svc.DeleteOrder(context.Background(), "shop-a", gone.ID)
	require.NoError(t, err)
	ck := sessionCookieOf(t, d.signIn("owner@example.com", authtest.Password), "chatpay_session")
	body := requirePage(t, d.do(http.MethodGet, "/dashboard", nil, nil, ck), http.StatusOK)
	require.Equal(t, []string{"1001"}, listCodes(body))
	body = requirePage(t, d.do(http.MethodGet, "/dashboard?status=deleted", nil, nil, ck), http.StatusOK)
	require.Equal(t, []string{gone.Code}, listCodes(body))
}
