package templates

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func testReportView() *ReportView {
	return &ReportView{
		From: "2026-11-01", To: "2026-11-30", GroupBy: "branch", Shown: true, CSVURL: "/dashboard/reports/payments.csv?from=2026-11-01&to=2026-11-30",
		Payments: 3, Attempts: 6, PaidAttempts: 3, SuccessRate: 0.5, MedianToPaid: 1200, P90ToPaid: 93784,
		Unit: "day",
		Periods: []ReportSeries{{Currency: "VND", Chart: &BarChart{Bars: []Bar{{Label: "2026-11-03", Short: "11-03", Value: 300000, Text: "300.000 ₫"}}},
			Rows: []ReportRow{{Key: "2026-11-03", Currency: "VND", Count: 3, Amount: "300.000 ₫"}}}},
		ByGateway:     []ReportRow{{Key: "Sandbox", Currency: "VND", Count: 3, Amount: "300.000 ₫", Refunded: "1 ₫"}},
		ByStatus:      []ReportRow{{Key: "paid", Currency: "VND", Count: 3, Amount: "300.000 ₫"}, {Key: "weird<x>", Count: 1}},
		ByGroup:       []ReportRow{{Key: "<hcm>", Count: 1}, {Key: "", Count: 1}, {Missing: true, Count: 1}},
		GatewayCounts: []CountRow{{Label: "Sandbox", Count: 3}},
		Reasons:       []CountRow{{Label: "card <declined>", Count: 2}, {Count: 1}},
	}
}

func testDisputesView() *DisputesView {
	row := DisputeRow{URL: "/dashboard/disputes/d<1>", Status: "open", Reason: "fraudulent", Amount: "330.000 ₫",
		Gateway: "omise", GatewayName: "Omise", Opened: "2026-11-03 10:00 UTC", OpenedISO: "2026-11-03T10:00:00Z",
		Due: "2026-11-05 10:00 UTC", DueISO: "2026-11-05T10:00:00Z", DaysLeft: 2, Urgency: "urgent"}
	other := row
	other.Status, other.Reason, other.Urgency, other.Due, other.DaysLeft = "lost", "<unknown_code>", "", "", 0
	return &DisputesView{
		NeedAnswer: 1, Soonest: &row, Filter: "open",
		Filters:  []DisputeFilterLink{{Key: "all", URL: "/dashboard/disputes"}, {Key: "open", URL: "/dashboard/disputes?status=open", Current: true}},
		Rows:     []DisputeRow{row, other},
		OlderURL: "/dashboard/disputes?before=x",
		Notices:  []DisputeNotice{{Text: "<b>Dispute</b> opened", Time: "t", TimeISO: "t", URL: "/dashboard/orders/o1"}},
		Dispute: &DisputeDetail{
			DisputeRow: row, Path: "/dashboard/disputes/d1", GatewayDisputeID: "dspt_<1>", OrderURL: "/dashboard/orders/o1",
			Customer: "<Lan>", PaymentRef: "chrg_1", Paid: "p", PaidISO: "p",
			Transcript: []TranscriptLine{{Direction: "out", Kind: "order_card", Text: "Đơn <#1001>", Status: "sent", Time: "t", TimeISO: "t"}},
			Shipments:  []ShipmentRow{{Carrier: "VNPost", Tracking: "VN<1>"}},
			CanAnswer:  true, Flash: "conflict", FlashBad: true, FlashDetail: "combine <them>", Text: "</textarea><b>kept</b>",
			ConfirmAccept: true,
		},
	}
}

