package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/ratelimit/memory"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The customer's web chat (the built-in channel): a page per conversation at a secret
// URL, and a widget a shop puts on its own site with one script tag.
//
//	GET  /widget.js                  the widget (data-shop names the shop)
//	GET  /chat/{shop}/new            a page that starts a chat (its script resumes
//	                                 the visitor's chat if this browser has one)
//	POST /chat/{shop}/new            starts a visitor's conversation → 303 to its page
//	GET  /chat/{token}               the conversation: transcript and message form
//	POST /chat/{token}/messages      the customer writes → 303 back (JSON with script)
//	GET  /chat/{token}/messages      the latest messages as JSON (?after=ID trims)
//	GET  /chat/{token}/events        server-sent events: this conversation changed
//	POST /api/v1/chats               (API key) the chat page of the shop's own
//	                                 customer id: {"external_id", "name"} → its URL
//
// The token (orders.Service.ChatToken) is the only credential, like a pay link's: an
// unknown or forged one is 404, and nothing is told apart. The chat pages may be
// framed by chatpay itself and by the shop's webchat.allowed_origins; every other
// page keeps frame-ancestors 'none'.
//
// Starting a chat changes state, so it is a POST: a GET that opened conversations
// would open one for every crawler, link preview and prefetch of a shared chat link.
// The start page's script posts its form at once inside the widget, so a visitor
// still gets their chat with one tap on the widget's button.

const (
	chatPrefix = "/chat/"
	// maxChatForm bounds a message form: MaxChatText characters of up to 4 bytes,
	// each percent-encoded (3 bytes per byte), and the nonce.
	maxChatForm = 64 << 10
	// chatPageMessages is how many of the latest messages the page shows.
	chatPageMessages = 50
	// chatLateCommit is how far before the message a reader last saw the messages
	// route still looks: a message is stamped when its transaction starts and seen
	// when it commits, so one stamped earlier may commit later. The page skips the
	// messages it has.
	chatLateCommit = time.Minute
	// A visitor may send chatSendLimit messages per chatSendWindow, and one address
	// may start chatStartLimit chats per chatStartWindow; past that, 429. They are
	// counted by Config.ChatLimiter: across replicas when it is kept in Redis, so
	// spreading requests over replicas gains nothing.
	chatSendLimit   = 20
	chatSendWindow  = time.Minute
	chatStartLimit  = 30
	chatStartWindow = 10 * time.Minute
	// chatLimitTimeout bounds how long a request waits for the limiter: a Redis that
	// hangs must not hang the chat (see webchat.reserve).
	chatLimitTimeout = time.Second
	// maxChatKeyID is the longest id a limiter key carries as it is; longer ones are
	// hashed (chatLimitKey).
	maxChatKeyID = 64
	// maxChatStreams is how many event streams one conversation may hold open at a
	// time on one process: a few tabs, not a flood of connections.
	maxChatStreams = 5
	// maxChatStreamsPerIP is how many event streams one client address may hold open
	// at a time on one process, over all its conversations: starting chats is cheap,
	// so the per-conversation bound alone would let one address hold any number. A
	// visitor refused falls back to polling (chat.js).
	maxChatStreamsPerIP = 32
)

// Why a message was refused, as the page names it (WebChatView.Error) and as the JSON
// answer to the page's script does.
const (
	chatTooFast = "too_fast"
	chatTooLong = "too_long"
	chatExpired = "expired"
)

// webchat holds the web chat's state: its rate limiter and this process's open
// streams.
type webchat struct {
	s *Server
	// limits counts the rate limits (Config.ChatLimiter); local stands in for it, in
	// this process, while it fails.
	limits bot.Limiter
	local  bot.Limiter

	streams   *streamCounts // by conversation ID
	ipStreams *streamCounts // by client address
}

// webchatRoutes registers its routes on r. The customer's web chat page and the embeddable widget.
func (s *Server) webchatRoutes(r *gin.RouterGroup) {
	w := &webchat{
		s:         s,
		limits:    s.chatLimiter,
		local:     memory.New(memory.Options{}),
		streams:   &streamCounts{max: maxChatStreams, open: map[string]int{}},
		ipStreams: &streamCounts{max: maxChatStreamsPerIP, open: map[string]int{}},
	}
	if w.limits == nil {
		w.limits = w.local // counted in this process; it never fails, so no fallback is needed
	}
	r.GET("/widget.js", w.widget)
	// gin allows one wildcard name per path segment, so the start routes' shop ID
	// is the :token segment too.
	r.GET(chatPrefix+":token/new", w.startPage)
	r.POST(chatPrefix+":token/new", s.sameOrigin, w.start)
	r.GET(chatPrefix+":token", w.page)
	r.POST(chatPrefix+":token/messages", w.send)
	r.GET(chatPrefix+":token/messages", w.messages)
	r.GET(chatPrefix+":token/events", w.events)
	r.POST("/api/v1/chats", s.authenticate, w.openChat)
}

