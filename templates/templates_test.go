package templates_test

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/chatpay/chatpay/templates"
)

var (
	messageKinds = []string{"order_card", "paid_confirmation", "payment_failed", "shipped", "refunded", "cancelled"}
	noticeKinds  = []string{"paid", "ready_to_ship", "payment_failed", "duplicate_payment", "duplicate_hold", "amount_mismatch", "unknown_session", "refund_failed", "refunded_at_gateway", "message_failed", "command_failed"}
	pageNames    = []string{"pay", "paid", "gone", "not_found", "error", "sandbox_checkout"}
)

const link = "https://pay.example.com/pay/tok_abc123"

func setup(t *testing.T) *templates.Templates {
	t.Helper()
	tpl, err := templates.New()
	require.NoError(t, err)
	return tpl
}

// view is a full view in the locale's own money format.
func view(locale string) templates.View {
	m := func(n int64) string { return templates.FormatMoney(n, 0, "VND", locale, false) }
	return templates.View{
		Locale:       locale,
		ShopName:     "Lan's Shop",
		OrderCode:    "1042",
		CustomerName: "Minh",
		Items: []templates.ItemView{
			{Name: "Áo thun", Quantity: 2, UnitPrice: m(150000), Amount: m(300000)},
			{Name: "Mũ", Quantity: 1, UnitPrice: m(50000), Amount: m(50000)},
		},
		Shipping:       m(30000),
		Total:          m(380000),
		Amount:         m(380000),
		LinkURL:        link,
		Carrier:        "GHN",
		TrackingNumber: "GHN123456789",
		Reason:         "card_declined",
	}
}

func TestLocales(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"en", "vi", "th", "fa"}, templates.Locales())
	// Callers cannot change the package's list through the returned slice.
	l := templates.Locales()
	l[0] = "xx"
	require.Equal(t, "en", templates.Locales()[0])
}

