// Package telegram is chatpay's Telegram adapter. Client is the low-level Bot API
// client: it sends, edits and copies messages, manages forum topics for staff,
// answers callback queries, reads business connections and fetches updates, and
// classifies every failure (errors.go) so the delivery job knows whether to
// retry, wait or give up.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/chatpay/chatpay/orders"
)

// DefaultAPIURL is Telegram's Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Limits Telegram documents.
const (
	// maxTopicName is a forum topic name's limit, in characters.
	maxTopicName = 128
	// maxCallbackAnswer is answerCallbackQuery's text limit.
	maxCallbackAnswer = 200
	// maxCallbackData is a callback button's data limit, in bytes.
	maxCallbackData = 64
	// maxUpdatesBody caps a getUpdates answer: 100 updates of a few KB each fit
	// many times over, and a broken proxy cannot make us read without end.
	maxUpdatesBody = 32 << 20
)

// defaultTopicName names a topic whose customer has no usable name.
const defaultTopicName = "Customer"

// Target is where a message goes: a chat, optionally a forum topic, optionally on
// behalf of a business account (Telegram Business).
type Target struct {
	ChatID               int64
	ThreadID             int    // forum topic (message_thread_id); 0 for none
	BusinessConnectionID string // send on the owner's behalf; "" for none
	// ReplyTo is the message a new message answers (0 for none): in a group's
	// comment thread, a reply is how a message joins the thread.
	ReplyTo int
}

// Out is a message's content: text (sent as plain text, never parsed as HTML or
// Markdown, so customer-supplied names cannot inject markup) and inline buttons,
// one per row; a button with URL is a url button, with Data a callback button.
type Out struct {
	Text    string
	Buttons []orders.Button
}

// RawUpdate is one update as getUpdates returned it. JSON is kept verbatim
// because the caller stores the raw update before acting on it.
type RawUpdate struct {
	ID   int64
	JSON []byte
}

// Option configures a Client.
type Option func(*options)

type options struct {
	httpClient     *http.Client
	requestTimeout time.Duration
	allowedUpdates []string
	logger         *slog.Logger
}

// WithHTTPClient makes the Client use hc for every call. Give it no overall
// Timeout (or one above the longest long poll): the Client sets a deadline per
// call itself.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithRequestTimeout bounds each call (default 30 seconds); getUpdates gets its
// long-poll wait on top.
func WithRequestTimeout(d time.Duration) Option {
	return func(o *options) { o.requestTimeout = d }
}

// WithAllowedUpdates sets the update kinds getUpdates and setWebhook ask for
// (models.AllowedUpdate* names); by default Telegram's own default applies.
func WithAllowedUpdates(kinds ...string) Option {
	return func(o *options) { o.allowedUpdates = kinds }
}

// WithLogger receives the library's internal errors (already scrubbed of the
// token), at debug level. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Client talks to the Bot API as one bot (one token). It is safe for concurrent
// use; it starts no polling of its own.
type Client struct {
	api     *tg.Bot
	http    *http.Client
	token   string
	baseURL string
	opts    options

	meMu     sync.Mutex
	meID     int64
	meName   string
	meCached bool
}

// newHTTPClient bounds each phase that can hang (dial, TLS, idle connections)
// and leaves the whole exchange to the per-call deadline, because a long poll
// legitimately waits for most of a minute.
func newHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
	}}
}

// New makes a Client for token against apiURL ("" means api.telegram.org). It
// makes no network call: Me asks Telegram who the bot is when first needed.
func New(token, apiURL string, opts ...Option) (*Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("telegram: the bot token is empty")
	}
	if strings.ContainsAny(token, "/?# \t\n") || !strings.Contains(token, ":") {
		// Never echo the token, even a wrong one: it may still be a secret.
		return nil, errors.New("telegram: the bot token is malformed; it looks like 123456:ABC-DEF")
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telegram: api_url %q is not an http(s) URL", apiURL)
	}
	apiURL = strings.TrimRight(apiURL, "/")

	o := options{requestTimeout: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = newHTTPClient()
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.requestTimeout <= 0 {
		o.requestTimeout = 30 * time.Second
	}
	c := &Client{http: o.httpClient, token: token, baseURL: apiURL, opts: o}
	api, err := tg.New(token,
		tg.WithServerURL(apiURL),
		tg.WithSkipGetMe(),
		tg.WithHTTPClient(o.requestTimeout, o.httpClient),
		tg.WithErrorsHandler(func(err error) {
			o.logger.Debug("telegram client", "err", c.scrub(err.Error()))
		}),
		tg.WithDefaultHandler(func(context.Context, *tg.Bot, *models.Update) {}),
	)
	if err != nil {
		return nil, errors.New("telegram: " + c.scrub(err.Error()))
	}
	c.api = api
	return c, nil
}

