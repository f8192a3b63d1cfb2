package templates

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWebChatPages renders the web chat's pages in every locale, with the views they
// get, baked and unbaked (see TestBakedPagesMatch, whose views leave WebChat nil), and
// checks what the customer must see and what must never get through.
func TestWebChatPages(t *testing.T) {
	t.Parallel()
	baked, err := New()
	require.NoError(t, err)
	plain, err := newTemplates(files, false)
	require.NoError(t, err)

	hostile := "<script>alert(1)</script> & \"quotes\" +1"
	chat := func() *WebChatView {
		return &WebChatView{
			Path: "/chat/shop-a.tok", Nonce: "bm9uY2Vub25jZW5vbmNlAA", MaxText: 4096,
			Messages: []WebChatMessage{
				{ID: "in:1", Mine: true, Text: hostile, Time: "09:26 UTC", TimeISO: "2026-11-25T09:26:00Z"},
				{ID: "out:1:0", Card: true, Text: "Order #1001\n• Áo thun × 2", Time: "09:27 UTC", TimeISO: "2026-11-25T09:27:00Z",
					Buttons: []Button{{Label: "Pay now", URL: "https://pay.example/pay/abc"}, {Label: "evil", URL: "javascript:alert(1)"}}},
				{ID: "out:2:0", Text: "Paid, thanks!", Time: "09:28 UTC", TimeISO: "2026-11-25T09:28:00Z"},
			},
		}
	}
	views := map[string]func() PageView{
		"chat": func() PageView {
			return PageView{ShopName: "Lan's <Shop>", ShopID: "shop-a", FormAction: "/chat/shop-a.tok/messages", WebChat: chat()}
		},
		"empty chat": func() PageView {
			v := chat()
			v.Messages = nil
			return PageView{ShopName: "Shop", ShopID: "shop-a", FormAction: "/chat/x/messages", WebChat: v}
		},
		"refused": func() PageView {
			v := chat()
			v.Earlier, v.Draft, v.Error = true, hostile, "too_fast"
			return PageView{ShopName: "Shop", ShopID: "shop-a", FormAction: "/chat/x/messages", WebChat: v}
		},
		"no view": func() PageView { return PageView{ShopName: "Shop"} },
	}
	for _, loc := range append(Locales(), "xx") {
		for _, page := range []string{"webchat", "webchat_start"} {
			for name, view := range views {
				p := view()
				p.Locale = loc
				want, err := plain.AppendPage(nil, page, p)
				require.NoError(t, err)
				got, err := baked.AppendPage(nil, page, p)
				require.NoError(t, err)
				require.Equal(t, string(want), string(got), "%s page in %s, %s", page, loc, name)
				html := string(got)
				require.NotContains(t, html, "<script>alert", "%s in %s, %s", page, loc, name)
				require.NotContains(t, html, "javascript:", "%s in %s, %s", page, loc, name)
			}
		}
	}

	fa := func(page string, p PageView) string {
		p.Locale = "fa"
		b, err := baked.AppendPage(nil, page, p)
		require.NoError(t, err)
		return string(b)
	}
	html := fa("webchat", views["chat"]())
	require.Contains(t, html, `dir="rtl"`)
	require.Contains(t, html, "گفتگو با فروشگاه")
	require.Contains(t, html, `<a class="btn" href="https://pay.example/pay/abc" target="_blank" rel="noopener">Pay now</a>`)
	require.Contains(t, html, `class="msg mine" data-id="in:1"`)
	require.Contains(t, html, `class="msg theirs ordercard" data-id="out:1:0"`)
	require.Contains(t, html, `name="nonce" value="bm9uY2Vub25jZW5vbmNlAA"`)
	require.Contains(t, html, `action="/chat/shop-a.tok/messages"`)
	require.Contains(t, html, `maxlength="4096"`)
	require.Contains(t, html, `<p class="note intro" hidden>`, "the introduction gives way to the transcript")
	require.Less(t, strings.Index(html, "in:1"), strings.Index(html, "out:2:0"), "oldest first")

	html = fa("webchat", views["refused"]())
	require.Contains(t, html, "پیام‌ها را خیلی سریع می‌فرستید", "the reason, in the shop's language")
	require.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt;", "the draft is kept, escaped")
	require.Contains(t, html, "پیام‌های قدیمی‌تر")

	html = fa("webchat", views["empty chat"]())
	require.Contains(t, html, `<p class="note intro">`)

	p := PageView{Locale: "vi", ShopName: "Cửa hàng A", ShopID: "shop-a", FormAction: "/chat/shop-a/new"}
	b, err := baked.AppendPage(nil, "webchat_start", p)
	require.NoError(t, err)
	require.Contains(t, string(b), `<form method="post" action="/chat/shop-a/new" id="start" data-shop="shop-a">`)
	require.Contains(t, string(b), "Bắt đầu trò chuyện")
}