func TestMessage(t *testing.T) {
	t.Parallel()
	tpl := setup(t)

	t.Run("every kind in every locale", func(t *testing.T) {
		t.Parallel()
		labels := map[string][2]string{
			"en": {"Pay now", "Pay again"},
			"vi": {"Thanh toán ngay", "Thanh toán lại"},
			"th": {"ชำระเงินเลย", "ชำระเงินอีกครั้ง"},
			"fa": {"پرداخت", "پرداخت دوباره"},
		}
		for _, locale := range templates.Locales() {
			for _, kind := range messageKinds {
				text, buttons, err := tpl.Message(kind, view(locale))
				require.NoError(t, err, "%s/%s", locale, kind)
				require.Contains(t, text, "#1042", "%s/%s", locale, kind)
				require.Equal(t, strings.TrimSpace(text), text)
				require.NotContains(t, text, "<no value>")
				require.NotContains(t, text, "\n\n\n")
				switch kind {
				case "order_card":
					require.Equal(t, []templates.Button{{Label: labels[locale][0], URL: link}}, buttons, locale)
				case "payment_failed":
					require.Equal(t, []templates.Button{{Label: labels[locale][1], URL: link}}, buttons, locale)
				default:
					require.Empty(t, buttons, "%s/%s", locale, kind)
				}
			}
		}
	})

	t.Run("paid confirmation texts", func(t *testing.T) {
		t.Parallel()
		text, buttons, err := tpl.Message("paid_confirmation", templates.View{Locale: "en", OrderCode: "1001"})
		require.NoError(t, err)
		require.Equal(t, "You have successfully paid for order #1001.", text)
		require.Empty(t, buttons)

		text, _, err = tpl.Message("paid_confirmation", templates.View{Locale: "vi", OrderCode: "1001"})
		require.NoError(t, err)
		require.Equal(t, "Bạn đã thanh toán cho đơn hàng #1001 thành công.", text)
	})

	t.Run("order card content", func(t *testing.T) {
		t.Parallel()
		text, _, err := tpl.Message("order_card", view("en"))
		require.NoError(t, err)
		require.Equal(t, "Hi Minh! Here's your order from Lan's Shop.\n\n"+
			"Order #1042\n"+
			"• Áo thun × 2 — ₫300,000\n"+
			"• Mũ × 1 — ₫50,000\n"+
			"Shipping: ₫30,000\n"+
			"Total: ₫380,000\n\n"+
			"Tap “Pay now” to pay securely. Your link stays valid until the order is paid.", text)

		v := view("vi")
		v.Shipping, v.CustomerName = "", ""
		text, _, err = tpl.Message("order_card", v)
		require.NoError(t, err)
		require.Equal(t, "Xin chào! Đây là đơn hàng của bạn tại Lan's Shop.\n\n"+
			"Đơn hàng #1042\n"+
			"• Áo thun × 2: 300.000 ₫\n"+
			"• Mũ × 1: 50.000 ₫\n"+
			"Tổng cộng: 380.000 ₫\n\n"+
			"Bấm “Thanh toán ngay” để thanh toán an toàn. Liên kết vẫn dùng được cho đến khi đơn hàng được thanh toán.", text)
	})

	t.Run("persian uses persian digits for quantities", func(t *testing.T) {
		t.Parallel()
		text, _, err := tpl.Message("order_card", view("fa"))
		require.NoError(t, err)
		require.Contains(t, text, "Áo thun × ۲: ۳۰۰٬۰۰۰ ₫")
		require.Contains(t, text, "جمع کل: ۳۸۰٬۰۰۰ ₫")
	})

	t.Run("details of each kind", func(t *testing.T) {
		t.Parallel()
		for _, locale := range templates.Locales() {
			v := view(locale)
			text, _, err := tpl.Message("shipped", v)
			require.NoError(t, err)
			require.Contains(t, text, "GHN123456789", locale)
			require.Contains(t, text, "GHN\n", locale)

			text, _, err = tpl.Message("refunded", v)
			require.NoError(t, err)
			require.Contains(t, text, v.Amount, locale)

			text, _, err = tpl.Message("payment_failed", v)
			require.NoError(t, err)
			require.Contains(t, text, "card_declined", locale)

			text, _, err = tpl.Message("order_card", v)
			require.NoError(t, err)
			require.Contains(t, text, "Lan's Shop", locale)
			require.Contains(t, text, "Áo thun", locale)
			require.Contains(t, text, v.Shipping, locale)
			require.Contains(t, text, v.Total, locale)
		}
	})

	t.Run("shipped without tracking", func(t *testing.T) {
		t.Parallel()
		text, _, err := tpl.Message("shipped", templates.View{OrderCode: "7"})
		require.NoError(t, err)
		require.Equal(t, "Good news! Order #7 is on its way.", text)
	})

	t.Run("payment failed without a reason", func(t *testing.T) {
		t.Parallel()
		v := view("en")
		v.Reason = ""
		text, _, err := tpl.Message("payment_failed", v)
		require.NoError(t, err)
		require.Equal(t, "Your payment for order #1042 didn't go through. No worries — tap “Pay again” to try once more.", text)
	})

	t.Run("no link, no button", func(t *testing.T) {
		t.Parallel()
		v := view("en")
		v.LinkURL = ""
		text, buttons, err := tpl.Message("order_card", v)
		require.NoError(t, err)
		require.Empty(t, buttons)
		require.NotContains(t, text, "Pay now")
		_, buttons, err = tpl.Message("payment_failed", v)
		require.NoError(t, err)
		require.Empty(t, buttons)
	})

	t.Run("unknown locale falls back to English", func(t *testing.T) {
		t.Parallel()
		for _, locale := range []string{"", "de", "EN-gb"} {
			text, _, err := tpl.Message("paid_confirmation", templates.View{Locale: locale, OrderCode: "9"})
			require.NoError(t, err)
			require.Equal(t, "You have successfully paid for order #9.", text, locale)
		}
		text, _, err := tpl.Message("paid_confirmation", templates.View{Locale: "vi_VN", OrderCode: "9"})
		require.NoError(t, err)
		require.Equal(t, "Bạn đã thanh toán cho đơn hàng #9 thành công.", text)
	})

	t.Run("unknown kind", func(t *testing.T) {
		t.Parallel()
		_, _, err := tpl.Message("invoice", view("en"))
		require.ErrorContains(t, err, `unknown message kind "invoice"`)
		_, _, err = tpl.Message("paid", view("en")) // a notice kind, not a message
		require.Error(t, err)
	})
}

