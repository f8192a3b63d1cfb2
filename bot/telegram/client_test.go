package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	tg "github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
	"github.com/chatpay/chatpay/orders"
)

// setup starts an emulator and a Client for it.
func setup(t *testing.T, opts ...telegram.Option) (*telegramtest.Server, *telegram.Client) {
	t.Helper()
	srv := telegramtest.New(t)
	c, err := telegram.New(srv.Token(), srv.URL(), opts...)
	require.NoError(t, err)
	return srv, c
}

// requireNoToken checks that no error text gives the token away.
func requireNoToken(t *testing.T, srv *telegramtest.Server, err error) {
	t.Helper()
	require.Error(t, err)
	_, secret, _ := strings.Cut(srv.Token(), ":")
	for e := err; e != nil; e = errors.Unwrap(e) {
		require.NotContains(t, e.Error(), secret)
	}
}

func TestNewMakesNoCallAndCachesMe(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	// No getMe at construction: a fault queued now is met by the first Me.
	srv.FailNext("getMe", 1, telegramtest.ServerError(http.StatusInternalServerError, ""))
	_, _, err := c.Me(t.Context())
	require.Error(t, err)
	requireNoToken(t, srv, err)

	id, name, err := c.Me(t.Context())
	require.NoError(t, err)
	require.Equal(t, srv.BotID(), id)
	require.Equal(t, srv.BotUsername(), name)

	// Cached: a failing server no longer matters.
	srv.FailNext("getMe", 1, telegramtest.ServerError(http.StatusInternalServerError, ""))
	id2, name2, err := c.Me(t.Context())
	require.NoError(t, err)
	require.Equal(t, id, id2)
	require.Equal(t, name, name2)
}

func TestNewRejectsBadInput(t *testing.T) {
	t.Parallel()
	_, err := telegram.New("", "http://127.0.0.1:1")
	require.Error(t, err)
	_, err = telegram.New("123:secret with space", "http://127.0.0.1:1")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret with space")
	_, err = telegram.New("123:abcdefghijk", "ftp://example.com")
	require.Error(t, err)
	c, err := telegram.New("123:abcdefghijk", "")
	require.NoError(t, err)
	require.NotNil(t, c)
}

func TestSendButtonsOnePerRow(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.NewCustomer("Ann")
	id, err := c.Send(t.Context(), telegram.Target{ChatID: u.ChatID}, telegram.Out{
		Text: "Order #1001: 330,000 VND",
		Buttons: []orders.Button{
			{Label: "Pay now", URL: "https://pay.example/pay/tok"},
			{Label: "Cancel", Data: "cancel:1001"},
		},
	})
	require.NoError(t, err)
	m, ok := srv.Message(u.ChatID, id)
	require.True(t, ok)
	require.Equal(t, "Order #1001: 330,000 VND", m.Text)
	require.Equal(t, telegramtest.SenderBot, m.Sender)
	require.Equal(t, [][]telegramtest.Button{
		{{Text: "Pay now", URL: "https://pay.example/pay/tok"}},
		{{Text: "Cancel", CallbackData: "cancel:1001"}},
	}, m.Buttons)
}

func TestSendPlainTextStaysLiteral(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.NewCustomer("Bob")
	text := `Hello <b>Bob</b> *bold* _x_ [a](http://e.com) & "q"`
	id, err := c.Send(t.Context(), telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: text})
	require.NoError(t, err)
	m, ok := srv.Message(u.ChatID, id)
	require.True(t, ok)
	require.Equal(t, text, m.Text)
	require.Empty(t, m.ParseMode)
	require.Nil(t, m.Buttons)
}

func TestSendRejectsBadButtonsWithoutCalling(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.NewCustomer("Cy")
	for _, b := range []orders.Button{
		{Label: "Nothing"},
		{Label: "Both", URL: "https://e.com", Data: "x"},
		{Label: "", URL: "https://e.com"},
		{Label: "Big", Data: strings.Repeat("d", 65)},
	} {
		_, err := c.Send(t.Context(), telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: "hi", Buttons: []orders.Button{b}})
		require.True(t, bot.IsPermanent(err), "%+v: %v", b, err)
	}
	require.Empty(t, srv.SendLog())
}