// openChat gives a shop the chat page of a customer it knows by its own id, so its
// site can link a signed-in customer to their conversation, and the orders it makes
// for that id through the API reach a page the customer can open. The same id always
// gets the same conversation and URL.
func (w *webchat) openChat(c *gin.Context) {
	body, err := readBody(c.Writer, c.Request)
	if err != nil {
		w.s.apiError(c, err, http.StatusBadRequest)
		return
	}
	var in struct {
		ExternalID externalID `json:"external_id"`
		Name       string     `json:"name"`
	}
	if err := decodeJSON(body, &in, "", true); err != nil {
		w.s.apiError(c, err, http.StatusBadRequest)
		return
	}
	conv, err := w.s.svc.OpenWebChat(c.Request.Context(), shopID(c), string(in.ExternalID), in.Name)
	if err != nil {
		w.s.apiError(c, err, http.StatusBadRequest)
		return
	}
	u, err := w.s.svc.ChatURL(conv)
	if err != nil {
		w.s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusOK, gin.H{"conversation_id": conv.ID, "external_id": conv.ExternalID, "url": u})
}

// widget serves the embeddable script. Shops' sites load it from their own pages, so
// it says it may be used across origins.
func (w *webchat) widget(c *gin.Context) {
	b, err := fs.ReadFile(assetFiles, "widget.js")
	if err != nil {
		w.s.pageError(c, err, nil)
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Header("Cross-Origin-Resource-Policy", "cross-origin")
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", b)
}

// chatPath is a conversation's page path.
func chatPath(token string) string { return chatPrefix + token }

// allowFraming lets the shop's chat pages be framed by chatpay (the demo) and by the
// shop's own sites (the widget), instead of by no one.
func allowFraming(c *gin.Context, shop *orders.Shop) {
	ancestors := "frame-ancestors 'self'"
	for _, o := range shop.WebChatOrigins {
		// Configuration checks origins; this keeps anything else out of the header.
		if o != "" && !strings.ContainsAny(o, " \t\r\n;,'\"") {
			ancestors += " " + o
		}
	}
	c.Header("Content-Security-Policy", strings.Replace(cspBase, "frame-ancestors 'none'", ancestors, 1))
	// Browsers that know frame-ancestors ignore X-Frame-Options; older ones only know
	// it, and it cannot name other origins.
	if len(shop.WebChatOrigins) == 0 {
		c.Header("X-Frame-Options", "SAMEORIGIN")
	} else {
		c.Writer.Header().Del("X-Frame-Options")
	}
	c.Header("X-Robots-Tag", "noindex, nofollow")
}

// startPage offers to start a chat with the shop.
func (w *webchat) startPage(c *gin.Context) {
	shop, err := w.s.svc.Shop(c.Param("token"))
	if err != nil {
		w.s.pageError(c, err, nil)
		return
	}
	allowFraming(c, shop)
	w.s.renderPage(c, http.StatusOK, "webchat_start", templates.PageView{
		Locale: shop.Locale, ShopName: shop.Name, ShopID: shop.ID,
		FormAction: chatPrefix + shop.ID + "/new", Assets: []string{"chat.js"},
	})
}

// start opens a conversation for a new visitor and sends them to its page.
func (w *webchat) start(c *gin.Context) {
	shop, err := w.s.svc.Shop(c.Param("token"))
	if err != nil {
		w.s.pageError(c, err, nil)
		return
	}
	start := bot.Limit{Key: chatLimitKey("start", c.ClientIP()), Events: chatStartLimit, Per: chatStartWindow}
	if wait := w.reserve(c.Request.Context(), "start", start); wait > 0 {
		c.Header("Retry-After", retryAfter(wait))
		// Shown inside the widget's frame, where a page that may not be framed would
		// leave only the browser's own error.
		allowFraming(c, shop)
		w.s.renderPage(c, http.StatusTooManyRequests, "error", templates.PageView{Locale: shop.Locale, ShopName: shop.Name})
		return
	}
	conv, err := w.s.svc.StartWebChat(c.Request.Context(), shop.ID)
	if err != nil {
		w.s.pageError(c, err, shop)
		return
	}
	tok, err := w.s.svc.ChatToken(conv)
	if err != nil {
		w.s.pageError(c, err, shop)
		return
	}
	c.Redirect(http.StatusSeeOther, chatPath(tok))
}

// conversation finds the conversation and shop of the request's token. It answers
// the request itself (404, as a page or JSON) when there is none.
func (w *webchat) conversation(c *gin.Context, asJSON bool) (*orders.Conversation, *orders.Shop, bool) {
	conv, err := w.s.svc.ConversationByChatToken(c.Request.Context(), c.Param("token"))
	var shop *orders.Shop
	if err == nil {
		shop, err = w.s.svc.Shop(conv.ShopID)
	}
	if err != nil {
		if asJSON {
			w.s.apiError(c, err, http.StatusBadRequest)
		} else {
			w.s.pageError(c, err, nil)
		}
		return nil, nil, false
	}
	return conv, shop, true
}

// page shows the conversation.
func (w *webchat) page(c *gin.Context) {
	conv, shop, ok := w.conversation(c, false)
	if !ok {
		return
	}
	w.render(c, http.StatusOK, conv, shop, "", "")
}

// render draws the chat page: the latest messages and a form with a fresh nonce,
// holding draft and saying why it was refused when reason is set.
func (w *webchat) render(c *gin.Context, status int, conv *orders.Conversation, shop *orders.Shop, draft, reason string) {
	t, err := w.s.svc.Transcript(c.Request.Context(), shop.ID, conv.ID, orders.MessageFilter{Limit: chatPageMessages})
	if err != nil {
		w.s.pageError(c, err, shop)
		return
	}
	tok := c.Param("token")
	view := &templates.WebChatView{
		Path: chatPath(tok), Earlier: !t.Older.IsZero(), Nonce: orders.NewLinkToken(),
		Draft: draft, Error: reason, MaxText: orders.MaxChatText,
	}
	now := time.Now()
	for _, m := range t.Messages {
		if v, ok := chatMessage(m, now); ok {
			view.Messages = append(view.Messages, v)
		}
	}
	allowFraming(c, shop)
	w.s.renderPage(c, status, "webchat", templates.PageView{
		Locale: shop.Locale, ShopName: shop.Name, ShopID: shop.ID,
		FormAction: chatPath(tok) + "/messages", Assets: []string{"chat.js"}, WebChat: view,
	})
}

// chatMessage is how the customer sees a message, ok false for one they never see:
// what goes to the shop's staff, and what chatpay failed to deliver.
func chatMessage(m *orders.Message, now time.Time) (templates.WebChatMessage, bool) {
	v := templates.WebChatMessage{ID: m.ID, Text: m.Text}
	switch {
	case m.Direction == orders.DirectionIn:
		v.Mine = true
	case m.Direction == orders.DirectionOut && m.Status != orders.MessageFailed:
		// A queued message is shown at once: the web chat delivers by storing, so
		// queued only means its job has not marked it yet, and showing it now
		// spares the customer the wait. It keeps its ID, so it is never shown twice.
		v.Card = strings.HasPrefix(m.Kind, orders.KindOrderCard)
	default:
		return v, false
	}
	for _, b := range m.Buttons {
		if u, err := url.Parse(b.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			v.Buttons = append(v.Buttons, templates.Button{Label: b.Label, URL: b.URL})
		}
	}
	at := m.CreatedAt.UTC()
	v.TimeISO = at.Format(time.RFC3339)
	if y, mo, d := now.UTC().Date(); at.Year() == y && at.Month() == mo && at.Day() == d {
		v.Time = at.Format("15:04 UTC")
	} else {
		v.Time = at.Format("2006-01-02 15:04 UTC")
	}
	return v, true
}

// wantsJSON reports whether the page's script made the request.
func wantsJSON(c *gin.Context) bool {
	return strings.Contains(c.GetHeader("Accept"), "application/json")
}

// chatMessageJSON is a message as the page's script draws it.
type chatMessageJSON struct {
	ID      string           `json:"id"`
	Mine    bool             `json:"mine"`
	Card    bool             `json:"card"`
	Text    string           `json:"text"`
	Buttons []chatButtonJSON `json:"buttons"`
	Time    string           `json:"time"`
	TimeISO string           `json:"time_iso"`
}

type chatButtonJSON struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// messages answers the latest messages as JSON, oldest first. With after (the ID of
// the newest message the page has), only those stamped from chatLateCommit before it
// on: the page skips any it has, unless it reads differently from how the page drew
// it. A message is edited in place (an order card loses its Pay now once the order is
// paid or cancelled: bot/webchat's Edit) and may be older than that, so the page's
// script asks without after when a change may be such an edit (one about an order).
func (w *webchat) messages(c *gin.Context) {
	conv, shop, ok := w.conversation(c, true)
	if !ok {
		return
	}
	t, err := w.s.svc.Transcript(c.Request.Context(), shop.ID, conv.ID, orders.MessageFilter{Limit: chatPageMessages})
	if err != nil {
		w.s.apiError(c, err, http.StatusBadRequest)
		return
	}
	ms := sinceSeen(t.Messages, c.Query("after"))
	out := struct {
		Messages []chatMessageJSON `json:"messages"`
	}{Messages: make([]chatMessageJSON, 0, len(ms))}
	now := time.Now()
	for _, m := range ms {
		v, ok := chatMessage(m, now)
		if !ok {
			continue
		}
		j := chatMessageJSON{ID: v.ID, Mine: v.Mine, Card: v.Card, Text: v.Text, Time: v.Time, TimeISO: v.TimeISO, Buttons: []chatButtonJSON{}}
		for _, b := range v.Buttons {
			j.Buttons = append(j.Buttons, chatButtonJSON{Label: b.Label, URL: b.URL})
		}
		out.Messages = append(out.Messages, j)
	}
	c.JSON(http.StatusOK, out)
}

// sinceSeen trims ms (oldest first) to what a page whose newest message is after
// may lack: the messages stamped from chatLateCommit before that one on. All of ms
// when after is not among them (too old, or unknown).
func sinceSeen(ms []*orders.Message, after string) []*orders.Message {
	if after == "" {
		return ms
	}
	i := slices.IndexFunc(ms, func(m *orders.Message) bool { return m.ID == after })
	if i < 0 {
		return ms
	}
	from := ms[i].CreatedAt.Add(-chatLateCommit)
	first := slices.IndexFunc(ms, func(m *orders.Message) bool { return !m.CreatedAt.Before(from) })
	return ms[first:]
}

// send records what the customer wrote. Without script the form posts here and is
// sent back to the page (303), which shows the message; the page's script posts the
// same form asking for JSON. The form's nonce makes a double submit record once.
//
// The route does what sameOrigin does, with a body limit that fits a long message in
// any script: refuses cross-origin posts and bounds the body.
func (w *webchat) send(c *gin.Context) {
	asJSON := wantsJSON(c)
	conv, shop, ok := w.conversation(c, asJSON)
	if !ok {
		return
	}
	refuse := func(status int, reason string, draft string) {
		if asJSON {
			c.JSON(status, gin.H{"error": gin.H{"code": orders.EINVALID, "reason": reason}})
			return
		}
		w.render(c, status, conv, shop, draft, reason)
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxChatForm)
	if err := c.Request.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			refuse(http.StatusRequestEntityTooLarge, chatTooLong, "")
			return
		}
		w.s.pageError(c, orders.Invalidf("form", "could not be read"), shop)
		return
	}
	if err := w.s.csrf.Check(c.Request); err != nil {
		w.s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: shop.Locale, ShopName: shop.Name})
		return
	}
	text, nonce := c.PostForm("text"), c.PostForm("nonce")
	if strings.TrimSpace(text) == "" {
		// Nothing to send and nothing to lose: back to the chat.
		w.sent(c, asJSON)
		return
	}
	send := bot.Limit{Key: chatLimitKey("send", conv.ID), Events: chatSendLimit, Per: chatSendWindow}
	if wait := w.reserve(c.Request.Context(), "send", send); wait > 0 {
		c.Header("Retry-After", retryAfter(wait))
		refuse(http.StatusTooManyRequests, chatTooFast, text)
		return
	}
	ctx := c.Request.Context()
	redacted, hadCard, err := w.s.svc.RedactCardNumbers(text)
	if err != nil {
		w.s.pageError(c, err, shop)
		return
	}
	var replies []orders.Outbound
	if hadCard {
		warning, err := w.s.pages.Chat("card_warning", templates.ChatView{Locale: shop.Locale})
		if err != nil {
			w.s.pageError(c, err, shop)
			return
		}
		replies = append(replies, orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindCardWarning, Text: warning})
	}
	if shop.StaffChat {
		// The shop's staff work in their Telegram group too; the message reaches the
		// customer's topic there as a Telegram customer's does.
		mirror, err := w.s.pages.Chat("staff_mirror", templates.ChatView{Locale: shop.Locale, CustomerName: conv.CustomerName, Text: redacted})
		if err != nil {
			w.s.pageError(c, err, shop)
			return
		}
		replies = append(replies, orders.Outbound{Direction: orders.DirectionStaff, Kind: orders.KindMirror, Text: mirror})
	}
	_, err = w.s.svc.ReceiveWebChat(ctx, conv, nonce, redacted, replies...)
	var e *orders.Error
	switch {
	case err == nil:
		w.sent(c, asJSON)
	case errors.As(err, &e) && e.Code == orders.EINVALID && e.Field == "nonce":
		refuse(http.StatusUnprocessableEntity, chatExpired, text)
	case errors.As(err, &e) && e.Code == orders.EINVALID && e.Field == "text":
		refuse(http.StatusUnprocessableEntity, chatTooLong, text)
	case asJSON:
		w.s.apiError(c, err, http.StatusBadRequest)
	default:
		w.s.pageError(c, err, shop)
	}
}

