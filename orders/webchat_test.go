package orders_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
)

// chatToken returns the token part of a conversation's chat URL.
func chatToken(t testing.TB, svc *orders.Service, conv *orders.Conversation) string {
	t.Helper()
	u, err := svc.ChatURL(conv)
	require.NoError(t, err)
	tok, ok := strings.CutPrefix(u, publicURL+"/chat/")
	require.True(t, ok, u)
	return tok
}

func TestChatTokenRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv, err := b.svc.StartWebChat(b.ctx, shopA)
	require.NoError(t, err)
	require.Equal(t, orders.ChannelWebchat, conv.Channel)
	require.Regexp(t, `^[0-9a-f]{32}$`, conv.ExternalID, "a 128-bit random visitor id")

	tok := chatToken(t, b.svc, conv)
	require.Regexp(t, `^shop-a\.[A-Za-z0-9_-]{43}$`, tok)
	again, err := b.svc.ChatToken(conv)
	require.NoError(t, err)
	require.Equal(t, tok, again, "a conversation has one token, so nothing needs storing")
	same, err := b.service(t, b.key).ChatToken(conv)
	require.NoError(t, err)
	require.Equal(t, tok, same, "every replica with the key makes the same token")

	got, err := b.svc.ConversationByChatToken(b.ctx, tok)
	require.NoError(t, err)
	require.Equal(t, conv.ID, got.ID)
	require.Equal(t, conv.ExternalID, got.ExternalID)

	// A conversation the shop opened through the API for its own visitor id has a
	// chat page too.
	o := b.create(t, shopA, input())
	api, err := b.svc.Conversation(b.ctx, shopA, o.ConversationID)
	require.NoError(t, err)
	got, err = b.svc.ConversationByChatToken(b.ctx, chatToken(t, b.svc, api))
	require.NoError(t, err)
	require.Equal(t, "visitor-42", got.ExternalID)

	// Visitors get distinct conversations.
	other, err := b.svc.StartWebChat(b.ctx, shopA)
	require.NoError(t, err)
	require.NotEqual(t, conv.ID, other.ID)
	require.NotEqual(t, tok, chatToken(t, b.svc, other))
}

