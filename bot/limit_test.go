package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

func TestTelegramLimits(t *testing.T) {
	t.Parallel()

	t.Run("PrivateChat", func(t *testing.T) {
		t.Parallel()
		// Each window is 3% wider than Telegram's, for requests that arrive closer
		// together than they left.
		require.Equal(t, []bot.Limit{
			{Key: "tg:{42}:chat:123", Events: 1, Per: 1030 * time.Millisecond},
			{Key: "tg:{42}", Events: 30, Per: 1030 * time.Millisecond},
		}, bot.TelegramLimits("42", 123))
	})

	t.Run("GroupAddsPerMinuteLimit", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []bot.Limit{
			{Key: "tg:{42}:chat:-1001234567890", Events: 1, Per: 1030 * time.Millisecond},
			{Key: "tg:{42}", Events: 30, Per: 1030 * time.Millisecond},
			{Key: "tg:{42}:group:-1001234567890", Events: 20, Per: 61800 * time.Millisecond},
		}, bot.TelegramLimits("42", -1001234567890))
	})

	t.Run("ValidTogether", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, bot.ValidateLimits(bot.TelegramLimits("42", -1)))
		require.NoError(t, bot.ValidateLimits(bot.MessengerLimits("page", "psid")))
	})
}

func TestTelegramBotID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "123456", bot.TelegramBotID("123456:ABC-DEF_secret"))
	require.Equal(t, "bot42", bot.TelegramBotID("bot42"))
	require.Empty(t, bot.TelegramBotID(""))
}

func TestMessengerLimits(t *testing.T) {
	t.Parallel()
	require.Equal(t, []bot.Limit{
		{Key: "fb:{page1}:thread:psid9", Events: 1, Per: time.Second},
		{Key: "fb:{page1}", Events: 250, Per: time.Second},
	}, bot.MessengerLimits("page1", "psid9"))
}

func TestConversationLimits(t *testing.T) {
	t.Parallel()
	conv := func(channel, externalID string) *orders.Conversation {
		return &orders.Conversation{ID: "c1", ShopID: "shop1", Channel: channel, ExternalID: externalID}
	}

	limits, err := bot.ConversationLimits("42", conv(orders.ChannelTelegram, "-100"))
	require.NoError(t, err)
	require.Equal(t, bot.TelegramLimits("42", -100), limits)

	limits, err = bot.ConversationLimits("page1", conv(orders.ChannelMessenger, "psid9"))
	require.NoError(t, err)
	require.Equal(t, bot.MessengerLimits("page1", "psid9"), limits)

	limits, err = bot.ConversationLimits("", conv(orders.ChannelWebchat, "visitor-42"))
	require.NoError(t, err)
	require.Empty(t, limits, "web chat has no platform limits")

	_, err = bot.ConversationLimits("42", conv(orders.ChannelTelegram, "@someone"))
	require.True(t, bot.IsPermanent(err), "a bad chat id cannot be fixed by retrying: %v", err)
	require.ErrorContains(t, err, `Telegram chat id "@someone"`)
}

func TestValidateLimits(t *testing.T) {
	t.Parallel()
	ok := bot.Limit{Key: "k", Events: 1, Per: time.Second}
	require.NoError(t, bot.ValidateLimits(nil))
	require.NoError(t, bot.ValidateLimits([]bot.Limit{ok, {Key: "j", Events: 1, Per: time.Millisecond}}))

	for _, tt := range []struct {
		name   string
		limits []bot.Limit
		err    string
	}{
		{"empty key", []bot.Limit{ok, {Events: 1, Per: time.Second}}, "ratelimit: limit 1 has an empty key"},
		{"long key", []bot.Limit{{Key: strings.Repeat("k", 257), Events: 1, Per: time.Second}}, `ratelimit: limit key "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"… is longer than 256 bytes`},
		{"zero events", []bot.Limit{{Key: "k", Per: time.Second}}, "ratelimit: limit k 0/1s must allow at least 1 event"},
		{"negative events", []bot.Limit{{Key: "k", Events: -1, Per: time.Second}}, "ratelimit: limit k -1/1s must allow at least 1 event"},
		{"sub-millisecond", []bot.Limit{{Key: "k", Events: 1, Per: time.Microsecond}}, "ratelimit: limit k 1/1µs must span at least 1ms"},
		{"duplicate key", []bot.Limit{ok, {Key: "j", Events: 1, Per: time.Second}, {Key: "k", Events: 5, Per: time.Minute}}, `ratelimit: limit key "k" is given twice`},
	} {
		require.EqualError(t, bot.ValidateLimits(tt.limits), tt.err, tt.name)
	}
}

func TestTelegramChat(t *testing.T) {
	t.Parallel()
	id, biz, err := orders.TelegramChat("-1001234567890")
	require.NoError(t, err)
	require.Equal(t, int64(-1001234567890), id)
	require.Empty(t, biz)
	ext := orders.TelegramBusinessChat("bc:0001", 5001)
	id, biz, err = orders.TelegramChat(ext)
	require.NoError(t, err)
	require.Equal(t, int64(5001), id)
	require.Equal(t, "bc:0001", biz, "a connection id may itself hold colons")
	reply := orders.TelegramReplyChat(-1001234567890, 77)
	id, biz, err = orders.TelegramChat(reply)
	require.NoError(t, err)
	require.Equal(t, int64(-1001234567890), id)
	require.Empty(t, biz)
	require.Equal(t, 77, orders.TelegramReplyTo(reply))
	require.Zero(t, orders.TelegramReplyTo(ext))
	require.Zero(t, orders.TelegramReplyTo("-100"))
	limits, err := bot.ConversationLimits("bot1", &orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: reply})
	require.NoError(t, err)
	require.Equal(t, bot.TelegramLimits("bot1", -1001234567890), limits, "a comment thread is limited as its group")
	for _, bad := range []string{"", "abc", "biz:", "biz:conn", "biz::5", "biz:c:x", "reply:", "reply:-100", "reply:-100:x", "reply:-100:0", "reply:x:5"} {
		_, _, err := orders.TelegramChat(bad)
		require.Error(t, err, bad)
	}
	limits, err = bot.ConversationLimits("bot1", &orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: ext})
	require.NoError(t, err)
	require.Equal(t, bot.TelegramLimits("bot1", 5001), limits, "a business chat is limited as the customer's chat")
}

func TestEditLimits(t *testing.T) {
	t.Parallel()
	conv := &orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: "123"}
	limits, err := bot.EditLimits("42", conv)
	require.NoError(t, err)
	require.Equal(t, bot.TelegramLimits("42", 123)[:1], limits, "an edit counts against the chat only")
	require.Equal(t, "tg:{42}:chat:123", limits[0].Key)
	limits, err = bot.EditLimits("42", &orders.Conversation{Channel: orders.ChannelWebchat, ExternalID: "v"})
	require.NoError(t, err)
	require.Empty(t, limits)
}