// callCtx bounds one call by the request timeout (plus extra for long polls)
// unless ctx already ends sooner.
func (c *Client) callCtx(ctx context.Context, extra time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.requestTimeout+extra)
}

// Me returns the bot's user id and username (getMe), asking Telegram only until
// the first success.
func (c *Client) Me(ctx context.Context) (id int64, username string, err error) {
	c.meMu.Lock()
	defer c.meMu.Unlock()
	if c.meCached {
		return c.meID, c.meName, nil
	}
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	u, err := c.api.GetMe(ctx)
	if err != nil {
		return 0, "", c.classify("getMe", err)
	}
	c.meID, c.meName, c.meCached = u.ID, u.Username, true
	return u.ID, u.Username, nil
}

// markup builds the inline keyboard, one button per row. It returns nil (no
// reply_markup at all) for no buttons: a typed nil in the library's interface
// field would be sent as a field.
func markup(method string, buttons []orders.Button) (models.ReplyMarkup, error) {
	if len(buttons) == 0 {
		return nil, nil
	}
	rows := make([][]models.InlineKeyboardButton, 0, len(buttons))
	for _, b := range buttons {
		switch {
		case strings.TrimSpace(b.Label) == "":
			return nil, invalid(method, "A button in the message has no label.")
		case b.URL != "" && b.Data != "":
			return nil, invalid(method, fmt.Sprintf("The button %q has both a link and data; it may have one.", b.Label))
		case b.URL == "" && b.Data == "":
			return nil, invalid(method, fmt.Sprintf("The button %q has neither a link nor data.", b.Label))
		case len(b.Data) > maxCallbackData:
			return nil, invalid(method, fmt.Sprintf("The button %q carries more than %d bytes of data.", b.Label, maxCallbackData))
		}
		button := models.InlineKeyboardButton{Text: b.Label, URL: b.URL, CallbackData: b.Data}
		if b.SameRow && len(rows) > 0 {
			rows[len(rows)-1] = append(rows[len(rows)-1], button)
			continue
		}
		rows = append(rows, []models.InlineKeyboardButton{button})
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}, nil
}

// Send posts out to the target and returns Telegram's message id.
func (c *Client) Send(ctx context.Context, to Target, out Out) (messageID int, err error) {
	const method = "sendMessage"
	kb, err := markup(method, out.Buttons)
	if err != nil {
		return 0, err
	}
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	// ParseMode stays empty: the text is plain, so a customer called "<b>x</b>"
	// is shown exactly so.
	params := &tg.SendMessageParams{
		BusinessConnectionID: to.BusinessConnectionID,
		ChatID:               to.ChatID,
		MessageThreadID:      to.ThreadID,
		Text:                 out.Text,
		ReplyMarkup:          kb,
	}
	if to.ReplyTo != 0 {
		// The answered message may have been deleted; the message still goes.
		params.ReplyParameters = &models.ReplyParameters{MessageID: to.ReplyTo, AllowSendingWithoutReply: true}
	}
	m, err := c.api.SendMessage(ctx, params)
	if err != nil {
		return 0, c.classify(method, err)
	}
	return m.ID, nil
}

// Edit replaces the text and buttons of a message the bot sent. An edit that
// changes nothing succeeds: the message already shows out. A message sent on a
// business account's behalf is edited through the same connection. ThreadID is
// not needed: message ids are unique per chat.
func (c *Client) Edit(ctx context.Context, to Target, messageID int, out Out) error {
	const method = "editMessageText"
	kb, err := markup(method, out.Buttons)
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	// Without reply_markup Telegram removes the keyboard, which is what no
	// buttons mean here.
	_, err = c.api.EditMessageText(ctx, &tg.EditMessageTextParams{
		BusinessConnectionID: to.BusinessConnectionID,
		ChatID:               to.ChatID,
		MessageID:            messageID,
		Text:                 out.Text,
		ReplyMarkup:          kb,
	})
	if err = c.classify(method, err); err != nil && !isNotModified(err) {
		return err
	}
	return nil
}

