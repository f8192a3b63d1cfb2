package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/templates"
)

// dashBundle is the API bundle (real service, sandbox payments and their webhooks)
// with a dashboard server over the same service and gateways, and signed-in owners of
// shops A and B and a staff member of shop A.
type dashBundle struct {
	*bundle
	dash                 *gin.Engine
	owner, staff, ownerB *http.Cookie
}

func setupDashBundle(t *testing.T) *dashBundle {
	t.Helper()
	b := setup(t)
	st, ok := b.svc.Store().(auth.Store)
	require.True(t, ok, "the SQLite store keeps users too")
	a, _ := authtest.NewService(t, st)
	ctx := context.Background()
	for _, u := range []struct {
		shop, email string
		role        auth.Role
	}{{"shop-a", "owner@example.com", auth.RoleOwner}, {"shop-a", "staff@example.com", auth.RoleStaff}, {"shop-b", "owner@example.com", auth.RoleOwner}} {
		_, err := a.AddUser(ctx, u.shop, u.email, u.role, authtest.Password)
		require.NoError(t, err)
	}
	pages, err := templates.New()
	require.NoError(t, err)
	srv, err := New(Config{Service: b.svc, Gateways: b.gateways, Sandbox: b.sandbox, Pages: pages, Auth: a,
		Logger: slog.New(slog.NewTextHandler(b.logs, nil))})
	require.NoError(t, err)
	d := &dashBundle{bundle: b, dash: gin.New()}
	srv.Register(d.dash)
	signIn := func(shop, email string) *http.Cookie {
		rec := d.send(http.MethodPost, "/dashboard/signin", strings.NewReader("shop="+shop+"&email="+email+"&password="+strings.ReplaceAll(authtest.Password, " ", "+")),
			"application/x-www-form-urlencoded", "same-origin", nil)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		return sessionCookieOf(t, rec, "chatpay_session")
	}
	d.owner, d.staff, d.ownerB = signIn("shop-a", "owner@example.com"), signIn("shop-a", "staff@example.com"), signIn("shop-b", "owner@example.com")
	return d
}

// send makes a request to the dashboard server.
func (d *dashBundle) send(method, path string, body io.Reader, ctype, fetchSite string, cookie *http.Cookie) *httptest.ResponseRecorder {
	d.t.Helper()
	req := httptest.NewRequest(method, path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	d.dash.ServeHTTP(rec, req)
	return rec
}

func (d *dashBundle) get(path string, cookie *http.Cookie) *httptest.ResponseRecorder {
	d.t.Helper()
	return d.send(http.MethodGet, path, nil, "", "", cookie)
}

// TestDashboardReport: the report page and its CSV on payments made through the
// sandbox: figures, failure reasons, charts with tables, the metadata grouping, bad
// requests shown on the page with what was typed, staff allowed, shops apart.
func TestDashboardReport(t *testing.T) {
	t.Parallel()
	d := setupDashBundle(t)
	paid := d.createOrder(keyA, orderBody)
	d.checkout(paid, "success")
	thai := d.createOrder(keyA, `{"customer": {"channel": "webchat", "external_id": "visitor-th", "name": "สมชาย ใจดี"},
		"items": [{"name": "Trà sữa", "quantity": 1, "unit_price": 50000}], "metadata": {"branch": "hn"}}`)
	d.checkout(thai, "decline")
	d.checkout(thai, "success")
	declined := d.createOrder(keyA, `{"items": [{"name": "Mũ", "quantity": 1, "unit_price": 70000}]}`)
	d.checkout(declined, "decline")
	d.checkout(d.createOrder(keyB, orderBody), "success") // shop B's, never in A's report

	rec := d.get("/dashboard/reports", d.owner)
	body := requirePage(t, rec, http.StatusOK)
	today := time.Now().UTC().Format(time.DateOnly)
	require.Contains(t, body, `name="to" value="`+today+`"`, "the last 30 days by default")
	require.Contains(t, body, `name="from" value="`+time.Now().UTC().AddDate(0, 0, -29).Format(time.DateOnly)+`"`)
	require.Contains(t, body, "Báo cáo thanh toán", "in the shop's language")
	require.Contains(t, body, `<span class="big">2</span>`, "two payments")
	require.Contains(t, body, "50%", "2 of 4 attempts paid")
	require.Contains(t, body, "2 trên 4 lượt")
	require.Contains(t, body, `role="img"`)
	require.Contains(t, body, `aria-label="Đã thu theo ngày (VND)"`)
	require.Contains(t, body, "380.000 ₫", "330,000 + 50,000 paid today")
	require.Contains(t, body, `aria-label="Lượt thất bại theo lý do"`)
	require.Contains(t, body, `<th scope="row"><bdi>card_declined</bdi></th><td class="num">2</td>`)
	require.Contains(t, body, `<th scope="row"><bdi>Sandbox</bdi></th><td class="num">2</td><td class="num">380.000 ₫</td>`)
	require.Contains(t, body, `<th scope="row">Đã thanh toán</th>`, "by payment status, in words")
	require.Contains(t, body, `href="/dashboard/reports/payments.csv?from=`)
	require.Contains(t, body, `aria-current="page">Báo cáo`)

	rec = d.get("/dashboard/reports?group_by=branch", d.owner)
	body = requirePage(t, rec, http.StatusOK)
	require.Contains(t, body, "Theo metadata “branch”")
	require.Contains(t, body, "<bdi>hcm</bdi>")
	require.Contains(t, body, "<bdi>hn</bdi>")
	require.Contains(t, body, "group_by=branch")

	for _, tc := range []struct{ query, field, text string }{
		{"from=2026-13-01", "from", "Nhập ngày theo dạng năm-tháng-ngày"},
		{"to=yesterday", "to", "Nhập ngày theo dạng năm-tháng-ngày"},
		{"from=2026-11-30&to=2026-11-01", "to", "Ngày cuối không được trước ngày đầu."},
		{"group_by=a+b", "group_by", "Khóa metadata gồm tối đa 40"},
	} {
		rec = d.get("/dashboard/reports?"+tc.query, d.owner)
		body = requirePage(t, rec, http.StatusBadRequest)
		require.Contains(t, body, tc.text, tc.query)
		require.Contains(t, body, `id="`+tc.field+`" name="`+tc.field+`"`, tc.query)
		require.Regexp(t, `id="`+tc.field+`" name="`+tc.field+`" value="[^"]*" (maxlength="40" )?dir="ltr"[^>]*aria-invalid="true"`, body, tc.query)
		require.NotContains(t, body, "<svg", tc.query)
	}
	body = requirePage(t, d.get("/dashboard/reports?from=2026-13-01&group_by=branch", d.owner), http.StatusBadRequest)
	require.Contains(t, body, `value="2026-13-01"`, "what was typed stays")
	require.Contains(t, body, `value="branch"`)

	// Staff may read the report; another shop sees only its own payment.
	requirePage(t, d.get("/dashboard/reports", d.staff), http.StatusOK)
	body = requirePage(t, d.get("/dashboard/reports", d.ownerB), http.StatusOK)
	require.Contains(t, body, `<span class="big">1</span>`)
	require.NotContains(t, body, "card_declined")

	rec = d.get("/dashboard/reports", nil)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, "/dashboard/signin", rec.Header().Get("Location"))
}