func TestSendIntoTopic(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	forum := srv.NewStaffForum("Shop staff")
	thread, err := c.CreateTopic(t.Context(), forum, "Ann (Telegram)")
	require.NoError(t, err)
	id, err := c.Send(t.Context(), telegram.Target{ChatID: forum, ThreadID: thread}, telegram.Out{Text: "Customer: hi"})
	require.NoError(t, err)
	msgs := srv.ThreadMessages(forum, thread)
	require.NotEmpty(t, msgs)
	last := msgs[len(msgs)-1]
	require.Equal(t, id, last.ID)
	require.Equal(t, thread, last.ThreadID)
	require.Equal(t, "Customer: hi", last.Text)
}

func TestBusinessSendInsideAndOutsideWindow(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	owner := srv.NewCustomer("Owner")
	conn, err := srv.ConnectBusiness(owner)
	require.NoError(t, err)
	cust := srv.NewUser("Dana")

	userID, canReply, enabled, err := c.BusinessConnection(t.Context(), conn.ID)
	require.NoError(t, err)
	require.Equal(t, owner.ID, userID)
	require.True(t, canReply)
	require.True(t, enabled)

	to := telegram.Target{ChatID: cust.ID, BusinessConnectionID: conn.ID}
	// The customer never wrote: the window was never open.
	_, err = c.Send(t.Context(), to, telegram.Out{Text: "Your order"})
	require.True(t, telegram.IsBusinessWindowClosed(err), "%v", err)
	require.True(t, bot.IsPermanent(err))

	_, err = srv.BusinessCustomerSays(conn.ID, cust, "Hi, I want the blue one")
	require.NoError(t, err)
	id, err := c.Send(t.Context(), to, telegram.Out{Text: "Your order",
		Buttons: []orders.Button{{Label: "Pay now", URL: "https://pay.example/p/1"}}})
	require.NoError(t, err)
	msgs := srv.BusinessMessages(conn.ID, cust.ID)
	require.Equal(t, id, msgs[len(msgs)-1].ID)
	require.Equal(t, conn.ID, msgs[len(msgs)-1].BusinessConnectionID)
	require.Equal(t, owner.ID, msgs[len(msgs)-1].FromID, "sent on the owner's behalf")

	// A business message is edited through the connection.
	require.NoError(t, c.Edit(t.Context(), to, id, telegram.Out{Text: "Your order (paid)"}))
	msgs = srv.BusinessMessages(conn.ID, cust.ID)
	require.Equal(t, "Your order (paid)", msgs[len(msgs)-1].Text)

	srv.Advance(25 * time.Hour)
	_, err = c.Send(t.Context(), to, telegram.Out{Text: "Reminder"})
	require.True(t, telegram.IsBusinessWindowClosed(err), "%v", err)
	var p *bot.PermanentError
	require.ErrorAs(t, err, &p)
	require.Contains(t, p.Reason, "24 hours")

	_, err = srv.DisconnectBusiness(conn.ID)
	require.NoError(t, err)
	_, _, enabled, err = c.BusinessConnection(t.Context(), conn.ID)
	require.NoError(t, err)
	require.False(t, enabled)
	_, err = c.Send(t.Context(), to, telegram.Out{Text: "Hello?"})
	require.True(t, bot.IsPermanent(err))
	require.False(t, telegram.IsBusinessWindowClosed(err))
	require.ErrorAs(t, err, &p)
	require.Contains(t, p.Reason, "Business connection")

	_, _, _, err = c.BusinessConnection(t.Context(), "no-such-connection")
	require.True(t, bot.IsPermanent(err))
}

