package telegramtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

// newBot starts an emulator and a real client pointed at it. The client checks
// the token with getMe, as chatpay's adapter will at start.
func newBot(t *testing.T, opts ...telegramtest.Option) (*telegramtest.Server, *bot.Bot) {
	t.Helper()
	s := telegramtest.New(t, opts...)
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()),
		bot.WithErrorsHandler(func(error) {}), bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}))
	require.NoError(t, err)
	return s, b
}

func payKeyboard() *models.InlineKeyboardMarkup {
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "Pay now", URL: "https://pay.example.com/pay/abc"}},
		{{Text: "Cancel", CallbackData: "cancel:42"}, {Text: "Help", CallbackData: "help"}},
	}}
}

func TestGetMeAndToken(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	me, err := b.GetMe(t.Context())
	require.NoError(t, err)
	require.Equal(t, s.BotID(), me.ID)
	require.Equal(t, s.BotUsername(), me.Username)
	require.True(t, me.IsBot)

	_, err = bot.New("1:wrong", bot.WithServerURL(s.URL()))
	require.ErrorIs(t, err, bot.ErrorUnauthorized)
}

func TestSendMessageWithInlineKeyboardRoundTrips(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	c := s.NewCustomer("Ann")

	msg, err := b.SendMessage(t.Context(), &bot.SendMessageParams{
		ChatID:             c.ChatID,
		Text:               "<b>Order #A1</b> 120,000 VND",
		ParseMode:          models.ParseModeHTML,
		ReplyMarkup:        payKeyboard(),
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: bot.True()},
	})
	require.NoError(t, err)
	require.Equal(t, c.ChatID, msg.Chat.ID)
	require.Equal(t, models.ChatTypePrivate, msg.Chat.Type)
	require.Equal(t, s.BotID(), msg.From.ID)
	require.Equal(t, "Pay now", msg.ReplyMarkup.InlineKeyboard[0][0].Text)

	got, ok := s.Message(c.ChatID, msg.ID)
	require.True(t, ok)
	require.Equal(t, telegramtest.SenderBot, got.Sender)
	require.Equal(t, "<b>Order #A1</b> 120,000 VND", got.Text)
	require.Equal(t, "HTML", got.ParseMode)
	require.True(t, got.LinkPreviewDisabled)
	require.Equal(t, [][]telegramtest.Button{
		{{Text: "Pay now", URL: "https://pay.example.com/pay/abc"}},
		{{Text: "Cancel", CallbackData: "cancel:42"}, {Text: "Help", CallbackData: "help"}},
	}, got.Buttons)
}

func TestSendMessageErrors(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	c := s.NewCustomer("Bo")
	stranger := s.NewUser("Cy")

	_, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: int64(987654321), Text: "hi"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.ErrorContains(t, err, "Bad Request: chat not found")

	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "  "})
	require.ErrorContains(t, err, "Bad Request: message text is empty")

	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: stranger.ChatID, Text: "hi"})
	require.ErrorIs(t, err, bot.ErrorForbidden)

	s.BlockBot(c)
	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "hi"})
	require.ErrorIs(t, err, bot.ErrorForbidden)
	require.ErrorContains(t, err, "bot was blocked by the user")

	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "x",
		ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "bad", URL: "not a url"}}}}})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.Empty(t, s.Messages(c.ChatID))
}

func TestEditMessageTextChangesStoredText(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	c := s.NewCustomer("Dee")
	msg, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "Order #B2: awaiting payment", ReplyMarkup: payKeyboard()})
	require.NoError(t, err)

	edited, err := b.EditMessageText(t.Context(), &bot.EditMessageTextParams{ChatID: c.ChatID, MessageID: msg.ID, Text: "Order #B2: paid"})
	require.NoError(t, err)
	require.Equal(t, "Order #B2: paid", edited.Text)
	require.NotZero(t, edited.EditDate)

	got, _ := s.Message(c.ChatID, msg.ID)
	require.Equal(t, "Order #B2: paid", got.Text)
	require.Nil(t, got.Buttons, "editMessageText without reply_markup removes the keyboard")
	require.Len(t, got.Edits, 1)
	require.Equal(t, "Order #B2: awaiting payment", got.Edits[0].Text)
	require.Len(t, got.Edits[0].Buttons, 2)

	_, err = b.EditMessageText(t.Context(), &bot.EditMessageTextParams{ChatID: c.ChatID, MessageID: msg.ID, Text: "Order #B2: paid"})
	require.ErrorContains(t, err, "Bad Request: message is not modified")

	_, err = b.EditMessageReplyMarkup(t.Context(), &bot.EditMessageReplyMarkupParams{ChatID: c.ChatID, MessageID: msg.ID, ReplyMarkup: payKeyboard()})
	require.NoError(t, err)
	got, _ = s.Message(c.ChatID, msg.ID)
	require.Equal(t, "cancel:42", got.Buttons[1][0].CallbackData)

	ok, err := b.DeleteMessage(t.Context(), &bot.DeleteMessageParams{ChatID: c.ChatID, MessageID: msg.ID})
	require.NoError(t, err)
	require.True(t, ok)
	got, _ = s.Message(c.ChatID, msg.ID)
	require.True(t, got.Deleted)

	_, err = b.EditMessageText(t.Context(), &bot.EditMessageTextParams{ChatID: c.ChatID, MessageID: msg.ID, Text: "again"})
	require.ErrorContains(t, err, "Bad Request: message to edit not found")
	_, err = b.DeleteMessage(t.Context(), &bot.DeleteMessageParams{ChatID: c.ChatID, MessageID: msg.ID})
	require.ErrorContains(t, err, "Bad Request: message to delete not found")
}

