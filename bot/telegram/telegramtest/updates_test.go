package telegramtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

type rawResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// rawCall posts form values the way curl -d does and decodes the envelope.
// It does not use t, so goroutines may call it.
func rawCall(ctx context.Context, s *telegramtest.Server, method string, form url.Values) (int, rawResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/bot"+s.Token()+"/"+method, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, rawResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, rawResponse{}, err
	}
	defer resp.Body.Close()
	var r rawResponse
	err = json.NewDecoder(resp.Body).Decode(&r)
	return resp.StatusCode, r, err
}

func call(t *testing.T, ctx context.Context, s *telegramtest.Server, method string, form url.Values) (int, rawResponse) {
	t.Helper()
	code, r, err := rawCall(ctx, s, method, form)
	require.NoError(t, err)
	return code, r
}

func updates(t *testing.T, r rawResponse) []models.Update {
	t.Helper()
	require.True(t, r.OK, r.Description)
	var us []models.Update
	require.NoError(t, json.Unmarshal(r.Result, &us))
	return us
}

func TestGetUpdatesOffsetLimitAndTimeout(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	c := s.NewCustomer("Ivy")
	first := s.CustomerSays(c, "one")
	s.CustomerSays(c, "two")
	third := s.CustomerSays(c, "three")
	require.Greater(t, third.UpdateID, first.UpdateID)

	_, r := call(t, t.Context(), s, "getUpdates", url.Values{"limit": {"2"}})
	us := updates(t, r)
	require.Len(t, us, 2)
	require.Equal(t, first.UpdateID, us[0].ID)
	require.Equal(t, "one", us[0].Message.Text)
	require.Equal(t, us[0].ID+1, us[1].ID)

	// Without an offset nothing is confirmed: the same updates come back.
	_, r = call(t, t.Context(), s, "getUpdates", nil)
	require.Len(t, updates(t, r), 3)

	// offset confirms everything before it.
	_, r = call(t, t.Context(), s, "getUpdates", url.Values{"offset": {strconv.FormatInt(third.UpdateID, 10)}})
	us = updates(t, r)
	require.Len(t, us, 1)
	require.Equal(t, "three", us[0].Message.Text)
	require.Equal(t, 1, s.PendingUpdates())

	// A long poll with nothing pending returns an empty list when its
	// timeout passes...
	_, r = call(t, t.Context(), s, "getUpdates", url.Values{"offset": {strconv.FormatInt(third.UpdateID+1, 10)}, "timeout": {"1"}})
	require.Empty(t, updates(t, r))
	require.Zero(t, s.PendingUpdates())

	// ...and as soon as an update arrives otherwise.
	done := make(chan []models.Update)
	go func() {
		_, r, _ := rawCall(t.Context(), s, "getUpdates", url.Values{"offset": {strconv.FormatInt(third.UpdateID+1, 10)}, "timeout": {"30"}})
		var us []models.Update
		_ = json.Unmarshal(r.Result, &us)
		done <- us
	}()
	// Whether the poll is already waiting or not, it returns the update.
	time.Sleep(10 * time.Millisecond)
	fourth := s.CustomerSays(c, "four")
	us = <-done
	require.Len(t, us, 1)
	require.Equal(t, fourth.UpdateID, us[0].ID)

	// A negative offset keeps only the newest updates.
	s.CustomerSays(c, "five")
	s.CustomerSays(c, "six")
	_, r = call(t, t.Context(), s, "getUpdates", url.Values{"offset": {"-1"}})
	us = updates(t, r)
	require.Len(t, us, 1)
	require.Equal(t, "six", us[0].Message.Text)
}

func TestGetUpdatesLongPollEndsWithTheRequest(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/bot"+s.Token()+"/getUpdates?timeout=50", nil)
		_, err := http.DefaultClient.Do(req)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
}

func TestGetUpdatesAllowedUpdates(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	c := s.NewCustomer("Jo")
	_, r := call(t, t.Context(), s, "getUpdates", url.Values{"allowed_updates": {`["callback_query"]`}})
	require.Empty(t, updates(t, r))

	// Filtered when created, as Telegram does.
	in := s.CustomerSays(c, "ignored")
	require.Zero(t, in.UpdateID)
	require.Zero(t, s.PendingUpdates())

	_, r = call(t, t.Context(), s, "getUpdates", url.Values{"allowed_updates": {`[]`}})
	require.Empty(t, updates(t, r))
	require.NotZero(t, s.CustomerSays(c, "seen").UpdateID)
}

func TestPollingWithTheLibrary(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	var (
		mu   sync.Mutex
		seen []string
	)
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()), bot.WithSkipGetMe(),
		bot.WithHTTPClient(2*time.Second, &http.Client{Timeout: 3 * time.Second}),
		bot.WithErrorsHandler(func(error) {}),
		bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, u *models.Update) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case u.Message != nil:
				seen = append(seen, u.Message.Text)
			case u.CallbackQuery != nil:
				seen = append(seen, "cb:"+u.CallbackQuery.Data)
				_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID, Text: "ok"})
			}
		}),
		bot.WithNotAsyncHandlers())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() { b.Start(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })

	c := s.NewCustomer("Kai")
	s.SendStart(c, "shop_42")
	s.CustomerSays(c, "I want the red one")
	msg, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "Order #K1", ReplyMarkup: payKeyboard()})
	require.NoError(t, err)
	cb, err := s.PressButton(c, c.ChatID, msg.ID, "cancel:42")
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 3 && len(s.AnsweredCallbacks()) == 1
	}, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"/start shop_42", "I want the red one", "cb:cancel:42"}, seen)
	require.Equal(t, cb.ID, s.AnsweredCallbacks()[0].ID)
	require.Empty(t, s.UnansweredCallbacks())
	// The library confirmed what it got with its next offset.
	require.Eventually(t, func() bool { return s.PendingUpdates() == 0 }, 30*time.Second, 5*time.Millisecond)

	// A second poller takes over; the emulator tells the first one so.
	_, r := call(t, t.Context(), s, "getUpdates", url.Values{"timeout": {"0"}})
	require.True(t, r.OK)
}

