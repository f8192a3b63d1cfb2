package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestParseOrderFilter(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	parse := func(raw string, to toBound) (orders.OrderFilter, error) {
		q, err := url.ParseQuery(raw)
		require.NoError(t, err)
		return parseOrderFilter(q, to)
	}
	f, err := parse("status=paid&payment_status=refunded&channel=none&q=+lan+&metadata[branch]=hcm&from=2026-11-01&to=2026-11-30", toInclusive)
	require.NoError(t, err)
	require.Equal(t, orders.OrderFilter{
		Status: "paid", PaymentStatus: "refunded", Channel: "none", Query: " lan ",
		Metadata:    map[string]string{"branch": "hcm"},
		CreatedFrom: day, CreatedBefore: day.AddDate(0, 1, 0),
	}, f, "the dashboard's to is the last day shown")
	f, err = parse("from=2026-11-01&to=2026-12-01", toExclusive)
	require.NoError(t, err)
	require.Equal(t, day.AddDate(0, 1, 0), f.CreatedBefore, "the API's to is exclusive, as in the reports")
	f, err = parse("from=2026-11-01T07:00:00%2B07:00&to=2026-11-02T00:00:00.0000009Z", toInclusive)
	require.NoError(t, err)
	require.Equal(t, day, f.CreatedFrom, "a time in another zone")
	require.Equal(t, day.AddDate(0, 0, 1), f.CreatedBefore, "a time is taken as it is, to the microsecond")
	f, err = parse("cursor="+encodeCursor("0196a8f4-4a2c-7c38-9a51-000000000001"), toExclusive)
	require.NoError(t, err)
	require.Equal(t, "0196a8f4-4a2c-7c38-9a51-000000000001", f.BeforeID)
	f, err = parse("", toExclusive)
	require.NoError(t, err)
	require.Zero(t, f)

	for _, tc := range []struct{ query, field string }{
		{"from=yesterday", "from"},
		{"to=2026-13-01", "to"},
		{"to=2026-11-01T00:00", "to"},
		{"status=paid&status=shipped", "status"},
		{"q=a&q=b", "q"},
		{"channel=x&channel=y", "channel"},
		{"cursor=abc", "cursor"},
	} {
		_, err := parse(tc.query, toExclusive)
		var e *orders.Error
		require.ErrorAs(t, err, &e, tc.query)
		require.Equal(t, tc.field, e.Field, tc.query)
	}
}

// FuzzParseOrderFilter checks that any query string parses or fails with an error
// naming a parameter, never anything else.
func FuzzParseOrderFilter(f *testing.F) {
	for _, seed := range []string{"", "status=paid&from=2026-11-01&to=2026-11-30", "q=%23100&channel=none",
		"metadata[branch]=hcm&metadata[a]=b", "from=2026-11-01T07:00:00%2B07:00", "cursor=%FF", "to=9999-12-31", "a=b&a=c",
		"meta=branch%3Dhcm&metadata[branch]=hn", "meta=%3D", "meta=a&meta=b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		parsers := []func(url.Values) (orders.OrderFilter, error){
			func(q url.Values) (orders.OrderFilter, error) { return parseOrderFilter(q, toExclusive) },
			func(q url.Values) (orders.OrderFilter, error) { return parseOrderFilter(q, toInclusive) },
			parseListFilter, // the dashboard's, with meta=KEY=VALUE
		}
		for _, parse := range parsers {
			_, err := parse(q)
			if err != nil {
				var e *orders.Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, orders.EINVALID, e.Code)
				require.NotEmpty(t, e.Field)
			}
		}
	})
}

// TestListOrdersFilters checks GET /api/v1/orders' channel, from, to and q on the API
// as README documents them, and that shop A's orders never appear for shop B.
func TestListOrdersFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := func(customer string) string {
		return `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}], "customer": ` + customer + `}`
	}
	lan := b.createOrder(keyB, body(`{"channel": "webchat", "external_id": "v-1", "name": "Nguyễn Thị Lan", "phone": "0901234567"}`))
	nam := b.createOrder(keyB, body(`{"channel": "telegram", "external_id": "42", "name": "Trần Nam"}`))
	none := b.createOrder(keyB, body(`{"name": "Lan Anh", "phone": "+66 81 234 5678"}`))
	b.createOrder(keyA, body(`{"channel": "webchat", "external_id": "v-1", "name": "Nguyễn Thị Lan", "phone": "0901234567"}`))

	list := func(query string) []string {
		t.Helper()
		rec := b.api(http.MethodGet, "/api/v1/orders?"+query, keyB, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		ids := []string{}
		for _, o := range decode[listOrdersResponse](t, rec).Orders {
			ids = append(ids, o.ID)
		}
		return ids
	}
	require.Equal(t, []string{lan.ID}, list("channel=webchat"))
	require.Equal(t, []string{nam.ID}, list("channel=telegram"))
	require.Equal(t, []string{none.ID}, list("channel=none"))
	require.Empty(t, list("channel=messenger"))

	require.Equal(t, []string{none.ID, lan.ID}, list("q=lan"))
	require.Equal(t, []string{lan.ID}, list("q="+url.QueryEscape("nguyen lan")))
	require.Equal(t, []string{lan.ID}, list("q="+url.QueryEscape("+84 90 123 4567")))
	require.Equal(t, []string{none.ID}, list("q=5678"))
	require.Equal(t, []string{nam.ID}, list("q="+url.QueryEscape("#"+nam.Code)))
	require.Equal(t, []string{nam.ID}, list("q="+nam.Code))

	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	require.Equal(t, []string{none.ID, nam.ID, lan.ID}, list("from="+today+"&to="+tomorrow))
	require.Empty(t, list("to="+today), "to is exclusive")
	require.Equal(t, []string{none.ID}, list("from="+today+"&q=lan&channel=none"))

	rec := b.api(http.MethodGet, "/api/v1/orders?limit=1&q=lan", keyB, "")
	page := decode[listOrdersResponse](t, rec)
	require.Equal(t, none.ID, page.Orders[0].ID)
	rec = b.api(http.MethodGet, "/api/v1/orders?limit=1&q=lan&cursor="+page.NextCursor, keyB, "")
	page = decode[listOrdersResponse](t, rec)
	require.Equal(t, lan.ID, page.Orders[0].ID)
	require.Empty(t, page.NextCursor)

	for _, tc := range []struct{ query, field string }{
		{"channel=sms", "channel"},
		{"from=yesterday", "from"},
		{"to=2026-02-30", "to"},
		{"from=2026-11-02&to=2026-11-01", "to"},
		{"q=" + strings.Repeat("a", orders.MaxSearchQuery+1), "q"},
		{"q=%FF", "q"},
		{"channel=webchat&channel=telegram", "channel"},
	} {
		rec := b.api(http.MethodGet, "/api/v1/orders?"+tc.query, keyB, "")
		requireError(t, rec, http.StatusBadRequest, orders.EINVALID, tc.field)
	}
}
