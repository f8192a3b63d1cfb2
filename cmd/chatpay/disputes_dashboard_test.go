package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/gateway/omise/omisetest"
)

// dashMultipart posts a multipart form from the dashboard's origin: fields, and a file
// in the field "file" when filename is set.
func (a *app) dashMultipart(path string, fields map[string]string, filename string, data []byte, cookie *http.Cookie) (*http.Response, string) {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(a.t, mw.WriteField(k, v))
	}
	if filename != "" {
		w, err := mw.CreateFormFile("file", filename)
		require.NoError(a.t, err)
		_, err = w.Write(data)
		require.NoError(a.t, err)
	}
	require.NoError(a.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, a.url+path, &buf)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := a.client.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return res, string(b)
}

// TestDashboardDisputeEndToEnd: a customer pays shop A through Opn Payments (the Omise
// emulator) and disputes the charge there. The dispute reaches the dashboard through
// Omise's webhook; the owner sees it waiting, with the order's items, chat and Omise's
// rules, attaches a PDF and submits, then sends the explanation: each reaches the
// emulator, and Omise's answer (under review) comes back through its webhook. Staff
// may look but not answer; another shop's owner does not find it; Omise's decision
// closes it.
func TestDashboardDisputeEndToEnd(t *testing.T) {
	t.Parallel()
	secret := base64.StdEncoding.EncodeToString([]byte("omise webhook secret for tests!!"))
	om := omisetest.New(omisetest.Options{WebhookSecrets: []string{secret}})
	t.Cleanup(om.Close)
	a := setupWith(t, "sqlite", options{shopAExtra: fmt.Sprintf(`      omise:
        secret_key: %q
        public_key: %q
        webhook_secrets: [%q]
        api_url: %q
        source_type: mobile_banking_scb`, om.SecretKey(), om.PublicKey(), secret, om.URL)})
	om.SetWebhookURL(a.url + "/webhooks/omise/shop-a")
	const password = "correct horse battery staple"
	a.addUser("shop-a", "owner@example.com", "owner", password)
	a.addUser("shop-a", "staff@example.com", "staff", password)
	a.addUser("shop-b", "owner@example.com", "owner", password)
	ctx := context.Background()

	o := a.createOrder(keyA, webchatOrder("dispute-visitor"))
	id := o["id"].(string)
	a.waitMessages(keyA, id, "order card sent", allSent)
	res := a.postForm(linkOf(o), url.Values{"gateway": {"omise"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	charge := strings.TrimPrefix(res.Header.Get("Location"), om.URL+"/pay/")
	require.NoError(t, om.Complete(charge, true))
	a.waitOrder(keyA, id, "paid through Omise", func(o map[string]any) bool { return o["payment_status"] == "paid" })
	a.call(http.MethodPost, "/api/v1/orders/"+id+"/shipments", keyA, map[string]any{"carrier": "VNPost", "tracking_number": "VN123456"})

	od, err := om.OpenDispute(charge)
	require.NoError(t, err)
	var dispute map[string]any
	require.Eventually(t, func() bool {
		_, out := a.call(http.MethodGet, "/api/v1/disputes", keyA, nil)
		list, _ := out["disputes"].([]any)
		if len(list) == 1 {
			dispute = list[0].(map[string]any)
		}
		return dispute != nil
	}, 15*time.Second, 20*time.Millisecond, "the dispute recorded from Omise's webhook")
	page := "/dashboard/disputes/" + dispute["id"].(string)

	owner := a.signIn("shop-a", "owner@example.com", password)
	res, body := a.browse(http.MethodGet, "/dashboard/disputes", nil, "", owner)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Contains(t, body, "Khiếu nại đang chờ bạn trả lời: 1")
	require.Contains(t, body, `href="`+page+`"><strong>330.000 ₫</strong>`)
	require.Contains(t, body, "Chưa nhận được hàng", "Omise's reason in words")
	require.Contains(t, body, "330.000 ₫ của đơn hàng #1001", "the notice chatpay sent the staff")

	res, body = a.browse(http.MethodGet, page, nil, "", owner)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Contains(t, body, "Hãy đính kèm tài liệu trước", "Omise's rules before the forms")
	require.Contains(t, body, "Cổng thanh toán không đưa ra hạn chót.", "Omise gives no deadline")
	require.Contains(t, body, "Áo thun", "suggested evidence: the items")
	require.Contains(t, body, "VN123456", "the tracking number")
	require.Contains(t, body, "#1001", "the chat's order card")
	require.Contains(t, body, `action="`+page+`/evidence" enctype="multipart/form-data"`)

	staff := a.signIn("shop-a", "staff@example.com", password)
	res, body = a.browse(http.MethodGet, page, nil, "", staff)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotContains(t, body, `action="`+page+`/evidence"`)
	res, _ = a.dashMultipart(page+"/evidence", nil, "receipt.pdf", []byte("%PDF-1.4 staff"), staff)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "staff cannot answer a dispute")
	res, _ = a.browse(http.MethodPost, page+"/accept", url.Values{"confirm": {"yes"}}, "same-origin", staff)
	require.Equal(t, http.StatusForbidden, res.StatusCode)

	ownerB := a.signIn("shop-b", "owner@example.com", password)
	res, _ = a.browse(http.MethodGet, page, nil, "", ownerB)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "another shop's dispute")
	res, _ = a.dashMultipart(page+"/evidence", nil, "receipt.pdf", []byte("%PDF-1.4 b"), ownerB)
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	client, err := omise.NewClient(omise.ClientOptions{SecretKey: om.SecretKey(), BaseURL: om.URL})
	require.NoError(t, err)
	at := func() *omise.Dispute {
		d, err := client.RetrieveDispute(ctx, od.ID)
		require.NoError(t, err)
		return d
	}
	require.Nil(t, at().Documents, "nothing from staff or shop B reached Omise")

	res, body = a.dashMultipart(page+"/evidence", nil, "notes.txt", []byte("plain text"), owner)
	require.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	require.Contains(t, body, "Chỉ nhận tài liệu PNG, JPG và PDF.")
	res, _ = a.dashMultipart(page+"/evidence", nil, "giao-hang.pdf", []byte("%PDF-1.4\nproof of delivery"), owner)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, page+"?msg=evidence_attached", res.Header.Get("Location"))
	docs := at().Documents
	require.NotNil(t, docs)
	require.Len(t, docs.Data, 1)
	require.Equal(t, "giao-hang.pdf", docs.Data[0].Filename, "the document reached Omise")

	res, _ = a.browse(http.MethodPost, page+"/submit", url.Values{}, "same-origin", owner)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, page+"?msg=submitted", res.Header.Get("Location"))

	const explanation = "Đơn #1001 đã giao qua VNPost, mã VN123456; khách đã nhận hàng."
	res, _ = a.dashMultipart(page+"/message", map[string]string{"text": explanation}, "", nil, owner)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, page+"?msg=message_sent", res.Header.Get("Location"))
	d := at()
	require.Equal(t, explanation, d.Message, "the explanation reached Omise")
	require.Equal(t, omise.DisputePending, d.Status)

	require.Eventually(t, func() bool {
		_, out := a.call(http.MethodGet, "/api/v1/disputes/"+dispute["id"].(string), keyA, nil)
		return out["status"] == "pending"
	}, 15*time.Second, 20*time.Millisecond, "Omise's update reaches chatpay")
	_, body = a.browse(http.MethodGet, page, nil, "", owner)
	require.Contains(t, body, "Câu trả lời của bạn đang ở ngân hàng.")
	require.NotContains(t, body, `action="`+page+`/evidence"`, "no forms while the bank reviews it")
	_, body = a.browse(http.MethodGet, "/dashboard/disputes", nil, "", owner)
	require.NotContains(t, body, `class="badge"`, "nothing waits for the owner any more")

	require.NoError(t, om.CloseDispute(od.ID, true))
	require.Eventually(t, func() bool {
		_, out := a.call(http.MethodGet, "/api/v1/disputes/"+dispute["id"].(string), keyA, nil)
		return out["status"] == "won"
	}, 15*time.Second, 20*time.Millisecond, "Omise's decision reaches chatpay")
	_, body = a.browse(http.MethodGet, "/dashboard/disputes?status=closed", nil, "", owner)
	require.Contains(t, body, `href="`+page+`"><strong>`)
	require.Contains(t, body, `<span class="pill">Thắng</span>`)
}