func TestPressButtonAndAnswerCallback(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	c := s.NewCustomer("Lu")
	msg, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "Order", ReplyMarkup: payKeyboard()})
	require.NoError(t, err)

	_, err = s.PressButton(c, c.ChatID, msg.ID, "no-such-data")
	require.Error(t, err)
	first, err := s.PressButton(c, c.ChatID, msg.ID, "help")
	require.NoError(t, err)
	second, err := s.PressButton(c, c.ChatID, msg.ID, "cancel:42")
	require.NoError(t, err)
	require.NotEqual(t, first.ID, second.ID)

	_, r := call(t, t.Context(), s, "getUpdates", nil)
	us := updates(t, r)
	require.Len(t, us, 2)
	q := us[0].CallbackQuery
	require.Equal(t, first.ID, q.ID)
	require.Equal(t, "help", q.Data)
	require.Equal(t, c.ID, q.From.ID)
	require.Equal(t, msg.ID, q.Message.Message.ID)
	require.Equal(t, "Order", q.Message.Message.Text)

	ok, err := b.AnswerCallbackQuery(t.Context(), &bot.AnswerCallbackQueryParams{CallbackQueryID: first.ID, Text: "Here to help"})
	require.NoError(t, err)
	require.True(t, ok)
	_, err = b.AnswerCallbackQuery(t.Context(), &bot.AnswerCallbackQueryParams{CallbackQueryID: first.ID})
	require.ErrorContains(t, err, "query is too old")
	require.Equal(t, []string{second.ID}, s.UnansweredCallbacks())
	require.Equal(t, "Here to help", s.AnsweredCallbacks()[0].Text)
}

func TestGetUpdatesConflictsWithWebhookAndOtherPoll(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(hook.Close)

	// A waiting long poll is ended by a newer one.
	first := make(chan int, 1)
	go func() {
		code, _, _ := rawCall(t.Context(), s, "getUpdates", url.Values{"timeout": {"30"}})
		first <- code
	}()
	var firstCode int
	require.Eventually(t, func() bool {
		if code, _, err := rawCall(t.Context(), s, "getUpdates", url.Values{"timeout": {"0"}}); err != nil || code != http.StatusOK {
			return false
		}
		select {
		case firstCode = <-first:
			return true
		default:
			return false
		}
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, http.StatusConflict, firstCode)

	ok, err := b.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: hook.URL, SecretToken: "s3cret"})
	require.NoError(t, err)
	require.True(t, ok)
	code, r := call(t, t.Context(), s, "getUpdates", nil)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, r.Description, "webhook is active")

	info, err := b.GetWebhookInfo(t.Context())
	require.NoError(t, err)
	require.Equal(t, hook.URL, info.URL)

	_, err = b.DeleteWebhook(t.Context(), &bot.DeleteWebhookParams{})
	require.NoError(t, err)
	code, _ = call(t, t.Context(), s, "getUpdates", nil)
	require.Equal(t, http.StatusOK, code)
}

func TestWebhookRetriesUntil2xxInOrderWithSecret(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	var (
		mu       sync.Mutex
		attempts int
		got      []int64
		secrets  []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		secrets = append(secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		// The first two deliveries fail, so the first update is retried.
		if attempts <= 2 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var u models.Update
		if json.Unmarshal(body, &u) == nil {
			got = append(got, u.ID)
		}
	}))
	t.Cleanup(hook.Close)

	c := s.NewCustomer("Max")
	a := s.CustomerSays(c, "first")
	_, err := b.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: hook.URL, SecretToken: "s3cret-token_1"})
	require.NoError(t, err)
	z := s.CustomerSays(c, "second")

	require.Eventually(t, func() bool { return s.WebhookDeliveries() == 2 }, 30*time.Second, 2*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []int64{a.UpdateID, z.UpdateID}, got)
	require.Equal(t, 4, attempts)
	require.Equal(t, 4, s.WebhookAttempts())
	for _, sec := range secrets {
		require.Equal(t, "s3cret-token_1", sec)
	}
	require.Zero(t, s.PendingUpdates())

	_, err = b.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: hook.URL, SecretToken: "bad token!"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
}

func TestWebhookWithTheLibrarysHandler(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	texts := make(chan string, 4)
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()), bot.WithWebhookSecretToken("tok"),
		bot.WithErrorsHandler(func(error) {}),
		bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) {
			if u.Message != nil {
				texts <- u.Message.Text
			}
		}))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() { b.StartWebhook(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	hook := httptest.NewServer(b.WebhookHandler())
	t.Cleanup(hook.Close)

	_, err = b.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: hook.URL, SecretToken: "tok"})
	require.NoError(t, err)
	s.CustomerSays(s.NewCustomer("Ned"), "via webhook")
	select {
	case got := <-texts:
		require.Equal(t, "via webhook", got)
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook handler never got the update")
	}
}