// TestDashboardReportCSV: the dashboard's CSV is the API's file for the same days:
// UTF-8 with a byte order mark first, Vietnamese and Thai intact.
func TestDashboardReportCSV(t *testing.T) {
	t.Parallel()
	d := setupDashBundle(t)
	d.checkout(d.createOrder(keyA, orderBody), "success")
	d.checkout(d.createOrder(keyA, `{"customer": {"channel": "webchat", "external_id": "visitor-th", "name": "สมชาย ใจดี"},
		"items": [{"name": "Trà sữa", "quantity": 1, "unit_price": 50000}], "metadata": {"note": "=cmd|' /C calc'!A0"}}`), "success")

	now := time.Now().UTC()
	from, to := now.AddDate(0, 0, -1).Format(time.DateOnly), now.Format(time.DateOnly)
	rec := d.get("/dashboard/reports/payments.csv?from="+from+"&to="+to+"&group_by=note", d.staff)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Contains(t, rec.Header().Get("Content-Disposition"), "attachment;")
	csv := rec.Body.Bytes()
	require.True(t, bytes.HasPrefix(csv, []byte("\xef\xbb\xbf")), "starts with the UTF-8 byte order mark")
	require.Contains(t, string(csv), "Lan")
	require.Contains(t, string(csv), "สมชาย ใจดี", "Thai intact")
	require.Contains(t, string(csv), "'=cmd", "a formula is written as text")

	api := d.api(http.MethodGet, "/api/v1/reports/payments.csv?from="+from+"&to="+now.AddDate(0, 0, 1).Format(time.DateOnly)+"&group_by=note", keyA, "")
	require.Equal(t, http.StatusOK, api.Code, api.Body.String())
	require.Equal(t, string(api.Body.Bytes()), string(csv), "the same file as the API's for the same days")

	body := requirePage(t, d.get("/dashboard/reports/payments.csv?from=bad", d.owner), http.StatusBadRequest)
	require.Contains(t, body, "Nhập ngày theo dạng năm-tháng-ngày", "a bad range shows the page, not a broken file")

	rec = d.get("/dashboard/reports/payments.csv", nil)
	require.Equal(t, http.StatusSeeOther, rec.Code, "only behind a session")
}