func TestNotice(t *testing.T) {
	t.Parallel()
	tpl := setup(t)

	t.Run("every kind in every locale", func(t *testing.T) {
		t.Parallel()
		for _, locale := range templates.Locales() {
			v := view(locale)
			for _, kind := range noticeKinds {
				text, err := tpl.Notice(kind, v)
				require.NoError(t, err, "%s/%s", locale, kind)
				require.NotEmpty(t, text)
				require.NotContains(t, text, "<no value>")
				if kind != "unknown_session" && kind != "command_failed" {
					require.Contains(t, text, "#1042", "%s/%s", locale, kind)
				}
				switch kind {
				case "payment_failed", "amount_mismatch", "unknown_session", "refund_failed", "message_failed", "command_failed":
					require.Contains(t, text, "card_declined", "%s/%s", locale, kind)
				}
				switch kind {
				case "paid", "ready_to_ship", "duplicate_payment", "duplicate_hold", "unknown_session", "refund_failed", "refunded_at_gateway":
					require.Contains(t, text, v.Amount, "%s/%s", locale, kind)
				}
			}
		}
	})

	t.Run("ready to ship lists the items", func(t *testing.T) {
		t.Parallel()
		text, err := tpl.Notice("ready_to_ship", view("en"))
		require.NoError(t, err)
		require.Equal(t, "Order #1042 is paid (₫380,000) and ready to ship to Minh:\n• Áo thun × 2\n• Mũ × 1", text)
	})

	t.Run("without an order", func(t *testing.T) {
		t.Parallel()
		// The service sends some notices with no order at all.
		v := templates.View{Locale: "en", ShopName: "Shop", Amount: "₫5,000", Reason: "sandbox session cs_1"}
		text, err := tpl.Notice("unknown_session", v)
		require.NoError(t, err)
		require.Equal(t, "The payment gateway reported a payment of ₫5,000 for a checkout chatpay doesn't know (sandbox session cs_1). Please check it in the gateway's dashboard.", text)
		text, err = tpl.Notice("message_failed", templates.View{Reason: "chat not found"})
		require.NoError(t, err)
		require.Equal(t, "A chat message couldn't be delivered: chat not found. Please contact the customer another way.", text)
	})

	t.Run("unknown kind", func(t *testing.T) {
		t.Parallel()
		_, err := tpl.Notice("order_card", view("en"))
		require.ErrorContains(t, err, `unknown notice kind "order_card"`)
	})
}

// pageView is a full page view in the locale's own money format.
func pageView(locale string) templates.PageView {
	v := view(locale)
	return templates.PageView{
		Locale:     locale,
		ShopName:   v.ShopName,
		OrderCode:  v.OrderCode,
		Items:      v.Items,
		Shipping:   v.Shipping,
		Total:      v.Total,
		FormAction: "/pay/tok_abc123",
		Gateways:   []string{"sandbox"},
		SessionID:  "cs_test_1",
		Amount:     v.Total,
	}
}

func render(t *testing.T, tpl *templates.Templates, name string, p templates.PageView) (string, *html.Node) {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, tpl.Page(&b, name, p))
	s := b.String()
	checkHTML(t, s)
	doc, err := html.Parse(strings.NewReader(s))
	require.NoError(t, err)
	return s, doc
}