// TopicName makes name fit a forum topic: trimmed, cut to Telegram's 128
// characters on a rune boundary, "Customer" when nothing is left. Telegram
// counts UTF-16 code units, so an emoji counts twice and the cut is never late.
func TopicName(name string) string {
	name = strings.TrimSpace(strings.ToValidUTF8(name, ""))
	units := 0
	for i, r := range name {
		n := utf16.RuneLen(r)
		if n < 0 {
			n = 1
		}
		if units+n > maxTopicName {
			name = name[:i]
			break
		}
		units += n
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return defaultTopicName
	}
	return name
}

// CreateTopic opens a forum topic named for a customer in the staff forum and
// returns its message_thread_id.
func (c *Client) CreateTopic(ctx context.Context, chatID int64, name string) (threadID int, err error) {
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	t, err := c.api.CreateForumTopic(ctx, &tg.CreateForumTopicParams{ChatID: chatID, Name: TopicName(name)})
	if err != nil {
		return 0, c.classify("createForumTopic", err)
	}
	return t.MessageThreadID, nil
}

// EditTopic renames a topic; renaming to the current name succeeds.
func (c *Client) EditTopic(ctx context.Context, chatID int64, threadID int, name string) error {
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	_, err := c.api.EditForumTopic(ctx, &tg.EditForumTopicParams{ChatID: chatID, MessageThreadID: threadID, Name: TopicName(name)})
	if err = c.classify("editForumTopic", err); err != nil && !isNotModified(err) {
		return err
	}
	return nil
}

// AnswerCallback acknowledges a pressed button, so the client stops its
// spinner; text (cut to 200 characters) shows as a brief notice, "" shows none.
func (c *Client) AnswerCallback(ctx context.Context, callbackID, text string) error {
	if utf8.RuneCountInString(text) > maxCallbackAnswer {
		text = string([]rune(text)[:maxCallbackAnswer])
	}
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	_, err := c.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: callbackID, Text: text})
	return c.classify("answerCallbackQuery", err)
}

// CopyMessage copies a message (any kind: photo, voice, sticker) from
// fromChatID into the target without a "forwarded from" header, and returns the
// copy's id. It mirrors a customer's non-text message into a staff topic.
// Telegram has no business_connection_id for copyMessage, so a business target
// is refused.
func (c *Client) CopyMessage(ctx context.Context, to Target, fromChatID int64, messageID int) (int, error) {
	const method = "copyMessage"
	if to.BusinessConnectionID != "" {
		return 0, invalid(method, "Telegram cannot copy a message on a business account's behalf.")
	}
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	id, err := c.api.CopyMessage(ctx, &tg.CopyMessageParams{
		ChatID: to.ChatID, MessageThreadID: to.ThreadID, FromChatID: fromChatID, MessageID: messageID,
	})
	if err != nil {
		return 0, c.classify(method, err)
	}
	return id.ID, nil
}

// SetWebhook makes Telegram push updates to url, with secret in the
// X-Telegram-Bot-Api-Secret-Token header of each delivery. While it is set,
// GetUpdates fails with a conflict.
func (c *Client) SetWebhook(ctx context.Context, url, secret string) error {
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	_, err := c.api.SetWebhook(ctx, &tg.SetWebhookParams{URL: url, SecretToken: secret, AllowedUpdates: c.opts.allowedUpdates})
	return c.classify("setWebhook", err)
}

// DeleteWebhook switches the bot back to getUpdates. Pending updates are kept.
func (c *Client) DeleteWebhook(ctx context.Context) error {
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	_, err := c.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{})
	return c.classify("deleteWebhook", err)
}

// BusinessConnection reads a Telegram Business connection: the owner's user id,
// whether the bot may reply on their behalf, and whether the connection is on.
func (c *Client) BusinessConnection(ctx context.Context, id string) (userID int64, canReply bool, enabled bool, err error) {
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	bc, err := c.api.GetBusinessConnection(ctx, &tg.GetBusinessConnectionParams{BusinessConnectionID: id})
	if err != nil {
		return 0, false, false, c.classify("getBusinessConnection", err)
	}
	return bc.User.ID, bc.Rights != nil && bc.Rights.CanReply, bc.IsEnabled, nil
}