// sent answers a message that was recorded (or had nothing to record).
func (w *webchat) sent(c *gin.Context, asJSON bool) {
	if asJSON {
		c.JSON(http.StatusOK, gin.H{"ok": true})
		return
	}
	// The fragment brings the newest message into view without script.
	c.Redirect(http.StatusSeeOther, chatPath(c.Param("token"))+"#end")
}

// events streams this conversation's changes and no one else's; the page's script
// then fetches the messages.
func (w *webchat) events(c *gin.Context) {
	conv, _, ok := w.conversation(c, true)
	if !ok {
		return
	}
	ip := c.ClientIP()
	if !w.openStream(conv.ID, ip) {
		c.Header("Retry-After", "30")
		c.AbortWithStatusJSON(http.StatusTooManyRequests, errorBody{Error: errorJSON{Code: orders.ECONFLICT, Message: "Too many open streams for this chat."}})
		return
	}
	defer w.closeStream(conv.ID, ip)
	w.s.streamChanges(c, conv.ShopID, func(ch orders.Change) bool {
		return ch.Kind == orders.ChangeMessage && ch.Conversation == conv.ID
	})
}

// openStream takes a stream of the conversation's and one of the address's, or
// neither.
func (w *webchat) openStream(convID, ip string) bool {
	if !w.streams.acquire(convID) {
		return false
	}
	if !w.ipStreams.acquire(ip) {
		w.streams.release(convID)
		return false
	}
	return true
}

