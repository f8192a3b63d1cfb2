package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

func post(t *testing.T, s *telegramtest.Server, path, contentType string, body io.Reader) (int, rawResponse) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var r rawResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return resp.StatusCode, r
}

func TestBodyFormats(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	c := s.NewCustomer("Uma")
	path := "/bot" + s.Token() + "/sendMessage"
	markup := `{"inline_keyboard":[[{"text":"Pay now","url":"https://pay.example.com/x"}]]}`

	jsonBody, _ := json.Marshal(map[string]any{"chat_id": c.ChatID, "text": "json", "reply_markup": json.RawMessage(markup)})
	code, r := post(t, s, path, "application/json", bytes.NewReader(jsonBody))
	require.Equal(t, http.StatusOK, code, r.Description)

	form := "chat_id=" + itoa(c.ChatID) + "&text=form&reply_markup=" + strings.NewReplacer("{", "%7B", "}", "%7D", "[", "%5B", "]", "%5D", "\"", "%22", ":", "%3A", "/", "%2F", ",", "%2C", " ", "+").Replace(markup)
	code, r = post(t, s, path, "application/x-www-form-urlencoded", strings.NewReader(form))
	require.Equal(t, http.StatusOK, code, r.Description)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("chat_id", itoa(c.ChatID))
	_ = mw.WriteField("text", "multipart")
	_ = mw.WriteField("reply_markup", markup)
	require.NoError(t, mw.Close())
	code, r = post(t, s, path, mw.FormDataContentType(), &buf)
	require.Equal(t, http.StatusOK, code, r.Description)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+path+"?chat_id="+itoa(c.ChatID)+"&text=query", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	msgs := s.Messages(c.ChatID)
	require.Len(t, msgs, 4)
	for i, want := range []string{"json", "form", "multipart", "query"} {
		require.Equal(t, want, msgs[i].Text)
		if want != "query" {
			require.Equal(t, "https://pay.example.com/x", msgs[i].Buttons[0][0].URL)
		}
	}

	var result models.Message
	require.NoError(t, json.Unmarshal(r.Result, &result))
	require.Equal(t, msgs[2].ID, result.ID)
}

func TestErrorEnvelopes(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)

	code, r := post(t, s, "/bot"+s.Token()+"/sendSticker", "", nil)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, rawResponse{ErrorCode: 404, Description: "Not Found"}, r)

	code, r = post(t, s, "/bot1:nope/getMe", "", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "Unauthorized", r.Description)

	code, r = post(t, s, "/bot"+s.Token()+"/sendMessage", "application/json", strings.NewReader(`{"text":"hi"}`))
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "Bad Request: chat_id is empty", r.Description)

	s.FailNext("getMe", 1, telegramtest.TooManyRequests(3))
	code, r = post(t, s, "/bot"+s.Token()+"/getMe", "", nil)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, 3, r.Parameters.RetryAfter)
	require.Equal(t, "Too Many Requests: retry after 3", r.Description)

	// Bodies over 20 MB are refused.
	big := strings.NewReader("text=" + strings.Repeat("a", 21<<20))
	code, _ = post(t, s, "/bot"+s.Token()+"/sendMessage", "application/x-www-form-urlencoded", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
}

func TestLibraryErrorTypes(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	c := s.NewCustomer("Vic")
	s.FailNext("editMessageText", 1, telegramtest.ServerError(500, "Internal Server Error: restart"))
	_, err := b.EditMessageText(context.Background(), &bot.EditMessageTextParams{ChatID: c.ChatID, MessageID: 1, Text: "x"})
	require.ErrorContains(t, err, "500 Internal Server Error: restart")
	require.NotErrorIs(t, err, bot.ErrorBadRequest)
	_, err = b.EditMessageText(context.Background(), &bot.EditMessageTextParams{ChatID: c.ChatID, MessageID: 1, Text: "x"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func BenchmarkSendMessage(b *testing.B) {
	s := telegramtest.New(b, telegramtest.WithLimits(telegramtest.Limits{Global: 1e9}))
	client, err := bot.New(s.Token(), bot.WithServerURL(s.URL()), bot.WithSkipGetMe())
	require.NoError(b, err)
	c := s.NewCustomer("Bench")
	params := &bot.SendMessageParams{ChatID: c.ChatID, Text: "Order #B1", ReplyMarkup: payKeyboard()}
	b.ResetTimer()
	for b.Loop() {
		if _, err := client.SendMessage(context.Background(), params); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.Zero(b, s.TooManyRequests())
}