func TestForumTopicsAndDeletedThread(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	staff := s.NewStaffForum("Shop staff")
	customer := s.NewCustomer("Eve")

	topic, err := b.CreateForumTopic(t.Context(), &bot.CreateForumTopicParams{ChatID: staff, Name: "Eve #E1"})
	require.NoError(t, err)
	require.NotZero(t, topic.MessageThreadID)

	_, err = b.EditForumTopic(t.Context(), &bot.EditForumTopicParams{ChatID: staff, MessageThreadID: topic.MessageThreadID, Name: "Eve #E1 (paid)"})
	require.NoError(t, err)
	require.Equal(t, []telegramtest.Topic{{ThreadID: topic.MessageThreadID, Name: "Eve #E1 (paid)", IconColor: 7322096}}, s.Topics(staff))

	// The adapter mirrors the customer's message into the topic.
	in := s.CustomerSays(customer, "Where is my parcel?")
	copied, err := b.CopyMessage(t.Context(), &bot.CopyMessageParams{ChatID: staff, MessageThreadID: topic.MessageThreadID, FromChatID: customer.ChatID, MessageID: in.MessageID})
	require.NoError(t, err)
	fwd, err := b.ForwardMessage(t.Context(), &bot.ForwardMessageParams{ChatID: staff, MessageThreadID: topic.MessageThreadID, FromChatID: customer.ChatID, MessageID: in.MessageID})
	require.NoError(t, err)
	require.True(t, fwd.IsTopicMessage)
	require.Equal(t, topic.MessageThreadID, fwd.MessageThreadID)
	require.Equal(t, models.MessageOriginTypeUser, fwd.ForwardOrigin.Type)
	require.Equal(t, customer.ID, fwd.ForwardOrigin.MessageOriginUser.SenderUser.ID)

	thread := s.ThreadMessages(staff, topic.MessageThreadID)
	require.Len(t, thread, 3) // the topic's service message, the copy, the forward
	require.Equal(t, "Eve #E1", thread[0].TopicCreated)
	require.Equal(t, copied.ID, thread[1].ID)
	require.Equal(t, "Where is my parcel?", thread[1].Text)
	require.Equal(t, &telegramtest.MessageRef{ChatID: customer.ChatID, MessageID: in.MessageID}, thread[1].CopyOf)

	ok, err := b.DeleteForumTopic(t.Context(), &bot.DeleteForumTopicParams{ChatID: staff, MessageThreadID: topic.MessageThreadID})
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, s.Topics(staff)[0].Deleted)

	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: staff, MessageThreadID: topic.MessageThreadID, Text: "Shipped"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.ErrorContains(t, err, "Bad Request: message thread not found")

	_, err = b.CreateForumTopic(t.Context(), &bot.CreateForumTopicParams{ChatID: customer.ChatID, Name: "x"})
	require.ErrorContains(t, err, "Bad Request: the chat is not a forum")
}

func TestInjected429SurfacesAsTooManyRequestsError(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	c := s.NewCustomer("Fay")
	s.FailNext("sendMessage", 2, telegramtest.TooManyRequests(7))

	for range 2 {
		_, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "hi"})
		var tooMany *bot.TooManyRequestsError
		require.ErrorAs(t, err, &tooMany)
		require.Equal(t, 7, tooMany.RetryAfter)
	}
	_, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "hi"})
	require.NoError(t, err)
	require.Equal(t, 2, s.TooManyRequests())
	require.Len(t, s.Messages(c.ChatID), 1)
}

func TestInjectedServerErrorsAndTimeout(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	c := s.NewCustomer("Gus")

	s.FailNext("SENDMESSAGE", 1, telegramtest.ServerError(502, ""))
	_, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "hi"})
	require.ErrorContains(t, err, "502 Bad Gateway")

	// A timeout whose call took effect: the client sees an error, yet the
	// message is in the chat.
	s.FailNext("sendMessage", 1, telegramtest.Fault{Timeout: true, Apply: true})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: c.ChatID, Text: "sent but unanswered"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	msgs := s.Messages(c.ChatID)
	require.Len(t, msgs, 1)
	require.Equal(t, "sent but unanswered", msgs[0].Text)
}