func TestEdit(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.NewCustomer("Eve")
	to := telegram.Target{ChatID: u.ChatID}
	id, err := c.Send(t.Context(), to, telegram.Out{Text: "Order #7",
		Buttons: []orders.Button{{Label: "Pay now", URL: "https://pay.example/p/7"}}})
	require.NoError(t, err)

	out := telegram.Out{Text: "Order #7 is paid", Buttons: []orders.Button{{Label: "Ship", Data: "ship:7"}}}
	require.NoError(t, c.Edit(t.Context(), to, id, out))
	m, ok := srv.Message(u.ChatID, id)
	require.True(t, ok)
	require.Equal(t, "Order #7 is paid", m.Text)
	require.Equal(t, [][]telegramtest.Button{{{Text: "Ship", CallbackData: "ship:7"}}}, m.Buttons)
	require.Len(t, m.Edits, 1)

	// The same content again is "message is not modified": success, no edit.
	require.NoError(t, c.Edit(t.Context(), to, id, out))
	m, _ = srv.Message(u.ChatID, id)
	require.Len(t, m.Edits, 1)

	// No buttons removes the keyboard.
	require.NoError(t, c.Edit(t.Context(), to, id, telegram.Out{Text: "Order #7 shipped"}))
	m, _ = srv.Message(u.ChatID, id)
	require.Nil(t, m.Buttons)
	require.Equal(t, "Order #7 shipped", m.Text)

	err = c.Edit(t.Context(), to, id+1000, out)
	require.True(t, bot.IsPermanent(err), "%v", err)
}

func TestTopics(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	forum := srv.NewStaffForum("Shop staff")

	thread, err := c.CreateTopic(t.Context(), forum, "   ")
	require.NoError(t, err)
	topics := srv.Topics(forum)
	require.Len(t, topics, 1)
	require.Equal(t, "Customer", topics[0].Name)

	long := strings.Repeat("Nguyễn ", 30) // 210 characters, multi-byte runes
	require.NoError(t, c.EditTopic(t.Context(), forum, thread, long))
	got := srv.Topics(forum)[0].Name
	require.True(t, utf8.ValidString(got))
	require.LessOrEqual(t, utf8.RuneCountInString(got), 128)
	require.True(t, strings.HasPrefix(long, got))
	require.Greater(t, utf8.RuneCountInString(got), 100)

	// Renaming to the current name is success.
	require.NoError(t, c.EditTopic(t.Context(), forum, thread, long))

	emoji := strings.Repeat("🛍", 100) // 200 UTF-16 units
	thread2, err := c.CreateTopic(t.Context(), forum, emoji)
	require.NoError(t, err)
	require.NotEqual(t, thread, thread2)
	name2 := srv.Topics(forum)[1].Name
	require.Equal(t, strings.Repeat("🛍", 64), name2)

	_, err = c.CreateTopic(t.Context(), srv.NewGroup("Not a forum"), "x")
	require.True(t, bot.IsPermanent(err))
}

func TestTopicName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Customer", telegram.TopicName(""))
	require.Equal(t, "Customer", telegram.TopicName(" \n "))
	require.Equal(t, "Ann", telegram.TopicName(" Ann "))
	require.Equal(t, strings.Repeat("a", 128), telegram.TopicName(strings.Repeat("a", 200)))
	require.Equal(t, strings.Repeat("a", 127), telegram.TopicName(strings.Repeat("a", 127)+"🛍"))
	require.Equal(t, "ab", telegram.TopicName("a\xffb"))
}