// TestReportAndDisputePages renders the report and dispute pages in every locale, for
// views that take every branch, and checks that baking the strings changes nothing,
// that every %s of a locale string was filled, and what a reader must see.
func TestReportAndDisputePages(t *testing.T) {
	t.Parallel()
	baked, err := New()
	require.NoError(t, err)
	plain, err := newTemplates(files, false)
	require.NoError(t, err)

	views := map[string][]PageView{
		"reports": {
			{Nav: "reports", Report: testReportView()},
			{Nav: "reports", Report: &ReportView{From: "x", To: "2026-11-30", Error: "date", ErrorField: "from"}},
			{Nav: "reports", Report: &ReportView{Shown: true, Unit: "month", MedianToPaid: -1, P90ToPaid: -1}},
			{Nav: "reports"},
		},
		"disputes": {
			{Nav: "disputes", Disputes: testDisputesView()},
			{Nav: "disputes", Disputes: &DisputesView{}},
			{Nav: "disputes"},
		},
		"dispute": {
			{Nav: "disputes", OrderCode: "1001", Disputes: testDisputesView(), Items: []ItemView{{Name: "Áo", Quantity: 1, Amount: "1 ₫"}}, Total: "1 ₫"},
			{Nav: "disputes", OrderCode: "1001", Disputes: &DisputesView{Dispute: &DisputeDetail{Why: "gateway", DisputeRow: DisputeRow{Status: "pending"}}}},
			{Nav: "disputes"},
		},
	}
	for _, loc := range append(Locales(), "xx") {
		for name, vs := range views {
			for i, p := range vs {
				p.Locale = loc
				want, err := plain.AppendPage(nil, name, p)
				require.NoError(t, err, "%s %d in %s", name, i, loc)
				got, err := baked.AppendPage(nil, name, p)
				require.NoError(t, err)
				require.Equal(t, string(want), string(got), "%s %d in %s", name, i, loc)
				require.NotContains(t, string(got), "%!", "a locale string's %%s went unfilled: %s %d in %s", name, i, loc)
				require.NotContains(t, string(got), "<b>", "text is escaped")
			}
		}
	}

	page := func(name, loc string, p PageView) string {
		t.Helper()
		p.Locale = loc
		b, err := baked.AppendPage(nil, name, p)
		require.NoError(t, err)
		return string(b)
	}
	body := page("reports", "en", views["reports"][0])
	require.Contains(t, body, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"`)
	require.Contains(t, body, `aria-label="Paid per day (VND)"`)
	require.Contains(t, body, "50%")
	require.Contains(t, body, "3 of 6 attempts")
	require.Contains(t, body, "20 min", "the median: 1200 s")
	require.Contains(t, body, "1 d 2 h", "the 90th percentile: 93784 s")
	require.Contains(t, body, "By metadata “branch”")
	require.Contains(t, body, "Without this key")
	require.Contains(t, body, "No reason given")
	require.Contains(t, body, `href="/dashboard/reports/payments.csv?from=2026-11-01&amp;to=2026-11-30" download`)
	require.Contains(t, body, `<a href="/dashboard/disputes">Disputes</a>`, "no count in the navigation without a disputes view")

	body = page("reports", "en", views["reports"][1])
	require.Contains(t, body, `value="x"`, "what was typed stays")
	require.Contains(t, body, `id="from" name="from" value="x" dir="ltr" aria-invalid="true"`)
	require.Contains(t, body, "Enter days as year-month-day")
	require.NotContains(t, body, "<svg")

	body = page("reports", "fa", views["reports"][0])
	require.Contains(t, body, `dir="rtl"`)
	require.Contains(t, body, `direction="rtl"`, "the chart is mirrored")
	require.Contains(t, body, "۵۰٪")
	require.Contains(t, body, "۲۰ دقیقه")

	body = page("disputes", "en", views["disputes"][0])
	require.Contains(t, body, `Disputes <span class="badge">1<span class="sr-only"> waiting for your answer</span></span>`)
	require.Contains(t, body, "Disputes waiting for your answer: 1")
	require.Contains(t, body, `class="banner bad"`, "the soonest is due within 2 days")
	require.Contains(t, body, "2 days left")
	require.Contains(t, body, `class="row due-urgent"`)
	require.Contains(t, body, "Customer says they didn&#39;t pay")
	require.Contains(t, body, "&lt;unknown_code&gt;", "an unknown reason code is shown as it is")
	require.Contains(t, body, `href="/dashboard/disputes?status=open" aria-current="page"`)
	require.Contains(t, body, "&lt;b&gt;Dispute&lt;/b&gt; opened")

	body = page("dispute", "en", views["dispute"][0])
	require.Contains(t, body, `class="banner bad" role="alert"`)
	require.Contains(t, body, "combine &lt;them&gt;")
	require.Contains(t, body, "&lt;/textarea&gt;&lt;b&gt;kept&lt;/b&gt;</textarea>", "the typed message comes back")
	require.Contains(t, body, `enctype="multipart/form-data"`)
	require.Contains(t, body, "Attach your documents first", "Omise's own rules")
	require.Contains(t, body, "the customer keeps 330.000 ₫")
	require.Contains(t, body, `aria-invalid="true"`)
	require.Contains(t, body, "VN&lt;1&gt;")
	require.Contains(t, body, "Đơn &lt;#1001&gt;")
	require.Contains(t, body, "Áo")

	body = page("dispute", "vi", views["dispute"][1])
	require.Contains(t, body, "Không thể trả lời cổng thanh toán này qua chatpay")
	require.NotContains(t, body, "<form", "no forms for a dispute that cannot be answered")
	require.NotContains(t, strings.ToLower(body), "dsp_")
}
