package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// multipartBody is a form with text fields and, when name is set, one file in the
// field "file".
func multipartBody(t *testing.T, fields map[string]string, name string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if name != "" {
		w, err := mw.CreateFormFile("file", name)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return &body, mw.FormDataContentType()
}

func (d *dashBundle) upload(path, name string, data []byte, fetchSite string, cookie *http.Cookie) *httptest.ResponseRecorder {
	d.t.Helper()
	body, ctype := multipartBody(d.t.(*testing.T), nil, name, data)
	return d.send(http.MethodPost, path, body, ctype, fetchSite, cookie)
}

func (d *dashBundle) message(path, text string, cookie *http.Cookie) *httptest.ResponseRecorder {
	d.t.Helper()
	body, ctype := multipartBody(d.t.(*testing.T), map[string]string{"text": text}, "", nil)
	return d.send(http.MethodPost, path, body, ctype, "same-origin", cookie)
}

func (d *dashBundle) post(path string, form url.Values, cookie *http.Cookie) *httptest.ResponseRecorder {
	d.t.Helper()
	return d.send(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", "same-origin", cookie)
}

// TestDashboardDisputes: the list and a dispute's page on a gateway that answers
// disputes: the open one waits for an answer (banner, count, days left), the owner
// attaches evidence, sends a message, submits and accepts through the gateway, bad
// forms are shown on the page with what was typed and reach no gateway, staff may look
// but not answer, another shop's dispute is not found.
func TestDashboardDisputes(t *testing.T) {
	t.Parallel()
	d := setupDashBundle(t)
	g := &responderGateway{Gateway: d.sandbox.Gateway("shop-a", "secret-a"), files: map[string][]byte{}}
	d.gateways.Add("shop-a", g)
	due := time.Now().Add(5*24*time.Hour + time.Hour).UTC().Truncate(time.Second)
	open := d.disputed(t, "du_open", "", &due)
	d.disputed(t, "du_lost", orders.DisputeLost, nil)
	ids := d.disputeIDs(t)
	page, lostPage := disputePath(ids["du_open"]), disputePath(ids["du_lost"])

	body := requirePage(t, d.get("/dashboard/disputes", d.owner), http.StatusOK)
	require.Contains(t, body, "Khiếu nại đang chờ bạn trả lời: 1")
	require.Contains(t, body, `<span class="badge">1<span class="sr-only"> đang chờ bạn trả lời</span></span>`, "the count in the navigation")
	require.Contains(t, body, `href="`+page+`"><strong>`)
	require.Contains(t, body, `href="`+lostPage+`"><strong>`)
	require.Contains(t, body, "còn 6 ngày")
	require.Contains(t, body, `class="row due-soon"`, "within the 7-day reminder")
	require.Contains(t, body, "Khách nói không tự thanh toán", "the reason in words")
	require.Contains(t, body, "Thông báo mới nhất", "the dispute notices chatpay sent")

	body = requirePage(t, d.get("/dashboard/disputes?status=lost", d.owner), http.StatusOK)
	require.Contains(t, body, `href="`+lostPage+`"><strong>`)
	require.NotContains(t, body, `href="`+page+`"><strong>`, "only lost ones listed; the banner still names the open one")
	require.Contains(t, body, `href="/dashboard/disputes?status=lost" aria-current="page"`)
	requirePage(t, d.get("/dashboard/disputes?status=bogus", d.owner), http.StatusBadRequest)

	body = requirePage(t, d.get(page, d.owner), http.StatusOK)
	require.Contains(t, body, "330.000 ₫")
	require.Contains(t, body, "Áo thun", "the order's items as suggested evidence")
	require.Contains(t, body, `href="`+orderPath(open.ID)+`"`)
	require.Contains(t, body, `action="`+page+`/evidence" enctype="multipart/form-data"`)
	require.Contains(t, body, `action="`+page+`/accept"`)

	t.Run("staff may look, not answer", func(t *testing.T) {
		body := requirePage(t, d.get(page, d.staff), http.StatusOK)
		require.Contains(t, body, "Chỉ chủ cửa hàng mới trả lời được khiếu nại.")
		require.NotContains(t, body, "<form method=\"post\" action=\""+page)
		requirePage(t, d.post(page+"/submit", url.Values{}, d.staff), http.StatusForbidden)
		requirePage(t, d.upload(page+"/evidence", "r.png", pngOf(100), "same-origin", d.staff), http.StatusForbidden)
		require.Empty(t, g.Calls())
	})

	t.Run("another shop's dispute is not found", func(t *testing.T) {
		requirePage(t, d.get(page, d.ownerB), http.StatusNotFound)
		requirePage(t, d.post(page+"/submit", url.Values{}, d.ownerB), http.StatusNotFound)
		requirePage(t, d.get(disputePath("not-a-uuid"), d.owner), http.StatusNotFound)
		requirePage(t, d.get(disputePath(orders.NewID()), d.owner), http.StatusNotFound)
		require.Empty(t, g.Calls())
	})

	t.Run("bad forms reach no gateway", func(t *testing.T) {
		body := requirePage(t, d.upload(page+"/evidence", "notes.txt", []byte("just text"), "same-origin", d.owner), http.StatusUnsupportedMediaType)
		require.Contains(t, body, "Chỉ nhận tài liệu PNG, JPG và PDF.")
		requirePage(t, d.upload(page+"/evidence", "empty.png", nil, "same-origin", d.owner), http.StatusBadRequest)
		body = requirePage(t, d.upload(page+"/evidence", "big.png", pngOf(maxEvidenceFile+1), "same-origin", d.owner), http.StatusRequestEntityTooLarge)
		require.Contains(t, body, "Tài liệu lớn hơn 10 MB.")
		noFile, ctype := multipartBody(t, map[string]string{"other": "x"}, "", nil)
		requirePage(t, d.send(http.MethodPost, page+"/evidence", noFile, ctype, "same-origin", d.owner), http.StatusBadRequest)
		requirePage(t, d.upload(page+"/evidence", "r.png", pngOf(100), "cross-site", d.owner), http.StatusForbidden)

		long := strings.Repeat("ả", maxDisputeMessage+1)
		body = requirePage(t, d.message(page+"/message", long, d.owner), http.StatusUnprocessableEntity)
		require.Contains(t, body, long+"</textarea>", "the message typed is not lost")
		requirePage(t, d.message(page+"/message", "   ", d.owner), http.StatusBadRequest)

		body = requirePage(t, d.post(page+"/accept", url.Values{}, d.owner), http.StatusBadRequest)
		require.Contains(t, body, "Hãy đánh dấu ô xác nhận")
		require.Empty(t, g.Calls())
	})

	rec := d.upload(page+"/evidence", "receipt.pdf", []byte("%PDF-1.7\n..."), "same-origin", d.owner)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Equal(t, page+"?msg=evidence_attached", rec.Header().Get("Location"))
	body = requirePage(t, d.get(page+"?msg=evidence_attached", d.owner), http.StatusOK)
	require.Contains(t, body, "Tài liệu đã được gửi đến cổng thanh toán.")
	rec = d.message(page+"/message", "Đã giao ngày 3/11, mã VN123.", d.owner)
	require.Equal(t, page+"?msg=message_sent", rec.Header().Get("Location"))
	rec = d.post(page+"/submit", url.Values{}, d.owner)
	require.Equal(t, page+"?msg=submitted", rec.Header().Get("Location"))
	require.Equal(t, []string{
		"evidence du_open receipt.pdf application/pdf",
		"message du_open Đã giao ngày 3/11, mã VN123.",
		"submit du_open",
	}, g.Calls())

	// A refusal of the gateway is shown with its words, nothing recorded.
	g.acceptErr = orders.Errorf(orders.ECONFLICT, "The bank is already reviewing dispute du_open.")
	body = requirePage(t, d.post(page+"/accept", url.Values{"confirm": {"yes"}}, d.owner), http.StatusConflict)
	require.Contains(t, body, "The bank is already reviewing dispute du_open.")
	dis, err := d.svc.Dispute(context.Background(), "shop-a", ids["du_open"])
	require.NoError(t, err)
	require.Equal(t, orders.DisputeOpen, dis.Status)

	g.acceptErr = nil
	rec = d.post(page+"/accept", url.Values{"confirm": {"yes"}}, d.owner)
	require.Equal(t, page+"?msg=accepted", rec.Header().Get("Location"))
	dis, err = d.svc.Dispute(context.Background(), "shop-a", ids["du_open"])
	require.NoError(t, err)
	require.Equal(t, orders.DisputeLost, dis.Status, "lost once the gateway confirmed")

	body = requirePage(t, d.get(page, d.owner), http.StatusOK)
	require.Contains(t, body, "Khiếu nại này đã đóng.")
	require.NotContains(t, body, `action="`+page+`/submit"`, "a closed dispute offers no answer")
	body = requirePage(t, d.post(page+"/submit", url.Values{}, d.owner), http.StatusConflict)
	require.Contains(t, body, "Khiếu nại này đã đóng.")
	body = requirePage(t, d.get("/dashboard/disputes", d.owner), http.StatusOK)
	require.NotContains(t, body, `class="badge"`, "nothing waits for an answer any more")
}

// TestDashboardDisputeGatewayWithoutAnswers: a dispute on a gateway that cannot be
// answered through chatpay (the plain sandbox) is shown with where to answer it, and
// no forms.
func TestDashboardDisputeGatewayWithoutAnswers(t *testing.T) {
	t.Parallel()
	d := setupDashBundle(t)
	d.disputed(t, "du_plain", "", nil)
	page := disputePath(d.disputeIDs(t)["du_plain"])
	body := requirePage(t, d.get(page, d.owner), http.StatusOK)
	require.Contains(t, body, "Không thể trả lời cổng thanh toán này qua chatpay")
	require.Contains(t, body, "Cổng thanh toán không đưa ra hạn chót.")
	require.NotContains(t, body, `action="`+page+`/`)
	body = requirePage(t, d.post(page+"/submit", url.Values{}, d.owner), http.StatusConflict)
	require.Contains(t, body, "Không thể trả lời cổng thanh toán này qua chatpay.")
}