func TestDeletedTopicIsThreadNotFound(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	forum := srv.NewStaffForum("Shop staff")
	thread, err := c.CreateTopic(t.Context(), forum, "Ann")
	require.NoError(t, err)

	// Staff delete the topic (through the library directly: chatpay never does).
	lib, err := tg.New(srv.Token(), tg.WithServerURL(srv.URL()), tg.WithSkipGetMe())
	require.NoError(t, err)
	ok, err := lib.DeleteForumTopic(t.Context(), &tg.DeleteForumTopicParams{ChatID: forum, MessageThreadID: thread})
	require.NoError(t, err)
	require.True(t, ok)

	_, err = c.Send(t.Context(), telegram.Target{ChatID: forum, ThreadID: thread}, telegram.Out{Text: "hi"})
	require.True(t, telegram.IsThreadNotFound(err), "%v", err)
	require.False(t, bot.IsPermanent(err))
	requireNoToken(t, srv, err)

	err = c.EditTopic(t.Context(), forum, thread, "Ann (paid)")
	require.True(t, telegram.IsThreadNotFound(err), "%v", err)
	require.False(t, bot.IsPermanent(err))
}

func TestTooManyRequests(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.NewCustomer("Fay")
	srv.FailNext("sendMessage", 1, telegramtest.TooManyRequests(17))
	_, err := c.Send(t.Context(), telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: "hi"})
	d, ok := telegram.RetryAfter(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 17*time.Second, d)
	require.False(t, bot.IsPermanent(err))
	requireNoToken(t, srv, err)
	require.Equal(t, 1, srv.TooManyRequests())

	_, err = c.Send(t.Context(), telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: "hi"})
	require.NoError(t, err)
}

func TestServerErrorIsTransient(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.NewCustomer("Gus")
	for _, code := range []int{http.StatusInternalServerError, http.StatusBadGateway} {
		srv.FailNext("sendMessage", 1, telegramtest.ServerError(code, ""))
		_, err := c.Send(t.Context(), telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: "hi"})
		require.Error(t, err)
		require.False(t, bot.IsPermanent(err))
		_, ok := telegram.RetryAfter(err)
		require.False(t, ok)
		require.False(t, telegram.IsThreadNotFound(err))
		var te *telegram.Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, code, te.Code)
		require.Equal(t, "sendMessage", te.Method)
		requireNoToken(t, srv, err)
	}
}

func TestPermanentFailures(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	blocked := srv.NewCustomer("Hal")
	srv.BlockBot(blocked)
	stranger := srv.NewUser("Ivy")

	cases := []struct {
		chat     int64
		reason   string
		sentinel error
	}{
		{blocked.ChatID, "The customer blocked the bot.", tg.ErrorForbidden},
		{stranger.ChatID, "has not started a chat", tg.ErrorForbidden},
		{-100999999999, "Telegram does not know this chat.", tg.ErrorBadRequest},
	}
	for _, tc := range cases {
		_, err := c.Send(t.Context(), telegram.Target{ChatID: tc.chat}, telegram.Out{Text: "hi"})
		require.True(t, bot.IsPermanent(err), "%v", err)
		var p *bot.PermanentError
		require.ErrorAs(t, err, &p)
		require.Contains(t, p.Reason, tc.reason)
		// The original stays reachable for logs.
		inner := errors.Unwrap(err)
		require.NotNil(t, inner)
		var te *telegram.Error
		require.ErrorAs(t, inner, &te)
		require.NotZero(t, te.Code)
		require.ErrorIs(t, err, tc.sentinel)
		_, ok := telegram.RetryAfter(err)
		require.False(t, ok)
		requireNoToken(t, srv, err)
	}

	// Other bad requests get the same answer however often they are sent.
	willing := srv.NewCustomer("Mo")
	for text, reason := range map[string]string{
		" ":                       "The message is empty.",
		strings.Repeat("x", 4097): "longer than Telegram allows",
	} {
		_, err := c.Send(t.Context(), telegram.Target{ChatID: willing.ChatID}, telegram.Out{Text: text})
		var p *bot.PermanentError
		require.ErrorAs(t, err, &p)
		require.Contains(t, p.Reason, reason)
	}

	// A wrong token is permanent too, and still not printed.
	bad, err := telegram.New("7000000001:wrong-secret-xyz", srv.URL())
	require.NoError(t, err)
	_, _, err = bad.Me(t.Context())
	require.True(t, bot.IsPermanent(err))
	require.NotContains(t, err.Error(), "wrong-secret-xyz")
}

func TestTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, telegram.WithRequestTimeout(100*time.Millisecond))
	u := srv.NewCustomer("Jo")
	srv.FailNext("sendMessage", 1, telegramtest.Timeout(0))
	_, err := c.Send(t.Context(), telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: "hi"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, bot.IsPermanent(err))
	_, ok := telegram.RetryAfter(err)
	require.False(t, ok)
	requireNoToken(t, srv, err)

	// The caller's own cancellation shows as such.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.Send(ctx, telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: "hi"})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, bot.IsPermanent(err))
}

func TestConnectionRefusedIsTransientAndScrubbed(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	c, err := telegram.New(srv.Token(), srv.URL())
	require.NoError(t, err)
	srv.Close()
	_, err = c.Send(t.Context(), telegram.Target{ChatID: 1}, telegram.Out{Text: "hi"})
	require.False(t, bot.IsPermanent(err))
	requireNoToken(t, srv, err)
	_, err = c.GetUpdates(t.Context(), 0, 0, 10)
	require.False(t, bot.IsPermanent(err))
	requireNoToken(t, srv, err)
}

func TestAnswerCallbackAndCopy(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.NewCustomer("Kim")
	id, err := c.Send(t.Context(), telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: "Pick",
		Buttons: []orders.Button{{Label: "Blue", Data: "pick:blue"}}})
	require.NoError(t, err)
	cb, err := srv.PressButton(u, u.ChatID, id, "pick:blue")
	require.NoError(t, err)
	require.NoError(t, c.AnswerCallback(t.Context(), cb.ID, strings.Repeat("ok ", 100)))
	ans := srv.AnsweredCallbacks()
	require.Len(t, ans, 1)
	require.Equal(t, "pick:blue", ans[0].Data)
	require.Equal(t, 200, utf8.RuneCountInString(ans[0].Text))
	// A second answer is rejected: the query is spent.
	err = c.AnswerCallback(t.Context(), cb.ID, "")
	var p *bot.PermanentError
	require.ErrorAs(t, err, &p)
	require.Equal(t, "The button press is too old to answer.", p.Reason)

	in := srv.CustomerSays(u, "a photo, say")
	forum := srv.NewStaffForum("Staff")
	thread, err := c.CreateTopic(t.Context(), forum, u.FirstName)
	require.NoError(t, err)
	copyID, err := c.CopyMessage(t.Context(), telegram.Target{ChatID: forum, ThreadID: thread}, u.ChatID, in.MessageID)
	require.NoError(t, err)
	m, ok := srv.Message(forum, copyID)
	require.True(t, ok)
	require.Equal(t, thread, m.ThreadID)
	require.Equal(t, &telegramtest.MessageRef{ChatID: u.ChatID, MessageID: in.MessageID}, m.CopyOf)

	_, err = c.CopyMessage(t.Context(), telegram.Target{ChatID: u.ChatID, BusinessConnectionID: "bc"}, u.ChatID, in.MessageID)
	require.True(t, bot.IsPermanent(err))
}