// IsAdmin reports whether userID is the creator or an administrator of the
// group or channel chatID (getChatMember). An administrator writing
// anonymously sends as Telegram's GroupAnonymousBot with the group as
// sender_chat, so callers check sender_chat before asking about from.
func (c *Client) IsAdmin(ctx context.Context, chatID, userID int64) (bool, error) {
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	m, err := c.api.GetChatMember(ctx, &tg.GetChatMemberParams{ChatID: chatID, UserID: userID})
	if err != nil {
		return false, c.classify("getChatMember", err)
	}
	return m.Type == models.ChatMemberTypeOwner || m.Type == models.ChatMemberTypeAdministrator, nil
}

// LinkedChat returns the chat linked to chatID (getChat's linked_chat_id): a
// channel's discussion group, or the channel a discussion group belongs to;
// 0 when there is none.
func (c *Client) LinkedChat(ctx context.Context, chatID int64) (int64, error) {
	ctx, cancel := c.callCtx(ctx, 0)
	defer cancel()
	info, err := c.api.GetChat(ctx, &tg.GetChatParams{ChatID: chatID})
	if err != nil {
		return 0, c.classify("getChat", err)
	}
	return info.LinkedChatID, nil
}

type getUpdatesRequest struct {
	Offset         int64    `json:"offset,omitempty"`
	Limit          int      `json:"limit,omitempty"`
	Timeout        int      `json:"timeout,omitempty"`
	AllowedUpdates []string `json:"allowed_updates,omitempty"`
}

// GetUpdates long-polls once. offset confirms every update below it (pass the
// last stored update_id + 1); timeout is how long Telegram may wait for an
// update (whole seconds; 0 answers at once); limit is 1 to 100 (0 means 100).
// Each update comes back raw with its update_id, oldest first.
//
// go-telegram/bot runs its own poller and does not expose getUpdates with our
// offset, so this is a plain JSON POST through the same http.Client, with
// failures mapped as for the other methods.
func (c *Client) GetUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]RawUpdate, error) {
	const method = "getUpdates"
	secs := 0
	if timeout > 0 {
		secs = max(1, int((timeout+time.Second/2)/time.Second))
	}
	body, err := json.Marshal(getUpdatesRequest{Offset: offset, Limit: min(max(limit, 0), 100), Timeout: secs,
		AllowedUpdates: c.opts.allowedUpdates})
	if err != nil {
		return nil, c.classify(method, err)
	}
	ctx, cancel := c.callCtx(ctx, time.Duration(secs)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/bot"+c.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, c.classify(method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.scrubURL(err)
		return nil, c.classify(method, fmt.Errorf("error do request for method %s, %w", method, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxUpdatesBody+1))
	if err != nil {
		return nil, c.classify(method, fmt.Errorf("error read response body for method %s, %w", method, err))
	}
	if len(data) > maxUpdatesBody {
		return nil, c.classify(method, fmt.Errorf("response body for method %s is over %d bytes", method, maxUpdatesBody))
	}
	ups, err := decodeUpdates(resp.StatusCode, data)
	return ups, c.classify(method, err)
}

// envelope is the Bot API's answer.
type envelope struct {
	OK          bool              `json:"ok"`
	Result      []json.RawMessage `json:"result"`
	ErrorCode   int               `json:"error_code"`
	Description string            `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// decodeUpdates reads a getUpdates answer. A body that is not Telegram's JSON
// (a proxy's HTML error page) is an error carrying the HTTP status, so a 502
// stays transient.
func decodeUpdates(status int, data []byte) ([]RawUpdate, error) {
	const method = "getUpdates"
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		if status >= 300 {
			return nil, apiFailure(method, status, http.StatusText(status), 0, 0)
		}
		return nil, fmt.Errorf("error decode response body for method %s, %w", method, err)
	}
	if !env.OK {
		code := env.ErrorCode
		if code == 0 {
			code = status
		}
		return nil, apiFailure(method, code, env.Description, env.Parameters.RetryAfter, int(env.Parameters.MigrateToChatID))
	}
	out := make([]RawUpdate, 0, len(env.Result))
	for i, raw := range env.Result {
		var head struct {
			ID *int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.ID == nil {
			// Without its id an update cannot be confirmed or deduplicated.
			return nil, fmt.Errorf("error decode response result for method %s: update %d has no update_id", method, i)
		}
		out = append(out, RawUpdate{ID: *head.ID, JSON: bytes.Clone(raw)})
	}
	return out, nil
}
