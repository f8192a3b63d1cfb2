package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDashboardReportEndToEnd pays, declines and pays again through the sandbox on the
// real server, then reads the dashboard's report: its figures match the payments made
// (and the API's), failure reasons are counted, the charts are drawn, staff may read
// it, and the CSV download is the UTF-8 file with a byte order mark that keeps
// Vietnamese and Thai names intact. SQLite only, like the other dashboard tests:
// `chatpay user add` opens the database the config names.
func TestDashboardReportEndToEnd(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	const password = "correct horse battery staple"
	a.addUser("shop-a", "owner@example.com", "owner", password)
	a.addUser("shop-a", "staff@example.com", "staff", password)

	vi := webchatOrder("report-visitor-vi")
	vi["customer"].(map[string]any)["name"] = "Trần Thị Bích"
	th := webchatOrder("report-visitor-th")
	th["customer"].(map[string]any)["name"] = "สมชาย ใจดี"
	th["metadata"] = map[string]any{"branch": "hn"}
	declined := webchatOrder("report-visitor-declined")
	delete(declined, "metadata")

	o1, o2, o3 := a.createOrder(keyA, vi), a.createOrder(keyA, th), a.createOrder(keyA, declined)
	for _, o := range []map[string]any{o1, o2, o3} {
		a.waitMessages(keyA, o["id"].(string), "order card sent", allSent)
	}
	a.pay(linkOf(o1), "success", "normal")
	a.pay(linkOf(o2), "decline", "normal")
	a.waitMessages(keyA, o2["id"].(string), "the decline applied", func(ms []map[string]any) bool { return find(ms, "payment_failed") != nil })
	a.pay(linkOf(o2), "success", "normal")
	a.pay(linkOf(o3), "decline", "normal")
	a.waitOrder(keyA, o1["id"].(string), "paid", func(o map[string]any) bool { return o["status"] == "paid" })
	a.waitOrder(keyA, o2["id"].(string), "paid", func(o map[string]any) bool { return o["status"] == "paid" })
	a.waitMessages(keyA, o3["id"].(string), "the decline applied", func(ms []map[string]any) bool { return find(ms, "payment_failed") != nil })

	// The API's figures for today.
	today := time.Now().UTC()
	from, to := today.Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)
	code, r := a.call(http.MethodGet, "/api/v1/reports/payments?from="+from+"&to="+to, keyA, nil)
	require.Equal(t, http.StatusOK, code, "%v", r)
	require.EqualValues(t, 2, r["payments"])
	require.EqualValues(t, 4, r["attempts"])
	require.EqualValues(t, 2, r["paid_attempts"])
	require.Equal(t, []any{map[string]any{"reason": "card_declined", "count": float64(2)}}, r["failure_reasons"])
	require.NotNil(t, r["median_seconds_to_paid"])
	require.GreaterOrEqual(t, r["p90_seconds_to_paid"], r["median_seconds_to_paid"])

	owner := a.signIn("shop-a", "owner@example.com", password)
	res, body := a.browse(http.MethodGet, "/dashboard/reports?to="+from+"&group_by=branch", nil, "", owner)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Contains(t, body, `<span class="big">2</span>`, "two payments")
	require.Contains(t, body, "50%")
	require.Contains(t, body, "2 trên 4 lượt")
	require.Contains(t, body, `<th scope="row"><bdi>Sandbox</bdi></th><td class="num">2</td><td class="num">660.000 ₫</td>`)
	require.Contains(t, body, `<th scope="row"><bdi>card_declined</bdi></th><td class="num">2</td>`)
	require.Contains(t, body, `<th scope="row"><bdi>hcm</bdi></th><td class="num">1</td><td class="num">330.000 ₫</td>`)
	require.Contains(t, body, `<th scope="row"><bdi>hn</bdi></th><td class="num">1</td><td class="num">330.000 ₫</td>`)
	require.Contains(t, body, `<th scope="row"><span dir="ltr">`+from+`</span></th><td class="num">2</td><td class="num">660.000 ₫</td>`)
	require.Equal(t, 3, strings.Count(body, `role="img"`), "paid per day, by method, failure reasons")
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'", "charts need no script and no image request")
	require.NotContains(t, body, "<script")

	staff := a.signIn("shop-a", "staff@example.com", password)
	res, _ = a.browse(http.MethodGet, "/dashboard/reports", nil, "", staff)
	require.Equal(t, http.StatusOK, res.StatusCode, "staff may read the report")

	res, csv := a.browse(http.MethodGet, "/dashboard/reports/payments.csv?from="+from+"&to="+from, nil, "", owner)
	require.Equal(t, http.StatusOK, res.StatusCode, csv)
	require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="payments-`+from+`-`+to+`.csv"`, res.Header.Get("Content-Disposition"))
	require.True(t, bytes.HasPrefix([]byte(csv), []byte{0xef, 0xbb, 0xbf}), "UTF-8 byte order mark first")
	require.Contains(t, csv, "Trần Thị Bích")
	require.Contains(t, csv, "สมชาย ใจดี")
	require.Equal(t, 3, strings.Count(csv, "\r\n"), "a header and one line per payment")

	res, _ = a.browse(http.MethodGet, "/dashboard/reports/payments.csv", nil, "", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the download needs a session")
}