func TestGetUpdates(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.NewCustomer("Lee")
	first := srv.CustomerSays(u, "one")
	srv.CustomerSays(u, "two")
	third := srv.CustomerSays(u, "three")

	ups, err := c.GetUpdates(t.Context(), 0, 0, 2)
	require.NoError(t, err)
	require.Len(t, ups, 2)
	require.Equal(t, first.UpdateID, ups[0].ID)
	require.Contains(t, string(ups[0].JSON), `"text":"one"`)
	require.Contains(t, string(ups[1].JSON), `"text":"two"`)

	// Nothing is confirmed until an offset passes it.
	again, err := c.GetUpdates(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	require.Len(t, again, 3)

	ups, err = c.GetUpdates(t.Context(), ups[1].ID+1, 0, 100)
	require.NoError(t, err)
	require.Len(t, ups, 1)
	require.Equal(t, third.UpdateID, ups[0].ID)
	require.Equal(t, 1, srv.PendingUpdates())

	// A long poll returns as soon as an update arrives.
	done := make(chan []telegram.RawUpdate, 1)
	go func() {
		ups, err := c.GetUpdates(context.Background(), third.UpdateID+1, 30*time.Second, 100)
		if err != nil {
			ups = nil
		}
		done <- ups
	}()
	require.NoError(t, waitFor(t.Context(), func() bool { return srv.PendingUpdates() == 0 }))
	fourth := srv.CustomerSays(u, "four")
	got := <-done
	require.Len(t, got, 1)
	require.Equal(t, fourth.UpdateID, got[0].ID)

	// A long poll with nothing to say ends empty after its wait.
	ups, err = c.GetUpdates(t.Context(), fourth.UpdateID+1, time.Second, 100)
	require.NoError(t, err)
	require.Empty(t, ups)

	srv.FailNext("getUpdates", 1, telegramtest.TooManyRequests(3))
	_, err = c.GetUpdates(t.Context(), 0, 0, 100)
	d, ok := telegram.RetryAfter(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 3*time.Second, d)
	requireNoToken(t, srv, err)

	srv.FailNext("getUpdates", 1, telegramtest.ServerError(http.StatusBadGateway, ""))
	_, err = c.GetUpdates(t.Context(), 0, 0, 100)
	require.Error(t, err)
	require.False(t, bot.IsPermanent(err))
	var te *telegram.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, http.StatusBadGateway, te.Code)
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func TestWebhookThenGetUpdatesConflicts(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	hook := httptestHook(t)
	require.NoError(t, c.SetWebhook(t.Context(), hook, "s3cret_token"))
	_, err := c.GetUpdates(t.Context(), 0, 0, 100)
	require.Error(t, err)
	require.True(t, telegram.IsConflict(err), "%v", err)
	require.ErrorIs(t, err, tg.ErrorConflict)
	require.False(t, bot.IsPermanent(err))
	requireNoToken(t, srv, err)

	require.NoError(t, c.DeleteWebhook(t.Context()))
	_, err = c.GetUpdates(t.Context(), 0, 0, 100)
	require.NoError(t, err)

	err = c.SetWebhook(t.Context(), hook, "bad secret!")
	require.True(t, bot.IsPermanent(err), "%v", err)
}

// httptestHook starts a webhook receiver that accepts everything.
func httptestHook(t *testing.T) string {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(hs.Close)
	return hs.URL + "/webhooks/telegram"
}

// countingTransport counts the requests that go through it.
type countingTransport struct {
	n atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestConcurrentUseThroughOwnHTTPClient(t *testing.T) {
	t.Parallel()
	rt := &countingTransport{}
	srv, c := setup(t, telegram.WithHTTPClient(&http.Client{Transport: rt}))
	users := make([]telegramtest.User, 8)
	for i := range users {
		users[i] = srv.NewCustomer("U")
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(users)*3)
	for _, u := range users {
		wg.Go(func() {
			_, err := c.Send(context.Background(), telegram.Target{ChatID: u.ChatID}, telegram.Out{Text: "hi"})
			errs <- err
		})
		wg.Go(func() {
			_, _, err := c.Me(context.Background())
			errs <- err
		})
		wg.Go(func() {
			_, err := c.GetUpdates(context.Background(), -1, 0, 1)
			// Parallel polls may end each other with a conflict, as on Telegram.
			if telegram.IsConflict(err) {
				err = nil
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, u := range users {
		require.Len(t, srv.Messages(u.ChatID), 1)
	}
	// Every call, the library's and the raw getUpdates, went through the
	// given client, and the racing Me calls asked Telegram once.
	require.Equal(t, int64(2*len(users)+1), rt.n.Load())
}
