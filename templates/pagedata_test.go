package templates

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPageDataCopiesEveryField fills every field of a PageView with a distinct value
// and checks that pageData has a field of the same name, type and value, so that a
// field added to PageView cannot silently go missing from the pages.
func TestPageDataCopiesEveryField(t *testing.T) {
	t.Parallel()
	var p PageView
	pv := reflect.ValueOf(&p).Elem()
	for i := range pv.NumField() {
		f := pv.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprintf("value %d", i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), i+1, i+1))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		default:
			t.Fatalf("PageView.%s: teach this test the kind %s", pv.Type().Field(i).Name, f.Kind())
		}
	}
	d := reflect.ValueOf(newPageData(&p))
	for i := range pv.NumField() {
		name := pv.Type().Field(i).Name
		got := d.FieldByName(name)
		require.True(t, got.IsValid(), "pageData has no field %s", name)
		require.Equal(t, pv.Field(i).Interface(), got.Interface(), "pageData.%s", name)
	}
}

// TestBakedPagesMatch checks that baking the locale strings into the pages changes
// nothing: every page in every locale (and an unknown one), for views that take every
// branch of the templates, renders byte for byte as it does with the strings looked up
// at render time. It fails if a template prints a locale string where HTML text
// escaping is not the right escaping (a URL, a script, a style sheet).
func TestBakedPagesMatch(t *testing.T) {
	t.Parallel()
	baked, err := New()
	require.NoError(t, err)
	plain, err := newTemplates(files, false)
	require.NoError(t, err)

	full := PageView{
		ShopName: "Lan's <Shop> & Co", OrderCode: "1042", Status: "awaiting_payment",
		Items: []ItemView{
			{Name: "Áo <thun> \"lụa\" +1", Quantity: 2, UnitPrice: "150.000 ₫", Amount: "300.000 ₫"},
			{Name: "Mũ", Quantity: 1234567, UnitPrice: "1 ₫", Amount: "1.234.567 ₫"},
		},
		Shipping: "30.000 ₫", Total: "1.564.567 ₫", FormAction: "/pay/tok_abc",
		Gateways: []string{"sandbox"}, SessionID: "cs_1", Amount: "5 ₫",
		QRImage: "https://api.omise.co/charges/chrg_1/documents/docu_1/downloads/AB", Expires: "2026-11-25 14:10 (UTC+7)",
		ExpiresISO: "2026-11-25T07:10:00Z", StatusURL: "/pay/tok_abc/status", Nonce: "bm9uY2U=",
		ShopID: "shop-<a>", Email: "o'wner+1@example.com",
		Orders: []OrderRow{
			{Code: "1042", Customer: "<Lan>", Total: "300.000 ₫", Status: "paid", Created: "2026-11-25 07:10 UTC", CreatedISO: "2026-11-25T07:10:00Z"},
			{Code: "1043", Status: "weird"},
		},
	}
	variants := map[string]func(p *PageView){
		"full":           func(p *PageView) {},
		"pending":        func(p *PageView) { p.Pending = true },
		"failed":         func(p *PageView) { p.Failed, p.FailureReason = true, "card <declined> & 'x' +1" },
		"failed, no why": func(p *PageView) { p.Failed = true },
		"gateways":       func(p *PageView) { p.Gateways = []string{"sandbox", "stripe", "omise"} },
		"no gateways":    func(p *PageView) { p.Gateways, p.Items, p.Shipping = nil, nil, "" },
		"total only":     func(p *PageView) { p.Items = nil },
		"empty":          func(p *PageView) { *p = PageView{Locale: p.Locale} },
		"message":        func(p *PageView) { p.Message, p.Title, p.Status = "<b>hi</b> & 'bye'", "T<i>", "paid" },
		"rtl, hostile": func(p *PageView) {
			p.Dir, p.ShopName, p.FormAction = "rtl", "<script>x</script>", "javascript:alert(1)"
		},
		"odd dir, status": func(p *PageView) { p.Dir, p.Status = "\" onload=x", "weird" },
		"qr, hostile": func(p *PageView) {
			p.QRImage, p.Nonce, p.StatusURL, p.Expires = "javascript:alert(1)", "\"><script>x</script>", "\" onclick=x", "<b>soon</b>"
		},
		"qr, no expiry": func(p *PageView) { p.Expires, p.ExpiresISO = "", "" },
		"signin failed": func(p *PageView) { p.SignInFailed, p.ShopName = true, "" },
		"throttled":     func(p *PageView) { p.Throttled = true },
		"order page":    func(p *PageView) { p.Order = testOrderDetail() },
		"order page, blocked": func(p *PageView) {
			o := testOrderDetail()
			o.ShipBlocked, o.CanShip, o.Refundable, o.FlashBad, o.Flash = true, false, "", true, "not_paid"
			p.Order = o
		},
	}
	for _, loc := range append(Locales(), "xx") {
		for _, name := range pageNames {
			for vn, change := range variants {
				p := full
				p.Locale = loc
				change(&p)
				want, err := plain.AppendPage(nil, name, p)
				require.NoError(t, err)
				got, err := baked.AppendPage(nil, name, p)
				require.NoError(t, err)
				require.Equal(t, string(want), string(got), "%s page in %s, %s", name, loc, vn)
			}
		}
	}
}

func TestBakeStrings(t *testing.T) {
	t.Parallel()
	strs := map[string]string{"a": "A & <b> +1", "delim": "{{.Evil}}"}
	require.Equal(t, "<p>A &amp; &lt;b&gt; &#43;1</p><p>A &amp; &lt;b&gt; &#43;1</p>",
		bakeStrings("<p>{{.T.a}}</p><p>{{$.T.a}}</p>", strs))
	require.Equal(t, "{{.T.missing}} {{.T.delim}} {{or .Message .T.a}} {{- .T.a}}",
		bakeStrings("{{.T.missing}} {{.T.delim}} {{or .Message .T.a}} {{- .T.a}}", strs),
		"missing keys, strings with delimiters and other actions stay actions")
}

// testOrderDetail is an order page's detail that takes every branch of the page, with
// hostile text where a person or a gateway chose it.
func testOrderDetail() *OrderDetail {
	return &OrderDetail{
		Path: "/dashboard/orders/o_<1>", Customer: "<Lan>", PaymentStatus: "partially_refunded",
		LinkURL: "https://pay.example/pay/tok\"<x>", Currency: "VND",
		Attempts:  []AttemptRow{{Gateway: "sandbox", Amount: "5 ₫", Status: "failed", FailureReason: "<declined>", Time: "t", TimeISO: "t"}},
		Payments:  []PaymentRow{{Gateway: "sandbox", Ref: "<ref>", Amount: "5 ₫", Refunded: "1 ₫", Duplicate: true}},
		Refunds:   []RefundRow{{Amount: "1 ₫", Status: "pending", Reason: "requested", FailureReason: "x"}},
		Shipments: []ShipmentRow{{Carrier: "<VNPost>", Tracking: "T'1"}},
		Timeline: []TimelineEntry{
			{Event: "message_out", Text: "Hi <b>\nthere</b>", Status: "failed", Reason: "blocked <by> user"},
			{Event: "weird", Status: "weird"},
		},
		Refundable: "4 ₫", RefundableInput: "4",
		CanResend: true, CanCancel: true, CanShip: true, CanRefund: true,
		Flash: "refunded",
	}
}
