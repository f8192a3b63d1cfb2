package templates

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testInbox is an inbox view that takes every branch of the inbox pages, with
// hostile text wherever a customer or staff member writes.
func testInbox() *InboxView {
	return &InboxView{
		Channel: "telegram",
		ChannelURLs: []ChannelLink{
			{URL: "/dashboard/inbox"}, {Channel: "webchat", URL: "/dashboard/inbox?channel=webchat"},
			{Channel: "telegram", URL: "/dashboard/inbox?channel=telegram", Current: true},
		},
		Conversations: []ConversationRow{
			{URL: "/dashboard/inbox/c1", Customer: "<Lan>", Channel: "telegram", Preview: "áo <b>size M</b>?", Time: "2026-11-25 07:10 UTC", TimeISO: "2026-11-25T07:10:00Z", AwaitingReply: true, Current: true},
			{URL: "/dashboard/inbox/c2", Channel: "odd", Preview: "ok", PreviewOut: true},
		},
		NextURL: "/dashboard/inbox?before=x", FirstURL: "/dashboard/inbox", ListURL: "/dashboard/inbox?channel=telegram",
		Conversation: &ConversationView{
			ID: "c1", Path: "/dashboard/inbox/c1", Customer: "<Lan>", Channel: "telegram",
			ChatURL: "https://shop.example/chat/tok",
			Messages: []TranscriptMessage{
				{Direction: "in", Kind: "text", Text: "Chào <shop>\nsize M?", Time: "07:10", TimeISO: "2026-11-25T07:10:00Z"},
				{Direction: "out", Kind: "order_card", Text: "#1001", Status: "sent", OrderURL: "/dashboard/orders/o1",
					Buttons: []LinkButton{{Label: "Pay now", URL: "https://pay.example/pay/t"}, {Label: "Evil", URL: "javascript:alert(1)"}, {Label: "Data only"}}},
				{Direction: "out", Kind: "mystery_kind", Text: "x", Status: "failed", FailureReason: "window <closed>"},
			},
			OlderURL: "/dashboard/inbox/c1?before=y", LatestURL: "/dashboard/inbox/c1",
			Orders:        []ConversationOrderRow{{Code: "1001", Status: "paid", Total: "330.000 ₫", URL: "/dashboard/orders/o1"}},
			WindowApplies: true, WindowOpen: true, WindowCloses: "2026-11-26 07:10 UTC", WindowClosesISO: "2026-11-26T07:10:00Z",
			CanAct: true, ReplyNonce: "nonce-1", ReplyText: "</textarea><script>x</script>", ReplyError: "text_empty", Flash: "sent",
		},
		NewOrder: &NewOrderForm{
			Path: "/dashboard/inbox/c1/orders/new", Nonce: "nonce-2", Currency: "VND", PriceExample: "150000",
			Lines: []OrderFormLine{
				{N: 1, Name: "Áo \"thun\"", Qty: "2", Price: "150.000"},
				{N: 2, Name: "", Qty: "x", Price: "-1", NameErr: "name_required", QtyErr: "qty", PriceErr: "price"},
			},
			Shipping: "30000", ShippingErr: "shipping", ShipOnPayment: true, Method: "cod", MethodErr: "method",
			Metadata: "branch=hcm\n<b>", MetadataErr: "metadata_line",
			Errors: []FormError{{Anchor: "item-2-name", Line: 2, Key: "name_required"}, {Anchor: "items", Detail: "something <odd>"}},
		},
	}
}

// TestInboxPages renders the inbox pages in every locale with their strings baked in
// and looked up, and checks that both agree and that what people typed is escaped.
func TestInboxPages(t *testing.T) {
	t.Parallel()
	baked, err := New()
	require.NoError(t, err)
	plain, err := newTemplates(files, false)
	require.NoError(t, err)
	variants := map[string]func(v *InboxView){
		"full":          func(v *InboxView) {},
		"list only":     func(v *InboxView) { v.Conversation, v.NewOrder = nil, nil },
		"empty":         func(v *InboxView) { *v = InboxView{} },
		"window closed": func(v *InboxView) { v.Conversation.WindowOpen = false },
		"no window, read only": func(v *InboxView) {
			c := *v.Conversation
			c.WindowApplies, c.CanAct, c.Messages, c.Orders, c.ChatURL = false, false, nil, nil, ""
			v.Conversation = &c
		},
	}
	for _, loc := range append(Locales(), "xx") {
		for _, name := range []string{"inbox", "inbox_order_new"} {
			for vn, change := range variants {
				v := testInbox()
				change(v)
				p := PageView{Locale: loc, ShopName: "Shop <A>", Nav: "inbox", Inbox: v, Assets: []string{"live.js"}}
				want, err := plain.AppendPage(nil, name, p)
				require.NoError(t, err, "%s in %s, %s", name, loc, vn)
				got, err := baked.AppendPage(nil, name, p)
				require.NoError(t, err)
				require.Equal(t, string(want), string(got), "%s in %s, %s", name, loc, vn)
				page := string(got)
				require.NotContains(t, page, "<script>x", "%s in %s, %s", name, loc, vn)
				require.NotContains(t, page, "<Lan>")
				require.NotContains(t, page, "javascript:alert")
			}
		}
	}

	page, err := baked.AppendPage(nil, "inbox", PageView{Locale: "en", Nav: "inbox", Inbox: testInbox()})
	require.NoError(t, err)
	s := string(page)
	for _, want := range []string{
		`id="inbox-list" data-live="conversations"`,
		`id="transcript-c1" data-live="conversation:c1"`,
		`<input type="hidden" name="nonce" value="nonce-1">`,
		`&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;</textarea>`, // the reply, kept
		"Write a message to send.",
		`<a href="https://pay.example/pay/t" target="_blank" rel="noopener noreferrer">Pay now</a>`,
		"<span>Data only</span>",
		"window &lt;closed&gt;",
		"mystery_kind", // an unknown kind shows as it is
		"order card",
		`action="/dashboard/inbox/c1/reply"`,
		`href="/dashboard/inbox/c1/orders/new"`,
		"Customer&#39;s chat link",
		`aria-current="page">Inbox`,
	} {
		require.Contains(t, s, want)
	}

	page, err = baked.AppendPage(nil, "inbox_order_new", PageView{Locale: "vi", Nav: "inbox", Inbox: testInbox()})
	require.NoError(t, err)
	s = string(page)
	for _, want := range []string{
		`name="item_name" value="Áo &#34;thun&#34;"`,
		`id="item-2-qty" name="item_qty" value="x"`,
		`aria-invalid="true" aria-describedby="item-2-name-error"`,
		`<a href="#item-2-name">Dòng 2: Nhập tên sản phẩm.</a>`,
		"something &lt;odd&gt;", // a service error the page has no words for
		`value="cod" checked`,
		`name="ship_on_payment" value="1" checked`,
		"branch=hcm\n&lt;b&gt;</textarea>",
	} {
		require.Contains(t, s, want)
	}
	require.Less(t, strings.Index(s, `class="sr-only" tabindex="-1" aria-hidden="true">`), strings.Index(s, `name="more"`),
		"Enter submits the order, not the More lines button")
}