func (w *webchat) closeStream(convID, ip string) {
	w.streams.release(convID)
	w.ipStreams.release(ip)
}

// retryAfter is a Retry-After value: whole seconds, at least one.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// chatLimitKey is the limiter key of one web chat limit: its kind ("send", "start")
// and the id it counts (a conversation ID, a client address). The "webchat:" prefix
// keeps it apart from the channels' keys in a limiter they share (bot.TelegramLimits'
// "tg:{…}", bot.MessengerLimits' "fb:{…}"). An id longer than maxChatKeyID is
// replaced by its SHA-256 so that the key stays well within bot.ValidateLimits'
// bound whatever the id; the hashed form follows the kind with '#', not ':', so no
// id kept as it is can spell another's hash.
func chatLimitKey(kind, id string) string {
	if len(id) <= maxChatKeyID {
		return "webchat:" + kind + ":" + id
	}
	sum := sha256.Sum256([]byte(id))
	return "webchat:" + kind + "#sha256:" + hex.EncodeToString(sum[:])
}

// reserve takes a slot under lim, or answers how long until one frees (> 0).
//
// When the limiter fails (Redis is down or slow), the request is counted by this
// process alone, as if there were one replica, and a warning is logged. This fails
// open on purpose: the limits only guard against floods, and a customer must not be
// kept from writing to the shop, or from starting a chat, because Redis blinked. The
// in-process count still bounds a flood meanwhile, per replica.
func (w *webchat) reserve(ctx context.Context, kind string, lim bot.Limit) time.Duration {
	rctx, cancel := context.WithTimeout(ctx, chatLimitTimeout)
	wait, err := w.limits.Reserve(rctx, lim)
	cancel()
	if err == nil {
		return wait
	}
	w.s.log.WarnContext(ctx, "web chat rate limiter failed; counting in this process only", "limit", kind, "err", err)
	// The request's own end does not matter to a count in memory.
	if wait, err = w.local.Reserve(context.WithoutCancel(ctx), lim); err != nil {
		// Only ValidateLimits fails in memory, and chatLimitKey keeps keys valid.
		return 0
	}
	return wait
}
