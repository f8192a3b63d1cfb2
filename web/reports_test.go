package web

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestPaymentsReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hong := b.createOrder(keyA, `{"customer": {"name": "Nguyễn Thị Hồng"},
		"items": [{"name": "Áo dài", "quantity": 1, "unit_price": 300000}], "metadata": {"branch": "hcm"}}`)
	b.checkout(hong, "success")
	evil := b.createOrder(keyA, `{"customer": {"name": "=HYPERLINK(\"http://x\")"},
		"items": [{"name": "Khăn", "quantity": 2, "unit_price": 50000}], "metadata": {"branch": "hn"}}`)
	b.checkout(evil, "decline")
	b.checkout(evil, "success")
	plain := b.createOrder(keyA, `{"customer": {"name": "สมชาย"}, "items": [{"name": "x", "quantity": 1, "unit_price": 1000}]}`)
	b.checkout(plain, "success")
	thb := b.createOrder(keyB, `{"customer": {"name": "B"}, "items": [{"name": "x", "quantity": 1, "unit_price": 12345}]}`)
	b.checkout(thb, "success")

	today := time.Now().UTC()
	rng := "from=" + today.Format(time.DateOnly) + "&to=" + today.AddDate(0, 0, 1).Format(time.DateOnly)

	rec := b.api(http.MethodGet, "/api/v1/reports/payments?"+rng+"&group_by=branch", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	r := decode[paymentsReportJSON](t, rec)
	require.Equal(t, 3, r.Payments, "shop B's payment is not in shop A's report")
	require.Equal(t, []reportTotalJSON{{Key: "sandbox", Currency: "VND", Count: 3, Amount: 401000}}, r.ByGateway)
	require.Equal(t, []reportTotalJSON{{Key: orders.PaymentPaid, Currency: "VND", Count: 3, Amount: 401000}}, r.ByPaymentStatus)
	require.Equal(t, []reportTotalJSON{
		{Key: "hcm", Currency: "VND", Count: 1, Amount: 300000},
		{Key: "hn", Currency: "VND", Count: 1, Amount: 100000},
		{Key: "", Missing: true, Currency: "VND", Count: 1, Amount: 1000},
	}, r.ByGroup)
	require.EqualValues(t, 4, r.Attempts)
	require.EqualValues(t, 3, r.PaidAttempts)
	require.InDelta(t, 0.75, r.SuccessRate, 1e-9)
	require.Len(t, r.FailureReasons, 1)
	require.EqualValues(t, 1, r.FailureReasons[0].Count)
	require.NotNil(t, r.MedianSecondsToPaid)
	require.GreaterOrEqual(t, *r.MedianSecondsToPaid, 0.0)

	rec = b.api(http.MethodGet, "/api/v1/reports/payments?"+rng, keyB, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rb := decode[paymentsReportJSON](t, rec)
	require.Equal(t, []reportTotalJSON{{Key: "sandbox", Currency: "THB", Count: 1, Amount: 12345}}, rb.ByGateway)
	require.Nil(t, rb.ByGroup)

	// The CSV.
	rec = b.api(http.MethodGet, "/api/v1/reports/payments.csv?"+rng+"&group_by=branch", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Contains(t, rec.Header().Get("Content-Disposition"), "attachment")
	body := rec.Body.String()
	require.True(t, strings.HasPrefix(body, "\ufeff"), "UTF-8 BOM")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.Equal(t, []string{"payment_id", "paid_at", "order_code", "order_created_at", "customer_name", "gateway",
		"gateway_ref", "currency", "amount", "refunded_amount", "payment_status", "duplicate", "metadata",
		"metadata.branch"}, rows[0])
	byName := map[string][]string{}
	for _, row := range rows[1:] {
		byName[row[4]] = row
	}
	require.Contains(t, byName, "Nguyễn Thị Hồng", "Vietnamese text intact")
	require.Contains(t, byName, "สมชาย", "Thai text intact")
	require.Contains(t, byName, `'=HYPERLINK("http://x")`, "a formula is made text")
	row := byName["Nguyễn Thị Hồng"]
	require.Equal(t, hong.Code, row[2])
	require.Equal(t, "300000", row[8], "VND has no decimals")
	require.Equal(t, "hcm", row[13])
	_, err = time.Parse(time.RFC3339, row[1])
	require.NoError(t, err)

	rec = b.api(http.MethodGet, "/api/v1/reports/payments.csv?"+rng, keyB, "")
	require.Equal(t, http.StatusOK, rec.Code)
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(rec.Body.String(), "\ufeff"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "123.45", rows[1][8], "THB in major units with '.'")
	require.Equal(t, "B", rows[1][4])
}

func TestPaymentsReportBadParameters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/api/v1/reports/payments", "/api/v1/reports/payments.csv"} {
		for _, tt := range []struct{ query, field string }{
			{"to=2026-12-01", "from"},
			{"from=2026-11-01", "to"},
			{"from=2026-13-01&to=2026-12-01", "from"},
			{"from=2026-11-01&to=01/12/2026", "to"},
			{"from=2026-12-01&to=2026-12-01", "to"},
			{"from=2026-12-01&to=2026-11-01", "to"},
			{"from=2026-11-01&to=2026-12-01&group_by=a%20b", "group_by"},
		} {
			rec := b.api(http.MethodGet, path+"?"+tt.query, keyA, "")
			requireError(t, rec, http.StatusBadRequest, orders.EINVALID, tt.field)
		}
		rec := b.api(http.MethodGet, path+"?from=2026-11-01&to=2026-12-01", "", "")
		require.Equal(t, http.StatusUnauthorized, rec.Code)
	}
	rec := b.api(http.MethodGet, "/api/v1/reports/payments?from=2026-11-01T00:00:00%2B07:00&to=2026-12-01", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	r := decode[paymentsReportJSON](t, rec)
	require.Equal(t, time.Date(2026, 10, 31, 17, 0, 0, 0, time.UTC), r.From.UTC())
	require.Zero(t, r.Payments)
	require.NotNil(t, r.ByGateway)
}

func TestCSVCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx",
		"": "", "Lan": "Lan", "1=1": "1=1", "Trần": "Trần",
	} {
		require.Equal(t, want, csvCell(in), in)
	}
}