func TestPage(t *testing.T) {
	t.Parallel()
	tpl := setup(t)

	t.Run("every page in every locale", func(t *testing.T) {
		t.Parallel()
		for _, locale := range templates.Locales() {
			for _, name := range pageNames {
				p := pageView(locale)
				p.Message = "custom message for " + name
				s, doc := render(t, tpl, name, p)
				wantDir := "ltr"
				if locale == "fa" {
					wantDir = "rtl"
				}
				root := find(doc, "html", nil)
				require.NotNil(t, root)
				require.Equal(t, wantDir, attr(root, "dir"), "%s/%s", locale, name)
				require.Equal(t, locale, attr(root, "lang"))
				require.NotNil(t, find(doc, "meta", map[string]string{"name": "viewport"}))
				require.NotEmpty(t, strings.TrimSpace(text(find(doc, "title", nil))))
				require.NotEmpty(t, strings.TrimSpace(text(find(doc, "h1", nil))), "%s/%s", locale, name)
				require.Contains(t, s, "Lan&#39;s Shop")
				require.Contains(t, s, "#1042")
				// Self-contained: no scripts, stylesheets or images from anywhere.
				require.Nil(t, find(doc, "script", nil))
				require.Nil(t, find(doc, "link", nil))
				require.Nil(t, find(doc, "img", nil))
				require.NotContains(t, s, "<no value>")
				switch name {
				case "gone", "not_found", "error", "paid":
					require.Contains(t, text(doc), p.Message, "%s/%s", locale, name)
				}
			}
		}
	})

	t.Run("pay", func(t *testing.T) {
		t.Parallel()
		s, doc := render(t, tpl, "pay", pageView("en"))
		require.Contains(t, text(find(doc, "h1", nil)), "Pay for your order")
		form := find(doc, "form", nil)
		require.NotNil(t, form)
		require.Equal(t, "post", attr(form, "method"))
		require.Equal(t, "/pay/tok_abc123", attr(form, "action"))
		gw := find(form, "input", map[string]string{"name": "gateway"})
		require.NotNil(t, gw)
		require.Equal(t, "hidden", attr(gw, "type"))
		require.Equal(t, "sandbox", attr(gw, "value"))
		require.Equal(t, "Pay now", strings.TrimSpace(text(find(form, "button", nil))))

		table := text(find(doc, "table", nil))
		for _, want := range []string{"Áo thun", "Mũ", "₫300,000", "₫50,000", "Shipping", "₫30,000", "Total", "₫380,000"} {
			require.Contains(t, table, want)
		}
		require.NotNil(t, find(doc, "caption", nil), "the table is labelled for screen readers")
		require.NotContains(t, s, `role="alert"`)
		require.NotContains(t, s, `role="status"`)
	})

	t.Run("pay with several gateways", func(t *testing.T) {
		t.Parallel()
		p := pageView("en")
		p.Gateways = []string{"sandbox", "stripe"}
		_, doc := render(t, tpl, "pay", p)
		var radios []*html.Node
		walk(doc, func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") == "gateway" {
				radios = append(radios, n)
			}
		})
		require.Len(t, radios, 2)
		for i, r := range radios {
			require.Equal(t, "radio", attr(r, "type"))
			require.Equal(t, p.Gateways[i], attr(r, "value"))
			require.Equal(t, "label", r.Parent.Data, "each radio sits in its label")
		}
		require.True(t, hasAttr(radios[0], "checked"))
		require.False(t, hasAttr(radios[1], "checked"))
		require.Contains(t, text(find(doc, "legend", nil)), "Pay with")
	})

	t.Run("pay without gateways has no gateway field", func(t *testing.T) {
		t.Parallel()
		p := pageView("en")
		p.Gateways = nil
		_, doc := render(t, tpl, "pay", p)
		require.Nil(t, find(doc, "input", map[string]string{"name": "gateway"}))
		require.NotNil(t, find(doc, "button", nil))
	})

	t.Run("pay pending and failed banners", func(t *testing.T) {
		t.Parallel()
		p := pageView("en")
		p.Pending = true
		_, doc := render(t, tpl, "pay", p)
		status := find(doc, "div", map[string]string{"role": "status"})
		require.NotNil(t, status)
		require.Contains(t, text(status), "confirming your payment")
		require.Equal(t, "/pay/tok_abc123", attr(find(status, "a", nil), "href"))

		p = pageView("en")
		p.Failed, p.FailureReason = true, "Card declined"
		_, doc = render(t, tpl, "pay", p)
		alert := find(doc, "div", map[string]string{"role": "alert"})
		require.NotNil(t, alert)
		require.Contains(t, text(alert), "Your last payment didn't go through.")
		require.Contains(t, text(alert), "Card declined")
		require.Equal(t, "Pay again", strings.TrimSpace(text(find(doc, "button", nil))))
	})

	t.Run("paid", func(t *testing.T) {
		t.Parallel()
		p := pageView("vi")
		p.Status = "paid"
		_, doc := render(t, tpl, "paid", p)
		body := text(doc)
		require.Contains(t, body, "Đã nhận thanh toán")
		require.Contains(t, body, "Cảm ơn bạn! Chúng tôi đã nhận được thanh toán.")
		require.Contains(t, body, "Đã thanh toán")
		require.Contains(t, body, "380.000 ₫")
		require.Nil(t, find(doc, "form", nil), "nothing to pay on the paid page")
	})

	t.Run("default messages", func(t *testing.T) {
		t.Parallel()
		for name, want := range map[string]string{
			"gone":      "This payment link is no longer active.",
			"not_found": "We couldn't find this page.",
			"error":     "Something went wrong on our side.",
		} {
			_, doc := render(t, tpl, name, templates.PageView{})
			require.Contains(t, text(doc), want, name)
		}
	})

	t.Run("title overrides the default heading", func(t *testing.T) {
		t.Parallel()
		p := pageView("en")
		p.Title = "Order 1042"
		_, doc := render(t, tpl, "error", p)
		require.Equal(t, "Order 1042", text(find(doc, "h1", nil)))
		require.Equal(t, "Order 1042 · Lan's Shop", text(find(doc, "title", nil)))
	})

	t.Run("sandbox checkout", func(t *testing.T) {
		t.Parallel()
		p := pageView("en")
		p.FormAction = "/sandbox/checkout/cs_test_1"
		p.Amount = "₫380,000"
		_, doc := render(t, tpl, "sandbox_checkout", p)
		body := text(doc)
		require.Contains(t, body, "Sandbox — no real money")
		require.Contains(t, body, "₫380,000")
		require.Contains(t, body, "cs_test_1")
		form := find(doc, "form", nil)
		require.Equal(t, "post", attr(form, "method"))
		require.Equal(t, "/sandbox/checkout/cs_test_1", attr(form, "action"))

		var outcomes []string
		walk(form, func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "button" {
				require.Equal(t, "outcome", attr(n, "name"))
				require.Equal(t, "submit", attr(n, "type"))
				outcomes = append(outcomes, attr(n, "value"))
			}
		})
		require.Equal(t, []string{"success", "decline", "pending"}, outcomes)

		sel := find(form, "select", map[string]string{"name": "deliver"})
		require.NotNil(t, sel)
		label := find(form, "label", map[string]string{"for": attr(sel, "id")})
		require.NotNil(t, label, "the select has a label")
		var delivers []string
		walk(sel, func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "option" {
				delivers = append(delivers, attr(n, "value"))
			}
		})
		require.Equal(t, []string{"normal", "twice", "reversed", "none"}, delivers)
	})

	t.Run("hostile input is escaped", func(t *testing.T) {
		t.Parallel()
		const evil = `<script>alert("x")</script>`
		for _, name := range pageNames {
			p := templates.PageView{
				Locale:        "en",
				Title:         evil,
				ShopName:      evil,
				OrderCode:     evil,
				Status:        evil,
				Items:         []templates.ItemView{{Name: evil, Quantity: 1, Amount: evil}},
				Shipping:      evil,
				Total:         evil,
				Message:       evil,
				FormAction:    `javascript:alert(1)`,
				Gateways:      []string{`"><script>x</script>`},
				Failed:        true,
				FailureReason: evil,
				Pending:       true,
				SessionID:     evil,
				Amount:        evil,
				Dir:           `rtl" onload="alert(1)`,
			}
			s, doc := render(t, tpl, name, p)
			require.NotContains(t, s, "<script>", name)
			require.Nil(t, find(doc, "script", nil), name)
			require.NotContains(t, s, "javascript:", name)
			require.NotContains(t, s, "onload", name)
			require.Equal(t, "ltr", attr(find(doc, "html", nil), "dir"), "a bogus dir falls back to the locale's")
			require.Contains(t, text(find(doc, "h1", nil)), evil, "the text still shows, as text")
		}
	})

	t.Run("unknown locale renders English", func(t *testing.T) {
		t.Parallel()
		p := pageView("de")
		_, doc := render(t, tpl, "pay", p)
		root := find(doc, "html", nil)
		require.Equal(t, "en", attr(root, "lang"))
		require.Equal(t, "ltr", attr(root, "dir"))
	})

	t.Run("persian is right to left with persian digits", func(t *testing.T) {
		t.Parallel()
		p := pageView("fa")
		_, doc := render(t, tpl, "pay", p)
		require.Equal(t, "rtl", attr(find(doc, "html", nil), "dir"))
		table := text(find(doc, "table", nil))
		require.Contains(t, table, "۲")
		require.Contains(t, table, "جمع کل")
	})

	t.Run("unknown page writes nothing", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		err := tpl.Page(&b, "no_such_page", pageView("en"))
		require.ErrorContains(t, err, `unknown page "no_such_page"`)
		require.Zero(t, b.Len())
	})

	t.Run("write errors are returned", func(t *testing.T) {
		t.Parallel()
		err := tpl.Page(failWriter{}, "pay", pageView("en"))
		require.ErrorIs(t, err, io.ErrClosedPipe)
	})

	t.Run("AppendPage appends what Page writes", func(t *testing.T) {
		t.Parallel()
		for _, name := range pageNames {
			var want bytes.Buffer
			require.NoError(t, tpl.Page(&want, name, pageView("vi")))
			got, err := tpl.AppendPage([]byte("prefix"), name, pageView("vi"))
			require.NoError(t, err)
			require.Equal(t, "prefix"+want.String(), string(got), name)
		}
	})

	t.Run("AppendPage leaves dst alone on errors", func(t *testing.T) {
		t.Parallel()
		got, err := tpl.AppendPage([]byte("prefix"), "no_such_page", pageView("en"))
		require.ErrorContains(t, err, `unknown page "no_such_page"`)
		require.Equal(t, "prefix", string(got))
	})

	t.Run("pages rendered concurrently do not mix", func(t *testing.T) {
		t.Parallel()
		// Page reuses its buffers: two goroutines must each get their own page.
		want := map[string]string{}
		for _, loc := range []string{"en", "vi", "th", "fa"} {
			want[loc], _ = render(t, tpl, "pay", pageView(loc))
		}
		var wg sync.WaitGroup
		for _, loc := range []string{"en", "vi", "th", "fa"} {
			wg.Go(func() {
				for range 50 {
					var b bytes.Buffer
					if err := tpl.Page(&b, "pay", pageView(loc)); err != nil || b.String() != want[loc] {
						t.Errorf("%s: page differs (err %v)", loc, err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// voidElements have no end tag in HTML.
var voidElements = []string{"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

// checkHTML checks that s is a whole HTML document whose elements all nest and close
// properly. The html package's parser repairs anything, so this tokenizes instead.
func checkHTML(t *testing.T, s string) {
	t.Helper()
	require.True(t, strings.HasPrefix(s, "<!doctype html>"), "starts with the doctype")
	z := html.NewTokenizer(strings.NewReader(s))
	var stack []string
	ids := map[string]bool{}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			require.ErrorIs(t, z.Err(), io.EOF)
			require.Empty(t, stack, "unclosed elements")
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			for _, a := range tok.Attr {
				if a.Key == "id" {
					require.False(t, ids[a.Val], "duplicate id %q", a.Val)
					ids[a.Val] = true
				}
			}
			if tt == html.StartTagToken && !slices.Contains(voidElements, tok.Data) {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			tok := z.Token()
			require.NotEmpty(t, stack, "stray </%s>", tok.Data)
			require.Equal(t, stack[len(stack)-1], tok.Data, "mismatched end tag")
			stack = stack[:len(stack)-1]
		}
	}
}

func walk(n *html.Node, fn func(*html.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

// find returns the first element named tag whose attributes include attrs.
func find(root *html.Node, tag string, attrs map[string]string) *html.Node {
	var found *html.Node
	walk(root, func(n *html.Node) {
		if found != nil || n.Type != html.ElementNode || n.Data != tag {
			return
		}
		for k, v := range attrs {
			if attr(n, k) != v {
				return
			}
		}
		found = n
	})
	return found
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// text is the text content of n, outside style elements.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode && (c.Parent == nil || c.Parent.Data != "style") {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

// BenchmarkPage measures rendering the pay page, the page customers open most.
func BenchmarkPage(b *testing.B) {
	tpl, err := templates.New()
	require.NoError(b, err)
	p := pageView("vi")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := tpl.Page(io.Discard, "pay", p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