func TestOpenWebChat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv, err := b.svc.OpenWebChat(b.ctx, shopA, "customer-7", "Lan")
	require.NoError(t, err)
	require.Equal(t, "customer-7", conv.ExternalID)
	require.Equal(t, "Lan", conv.CustomerName)
	again, err := b.svc.OpenWebChat(b.ctx, shopA, "customer-7", "")
	require.NoError(t, err)
	require.Equal(t, conv.ID, again.ID, "the same customer, the same conversation")
	require.Equal(t, chatToken(t, b.svc, conv), chatToken(t, b.svc, again))
	// An order for the same id lands in the same conversation.
	in := input()
	in.Customer.ExternalID = "customer-7"
	o := b.create(t, shopA, in)
	require.Equal(t, conv.ID, o.ConversationID)

	other, err := b.svc.OpenWebChat(b.ctx, shopB, "customer-7", "")
	require.NoError(t, err)
	require.NotEqual(t, conv.ID, other.ID, "shops never share a conversation")
	fresh, err := b.svc.OpenWebChat(b.ctx, shopA, "", "")
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{32}$`, fresh.ExternalID)

	for _, tc := range []struct{ id, name, field string }{
		{"   ", "", "external_id"},
		{strings.Repeat("x", 201), "", "external_id"},
		{"ok", "bad \xff", "name"},
	} {
		_, err := b.svc.OpenWebChat(b.ctx, shopA, tc.id, tc.name)
		require.Equal(t, tc.field, requireCode(t, err, orders.EINVALID).Field)
	}
	_, err = b.svc.OpenWebChat(b.ctx, "nope", "x", "")
	requireCode(t, err, orders.ENOTFOUND)
}

func TestChatTokenRejects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv, err := b.svc.StartWebChat(b.ctx, shopA)
	require.NoError(t, err)
	tok := chatToken(t, b.svc, conv)
	convB, err := b.svc.StartWebChat(b.ctx, shopB)
	require.NoError(t, err)
	tokB := chatToken(t, b.svc, convB)

	_, blob, _ := strings.Cut(tok, ".")
	_, blobB, _ := strings.Cut(tokB, ".")
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	// A telegram conversation never has a chat page, even with a valid tag for its
	// ID (which only the key's holder can make).
	_, _, err = b.svc.ReceiveMessage(b.ctx, shopA, orders.InboundMessage{Channel: orders.ChannelTelegram, ExternalID: "5001", Key: "tg:1", Text: "hi"})
	require.NoError(t, err)
	tg, err := b.store.ConversationByExternalID(b.ctx, shopA, orders.ChannelTelegram, "5001")
	require.NoError(t, err)
	_, err = b.svc.ChatToken(tg)
	require.Error(t, err)
	disguised := *tg
	disguised.Channel = orders.ChannelWebchat
	tgTok := chatToken(t, b.svc, &disguised)

	bad := map[string]string{
		"empty":                         "",
		"no dot":                        "shop-a" + blob,
		"tag flipped":                   "shop-a." + flip(blob, len(blob)-2),
		"id flipped":                    "shop-a." + flip(blob, 0),
		"stray bits in the last char":   "shop-a." + blob[:len(blob)-1] + strayBits(blob[len(blob)-1]),
		"shop B's conversation, A's":    "shop-a." + blobB,
		"shop A's conversation, B's":    "shop-b." + blob,
		"unknown shop":                  "shop-x." + blob,
		"upper-case shop":               "SHOP-A." + blob,
		"short":                         tok[:len(tok)-1],
		"long":                          tok + "A",
		"padding":                       tok[:len(tok)-1] + "=",
		"line break inside":             "shop-a." + blob[:10] + "\n" + blob[11:],
		"standard alphabet":             "shop-a.+" + blob[1:],
		"two dots":                      "shop-a.." + blob,
		"a telegram conversation's tag": tgTok,
		"key from another service":      chatToken(t, b.service(t, bytes.Repeat([]byte("x"), orders.LinkKeyLen)), conv),
	}
	for name, tc := range bad {
		_, err := b.svc.ConversationByChatToken(b.ctx, tc)
		e := requireCode(t, err, orders.ENOTFOUND)
		require.Equal(t, "This chat does not exist.", e.Message, name)
	}

	// A deleted conversation would be not_found the same way; a conversation that
	// never existed is the closest this store can show.
	ghost := *conv
	ghost.ID = orders.NewID()
	_, err = b.svc.ConversationByChatToken(b.ctx, chatToken(t, b.svc, &ghost))
	requireCode(t, err, orders.ENOTFOUND)
}

// strayBits returns the character that decodes to the same last byte as c but with
// one of the two unused low bits set: a lenient decoder would accept it as another
// spelling of the same token.
func strayBits(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, c)|1])
}

func TestReceiveWebChat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{b.a, b.b}, Store: b.store, Renderer: bot.Renderer{Templates: b.tpl},
		PublicURL: publicURL, LinkKey: b.key, ScrubChatUpdate: bot.RedactCardNumbersJSON,
	})
	require.NoError(t, err)
	conv, err := svc.StartWebChat(b.ctx, shopB)
	require.NoError(t, err)
	nonce := orders.NewLinkToken()

	fresh, err := svc.ReceiveWebChat(b.ctx, conv, nonce, "  Còn size M không? <b>  ",
		orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindWelcome, Text: "Xin chào!"})
	require.NoError(t, err)
	require.True(t, fresh)
	before := b.snapshot(t)
	fresh, err = svc.ReceiveWebChat(b.ctx, conv, nonce, "  Còn size M không? <b>  ",
		orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindWelcome, Text: "Xin chào!"})
	require.NoError(t, err)
	require.False(t, fresh, "a double submit records the message once")
	require.Equal(t, before, b.snapshot(t))

	m, err := b.store.Message(b.ctx, shopB, "in:webchat:"+conv.ID+":"+nonce)
	require.NoError(t, err)
	require.Equal(t, orders.DirectionIn, m.Direction)
	require.Equal(t, conv.ID, m.ConversationID)
	require.Equal(t, "Còn size M không? <b>", m.Text, "stored as typed, trimmed; pages escape it")

	// The same nonce in another visitor's conversation is that visitor's own message.
	other, err := svc.StartWebChat(b.ctx, shopB)
	require.NoError(t, err)
	fresh, err = svc.ReceiveWebChat(b.ctx, other, nonce, "hello")
	require.NoError(t, err)
	require.True(t, fresh)

	// Card numbers never reach the store.
	card := orders.NewLinkToken()
	_, err = svc.ReceiveWebChat(b.ctx, conv, card, "my card 4111 1111 1111 1111 exp 12/29")
	require.NoError(t, err)
	m, err = b.store.Message(b.ctx, shopB, "in:webchat:"+conv.ID+":"+card)
	require.NoError(t, err)
	require.Equal(t, "my card •••• •••• •••• •••• exp 12/29", m.Text)
	red, changed, err := svc.RedactCardNumbers("4111-1111-1111-1111")
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "••••-••••-••••-••••", red)
	same, changed, err := svc.RedactCardNumbers("order 1001, phone 0901234567")
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, "order 1001, phone 0901234567", same)

	// Nothing is clipped or lost silently: bad input is refused, naming the field.
	for _, tc := range []struct{ nonce, text, field string }{
		{orders.NewLinkToken(), "   ", "text"},
		{orders.NewLinkToken(), strings.Repeat("ก", orders.MaxChatText+1), "text"},
		{orders.NewLinkToken(), "bad \xff utf-8", "text"},
		{"", "hi", "nonce"},
		{"short", "hi", "nonce"},
		{orders.NewLinkToken()[:21] + "\n", "hi", "nonce"},
	} {
		_, err := svc.ReceiveWebChat(b.ctx, conv, tc.nonce, tc.text)
		e := requireCode(t, err, orders.EINVALID)
		require.Equal(t, tc.field, e.Field)
	}
	fresh, err = svc.ReceiveWebChat(b.ctx, conv, orders.NewLinkToken(), strings.Repeat("ก", orders.MaxChatText))
	require.NoError(t, err)
	require.True(t, fresh, "exactly the limit is fine")

	// Only web chat conversations take web chat messages.
	_, _, err = svc.ReceiveMessage(b.ctx, shopB, orders.InboundMessage{Channel: orders.ChannelTelegram, ExternalID: "5001", Key: "tg:1", Text: "hi"})
	require.NoError(t, err)
	tg, err := b.store.ConversationByExternalID(b.ctx, shopB, orders.ChannelTelegram, "5001")
	require.NoError(t, err)
	_, err = svc.ReceiveWebChat(b.ctx, tg, orders.NewLinkToken(), "hi")
	require.Error(t, err)
}

// FuzzConversationByChatToken feeds the chat page's token parser anything a URL can
// carry. The only token that opens a conversation is that conversation's own: every
// other input is not_found, and none panics.
func FuzzConversationByChatToken(f *testing.F) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "x.db"))
	require.NoError(f, err)
	f.Cleanup(func() { require.NoError(f, st.Close()) })
	require.NoError(f, st.Migrate(ctx))
	svc, err := orders.NewService(orders.Config{
		Shops:     []*orders.Shop{{ID: shopA, Name: "A", Currency: "VND", Locale: "vi"}},
		Store:     st,
		PublicURL: publicURL,
		LinkKey:   bytes.Repeat([]byte("k"), orders.LinkKeyLen),
	})
	require.NoError(f, err)
	conv, err := svc.StartWebChat(ctx, shopA)
	require.NoError(f, err)
	tok := chatToken(f, svc, conv)

	f.Add(tok)
	f.Add("")
	f.Add(".")
	f.Add("shop-a.")
	f.Add(tok[:len(tok)-1] + "B")
	f.Add("shop-a." + strings.Repeat("A", 43))
	f.Add("shop-a." + strings.Repeat("_", 42) + "\r\n")
	f.Add(strings.Repeat("a", 65) + "." + strings.Repeat("A", 43))
	f.Add("shop-a.%2F" + strings.Repeat("A", 40))
	f.Fuzz(func(t *testing.T, s string) {
		got, err := svc.ConversationByChatToken(ctx, s)
		if err != nil {
			require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err), "%q: %v", s, err)
			return
		}
		require.Equal(t, tok, s, "only the conversation's own token opens it")
		require.Equal(t, conv.ID, got.ID)
	})
}