func TestUnknownMethodIs404(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	_, err := b.SendDice(t.Context(), &bot.SendDiceParams{ChatID: s.NewCustomer("Hal").ChatID})
	require.ErrorIs(t, err, bot.ErrorNotFound)
	require.True(t, errors.Is(err, bot.ErrorNotFound))
}

func TestTimeoutFaultDropsTheConnection(t *testing.T) {
	t.Parallel()
	s, b := newBot(t, telegramtest.WithTimeoutDelay(20*time.Millisecond))
	c := s.NewCustomer("Ola")
	s.FailNext("sendMessage", 1, telegramtest.Timeout(0))
	_, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "lost"})
	require.Error(t, err)
	require.NotErrorIs(t, err, bot.ErrorBadRequest)
	require.Empty(t, s.Messages(c.ChatID), "without Apply the call had no effect")

	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "kept"})
	require.NoError(t, err)
	require.Len(t, s.Messages(c.ChatID), 1)
}

func TestMoreBadRequests(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	staff := s.NewStaffForum("Staff")
	c := s.NewCustomer("Pia")

	topic, err := b.CreateForumTopic(t.Context(), &bot.CreateForumTopicParams{ChatID: staff, Name: "Pia"})
	require.NoError(t, err)
	_, err = b.EditForumTopic(t.Context(), &bot.EditForumTopicParams{ChatID: staff, MessageThreadID: topic.MessageThreadID, Name: "Pia"})
	require.ErrorContains(t, err, "TOPIC_NOT_MODIFIED")
	_, err = b.DeleteForumTopic(t.Context(), &bot.DeleteForumTopicParams{ChatID: staff, MessageThreadID: 424242})
	require.ErrorIs(t, err, bot.ErrorBadRequest)

	_, err = b.CopyMessage(t.Context(), &bot.CopyMessageParams{ChatID: staff, FromChatID: c.ChatID, MessageID: 77})
	require.ErrorContains(t, err, "Bad Request: message to copy not found")
	_, err = b.ForwardMessage(t.Context(), &bot.ForwardMessageParams{ChatID: staff, FromChatID: c.ChatID, MessageID: 77})
	require.ErrorContains(t, err, "Bad Request: message to forward not found")

	_, err = b.AnswerCallbackQuery(t.Context(), &bot.AnswerCallbackQueryParams{CallbackQueryID: "123"})
	require.ErrorContains(t, err, "query is too old and response timeout expired or query ID is invalid")

	in := s.CustomerSays(c, "hi")
	_, err = b.EditMessageText(t.Context(), &bot.EditMessageTextParams{ChatID: c.ChatID, MessageID: in.MessageID, Text: "mine now"})
	require.ErrorContains(t, err, "Bad Request: message can't be edited")

	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: strings.Repeat("x", 4097)})
	require.ErrorContains(t, err, "Bad Request: message is too long")
	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "x", ParseMode: "BBCode"})
	require.ErrorContains(t, err, "unsupported parse_mode")

	// A blocked customer who writes again has unblocked the bot.
	s.BlockBot(c)
	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "x"})
	require.ErrorIs(t, err, bot.ErrorForbidden)
	s.CustomerSays(c, "back")
	_, err = b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "welcome back"})
	require.NoError(t, err)
}

func TestWebhookInfoReportsErrorsAndPending(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(hook.Close)
	s.CustomerSays(s.NewCustomer("Rex"), "stuck")
	_, err := b.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: hook.URL})
	require.NoError(t, err)

	require.Eventually(t, func() bool { return s.WebhookAttempts() >= 2 }, 30*time.Second, 2*time.Millisecond)
	info, err := b.GetWebhookInfo(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, info.PendingUpdateCount)
	require.Contains(t, info.LastErrorMessage, "500")
	require.Zero(t, s.WebhookDeliveries())

	_, err = b.DeleteWebhook(t.Context(), &bot.DeleteWebhookParams{DropPendingUpdates: true})
	require.NoError(t, err)
	require.Zero(t, s.PendingUpdates())
	info, err = b.GetWebhookInfo(t.Context())
	require.NoError(t, err)
	require.Empty(t, info.URL)
}

func TestZeroFaultIsAServerError(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	s.FailNext("getChat", 1, telegramtest.Fault{})
	_, err := b.GetChat(t.Context(), &bot.GetChatParams{ChatID: s.NewCustomer("Zed").ChatID})
	require.ErrorContains(t, err, "500 Internal Server Error")
}
