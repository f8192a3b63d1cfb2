package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The dashboard's inbox (issue 4): conversations from every channel, newest activity
// first; a conversation's transcript with its delivery statuses, its orders and the
// channel's reply window; staff replies; and orders created for a conversation.
//
// Both forms carry a nonce rendered with the page, which the service uses as the
// idempotency key: a form submitted twice (a double click, a reload of the post)
// sends one reply or creates one order. A form the service refuses is shown again
// as it was filled, with the same nonce, so nothing typed is lost.

const (
	inboxPath = dashboardPath + "/inbox"

	// inboxFormBytes bounds the inbox's forms. sameOrigin's 4 KiB fits one-field
	// forms, not a reply of 4,096 characters (Thai or Vietnamese text is up to nine
	// bytes a character once form-encoded) or an order of many lines.
	inboxFormBytes = 64 << 10

	// conversationOrdersShown is how many of a conversation's orders its page lists.
	conversationOrdersShown = 20
	// previewRunes is how much of a conversation's latest message the list shows.
	previewRunes = 80
	// orderFormLines is how many item lines an empty order form has, and how many
	// "More lines" adds; maxOrderFormLines is the most the form shows.
	orderFormLines    = 3
	maxOrderFormLines = 100
)

func (s *Server) inboxRoutes(r *gin.RouterGroup) {
	r.GET(inboxPath, s.requireUser, s.inboxList)
	r.GET(inboxPath+"/:id", s.requireUser, s.inboxConversation)
	r.POST(inboxPath+"/:id/reply", s.sameOriginForm(inboxFormBytes), s.requireUser, s.inboxReply)
	r.GET(inboxPath+"/:id/orders/new", s.requireUser, s.inboxNewOrder)
	r.POST(inboxPath+"/:id/orders/new", s.sameOriginForm(inboxFormBytes), s.requireUser, s.inboxCreateOrder)
}

// conversationPath is a conversation's inbox page.
func conversationPath(id string) string { return inboxPath + "/" + url.PathEscape(id) }

// inboxFrame is what every inbox page has: the dashboard's frame, open on the inbox,
// and the script that redraws its live regions.
func inboxFrame(shop *orders.Shop, u *auth.User) templates.PageView {
	p := dashboardPageView(shop, u, "inbox")
	p.Assets = []string{"live.js"}
	return p
}

// withQuery returns path with the query's non-empty values.
func withQuery(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// inboxListView is the conversation list for the request's channel filter and page
// (?channel=, ?before=), with current marked open.
func (s *Server) inboxListView(c *gin.Context, shop *orders.Shop, current string) (*templates.InboxView, error) {
	channel := c.Query("channel")
	f := orders.ConversationFilter{Channel: channel}
	var err error
	if current == "" {
		// A conversation's page shows the list's first page beside it.
		if f.Before, err = orders.ParseCursor("before", c.Query("before")); err != nil {
			return nil, err
		}
	}
	list, next, err := s.svc.ListConversations(c.Request.Context(), shop.ID, f)
	if err != nil {
		return nil, err
	}
	v := &templates.InboxView{Channel: channel, ListURL: withQuery(inboxPath, "channel", channel)}
	for _, ch := range []string{"", orders.ChannelWebchat, orders.ChannelTelegram, orders.ChannelMessenger} {
		v.ChannelURLs = append(v.ChannelURLs, templates.ChannelLink{
			Channel: ch, URL: withQuery(inboxPath, "channel", ch), Current: ch == channel,
		})
	}
	if !next.IsZero() {
		v.NextURL = withQuery(inboxPath, "channel", channel, "before", next.String())
	}
	if !f.Before.IsZero() {
		v.FirstURL = v.ListURL
	}
	for _, sum := range list {
		conv := sum.Conversation
		row := templates.ConversationRow{
			URL:      withQuery(conversationPath(conv.ID), "channel", channel),
			Customer: conv.CustomerName, Channel: conv.Channel,
			AwaitingReply: sum.AwaitingReply(), Current: conv.ID == current,
		}
		row.Time, row.TimeISO = stamp(sum.LastActivityAt)
		if m := sum.LastMessage; m != nil {
			row.Preview, row.PreviewOut = preview(m.Text), m.Direction == orders.DirectionOut
		}
		v.Conversations = append(v.Conversations, row)
	}
	return v, nil
}

// preview is a message's text on one line, cut to previewRunes characters.
func preview(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= previewRunes {
		return text
	}
	return string([]rune(text)[:previewRunes-1]) + "…"
}

func (s *Server) inboxList(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return
	}
	v, err := s.inboxListView(c, shop, "")
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	p := inboxFrame(shop, u)
	p.Inbox = v
	s.renderPage(c, http.StatusOK, "inbox", p)
}

// replyForm is the reply form as it is drawn: a fresh one, or one refused and shown
// again with what was typed.
type replyForm struct {
	nonce, text, err string
}

func (s *Server) inboxConversation(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return
	}
	s.renderConversation(c, u, shop, http.StatusOK, replyForm{})
}

// renderConversation draws a conversation's page with its list beside it, or the
// not-found page for a conversation that is not the shop's.
func (s *Server) renderConversation(c *gin.Context, u *auth.User, shop *orders.Shop, status int, form replyForm) {
	ctx := c.Request.Context()
	older, err := orders.ParseCursor("older", c.Query("older"))
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	t, err := s.svc.Transcript(ctx, shop.ID, c.Param("id"), orders.MessageFilter{Before: older})
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	conv := t.Conversation
	v, err := s.inboxListView(c, shop, conv.ID)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	cv := s.conversationView(c, u, conv)
	v.Conversation = cv
	channel := c.Query("channel")
	if !t.Older.IsZero() {
		cv.OlderURL = withQuery(cv.Path, "channel", channel, "older", t.Older.String())
	}
	if !older.IsZero() {
		cv.LatestURL = withQuery(cv.Path, "channel", channel)
	}
	for _, m := range t.Messages {
		tm := templates.TranscriptMessage{
			Direction: m.Direction, Kind: m.Kind, Text: m.Text, Status: m.Status, FailureReason: m.FailureReason,
		}
		tm.Time, tm.TimeISO = stamp(m.CreatedAt)
		if m.OrderID != "" {
			tm.OrderURL = orderPath(m.OrderID)
		}
		for _, b := range m.Buttons {
			tm.Buttons = append(tm.Buttons, templates.LinkButton{Label: b.Label, URL: b.URL})
		}
		cv.Messages = append(cv.Messages, tm)
	}
	list, err := s.svc.ConversationOrders(ctx, shop.ID, conv.ID, conversationOrdersShown)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	for _, o := range list {
		if o.Status == orders.StatusDeleted {
			continue
		}
		row := templates.ConversationOrderRow{Code: o.Code, Status: o.Status, Total: money(shop, o.Currency, o.Total), URL: orderPath(o.ID)}
		row.Time, row.TimeISO = stamp(o.CreatedAt)
		cv.Orders = append(cv.Orders, row)
	}
	if cv.CanAct {
		if form.nonce == "" {
			form.nonce = newNonce()
		}
		cv.ReplyNonce, cv.ReplyText, cv.ReplyError = form.nonce, form.text, form.err
	}
	if c.Query("msg") == "sent" {
		cv.Flash = "sent"
	}
	p := inboxFrame(shop, u)
	p.Inbox = v
	s.renderPage(c, status, "inbox", p)
}

// conversationView is what every page about one conversation shows of it: who, on
// which channel, its reply window and its web chat link.
func (s *Server) conversationView(c *gin.Context, u *auth.User, conv *orders.Conversation) *templates.ConversationView {
	cv := &templates.ConversationView{
		ID: conv.ID, Path: conversationPath(conv.ID), Customer: conv.CustomerName, Channel: conv.Channel,
		CanAct: u.Can(auth.ActionCreateOrder),
	}
	if w := conv.ReplyWindow(s.svc.Now()); w.Applies {
		cv.WindowApplies, cv.WindowOpen = true, w.Open
		if w.Open {
			cv.WindowCloses, cv.WindowClosesISO = stamp(w.Closes)
		}
	}
	if conv.Channel == orders.ChannelWebchat {
		link, err := s.svc.ChatURL(conv)
		if err != nil {
			// A web chat conversation made before its page existed, through the API
			// with an id of the caller's: it has no link to share, and the rest of
			// the page is still right.
			s.log.DebugContext(c.Request.Context(), "no web chat link", "conversation", conv.ID, "err", err)
		}
		cv.ChatURL = link
	}
	return cv
}

// inboxActor is the shop of a user who may reply and create orders (the same role
// rule: ActionCreateOrder); otherwise it has answered and returns nil.
func (s *Server) inboxActor(c *gin.Context, u *auth.User) *orders.Shop {
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return nil
	}
	if !u.Can(auth.ActionCreateOrder) {
		s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: shop.Locale, ShopName: shop.Name})
		return nil
	}
	return shop
}

// nonce is what newNonce makes: 22 base64url characters; a little slack either way.
var nonceRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// newNonce returns a random form nonce: 128 bits, as the web chat's form has.
func newNonce() string { return orders.NewLinkToken() }

// formNonce is the form's nonce, or, with a missing or malformed one (a hand-made
// post, or a page from an older version), an answer and "".
func (s *Server) formNonce(c *gin.Context, shop *orders.Shop) string {
	n := c.PostForm("nonce")
	if !nonceRE.MatchString(n) {
		s.pageError(c, orders.Invalidf("nonce", "This form is out of date. Open the page again and retry."), shop)
		return ""
	}
	return n
}

// inboxReply sends the form's text to the conversation's customer and goes back to
// the conversation; a refused text is shown again in the form.
func (s *Server) inboxReply(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.inboxActor(c, u)
	if shop == nil {
		return
	}
	nonce := s.formNonce(c, shop)
	if nonce == "" {
		return
	}
	// Browsers send forms in UTF-8; only a hand-made post could hold anything else.
	id, text := c.Param("id"), strings.ToValidUTF8(c.PostForm("text"), "\uFFFD")
	err := s.svc.Reply(c.Request.Context(), shop.ID, id, nonce, text)
	var e *orders.Error
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, withQuery(conversationPath(id), "msg", "sent"))
	case errors.As(err, &e) && e.Code == orders.EINVALID && e.Field == "text":
		key := "text_too_long"
		if strings.TrimSpace(text) == "" {
			key = "text_empty"
		}
		s.renderConversation(c, u, shop, http.StatusUnprocessableEntity, replyForm{nonce: nonce, text: text, err: key})
	default:
		s.pageError(c, err, shop)
	}
}

// inboxNewOrder shows an empty order form for the conversation.
func (s *Server) inboxNewOrder(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.inboxActor(c, u)
	if shop == nil {
		return
	}
	form := &templates.NewOrderForm{Nonce: newNonce(), Method: orders.MethodOnline}
	for range orderFormLines {
		addLine(form)
	}
	s.renderOrderForm(c, u, shop, http.StatusOK, form)
}

func addLine(f *templates.NewOrderForm) {
	f.Lines = append(f.Lines, templates.OrderFormLine{N: int64(len(f.Lines) + 1)})
}

// renderOrderForm draws the order form for the conversation in the path.
func (s *Server) renderOrderForm(c *gin.Context, u *auth.User, shop *orders.Shop, status int, form *templates.NewOrderForm) {
	conv, err := s.svc.Conversation(c.Request.Context(), shop.ID, c.Param("id"))
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	cv := s.conversationView(c, u, conv)
	cur, _ := orders.LookupCurrency(shop.Currency)
	form.Path, form.Currency = cv.Path+"/orders/new", cur.Code
	form.PriceExample = plainAmount(150000*pow10(cur.Decimals), cur.Decimals)
	p := inboxFrame(shop, u)
	p.Inbox = &templates.InboxView{Conversation: cv, NewOrder: form}
	s.renderPage(c, status, "inbox_order_new", p)
}

// inboxCreateOrder creates the order the form describes for the conversation and
// goes to its page. A form with mistakes is shown again, as filled, with each
// mistake named next to its field and in a summary at the top.
func (s *Server) inboxCreateOrder(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.inboxActor(c, u)
	if shop == nil {
		return
	}
	nonce := s.formNonce(c, shop)
	if nonce == "" {
		return
	}
	decimals := decimalsOf(shop.Currency)
	form, in := readOrderForm(c.Request.PostForm, decimals)
	form.Nonce = nonce
	if c.PostForm("more") != "" {
		for range orderFormLines {
			if len(form.Lines) < maxOrderFormLines {
				addLine(form)
			}
		}
		form.Errors = nil
		clearFieldErrors(form)
		s.renderOrderForm(c, u, shop, http.StatusOK, form)
		return
	}
	if len(form.Errors) > 0 {
		s.renderOrderForm(c, u, shop, http.StatusUnprocessableEntity, form)
		return
	}
	in.Key = nonce
	o, err := s.svc.CreateConversationOrder(c.Request.Context(), shop.ID, c.Param("id"), in)
	if err != nil {
		var e *orders.Error
		if !errors.As(err, &e) || (e.Code != orders.EINVALID && e.Code != orders.ECONFLICT) {
			s.pageError(c, err, shop)
			return
		}
		serviceError(form, e)
		s.renderOrderForm(c, u, shop, http.StatusUnprocessableEntity, form)
		return
	}
	c.Redirect(http.StatusSeeOther, orderPath(o.ID))
}

// readOrderForm reads the order form into what the page shows again (every value as
// typed, with errors) and, when it has none, the order to create. Blank lines are
// skipped; a line with an item name but no quantity is one of it.
func readOrderForm(form url.Values, decimals int) (*templates.NewOrderForm, orders.CreateOrderInput) {
	f := &templates.NewOrderForm{
		Shipping: form.Get("shipping"), ShipOnPayment: form.Get("ship_on_payment") != "",
		Method: form.Get("method"), Metadata: form.Get("metadata"),
	}
	var in orders.CreateOrderInput
	fail := func(anchor string, line int64, key string) {
		f.Errors = append(f.Errors, templates.FormError{Anchor: anchor, Line: line, Key: key})
	}
	names, qtys, prices := form["item_name"], form["item_qty"], form["item_price"]
	n := max(len(names), len(qtys), len(prices), 1)
	if n > maxOrderFormLines {
		fail("item-1-name", 0, "too_many_items")
		n = maxOrderFormLines
	}
	at := func(vs []string, i int) string {
		if i < len(vs) {
			return vs[i]
		}
		return ""
	}
	var total int64
	overflow := false
	for i := range n {
		l := templates.OrderFormLine{N: int64(i + 1), Name: at(names, i), Qty: at(qtys, i), Price: at(prices, i)}
		anchor := "item-" + strconv.Itoa(i+1) + "-"
		name := strings.TrimSpace(l.Name)
		if name == "" && strings.TrimSpace(l.Qty) == "" && strings.TrimSpace(l.Price) == "" {
			f.Lines = append(f.Lines, l)
			continue
		}
		item := orders.Item{Name: name, Quantity: 1}
		switch {
		case name == "":
			l.NameErr = "name_required"
		case utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name):
			l.NameErr = "name_too_long"
		}
		if strings.TrimSpace(l.Qty) != "" {
			q, ok := parseMoneyInput(l.Qty, 0)
			if !ok || q < 1 || q > 1_000_000 {
				l.QtyErr = "qty"
			}
			item.Quantity = q
		}
		p, ok := parseMoneyInput(l.Price, decimals)
		if !ok {
			l.PriceErr = "price"
		}
		item.UnitPrice = p
		for _, e := range []struct{ field, key string }{{"name", l.NameErr}, {"qty", l.QtyErr}, {"price", l.PriceErr}} {
			if e.key != "" {
				fail(anchor+e.field, l.N, e.key)
			}
		}
		if l.NameErr == "" && l.QtyErr == "" && l.PriceErr == "" {
			if item.Quantity > orders.MaxAmount/max(item.UnitPrice, 1) {
				overflow = true
			} else {
				total += item.Quantity * item.UnitPrice
			}
		}
		in.Items = append(in.Items, item)
		f.Lines = append(f.Lines, l)
	}
	if len(in.Items) == 0 {
		fail("item-1-name", 0, "no_items")
	}
	if strings.TrimSpace(f.Shipping) != "" {
		fee, ok := parseMoneyInput(f.Shipping, decimals)
		if !ok {
			f.ShippingErr = "shipping"
			fail("shipping", 0, "shipping")
		}
		in.ShippingFee = fee
	}
	switch f.Method {
	case orders.MethodOnline, orders.MethodCOD:
		in.PaymentMethod = f.Method
	default:
		f.MethodErr = "method"
		fail("method", 0, "method")
	}
	in.ShipOnPayment = f.ShipOnPayment
	md, key := parseMetadata(f.Metadata)
	if key != "" {
		f.MetadataErr = key
		fail("metadata", 0, key)
	}
	in.Metadata = md
	if len(f.Errors) == 0 {
		total += in.ShippingFee
		switch {
		case overflow || total > orders.MaxAmount:
			fail("item-1-name", 0, "total_too_large")
		case total == 0 && in.PaymentMethod == orders.MethodOnline:
			fail("item-1-price", 0, "zero_total")
		}
	}
	return f, in
}

// clearFieldErrors forgets the errors marked on the fields (the More lines button
// only adds lines; the form is checked when it is sent).
func clearFieldErrors(f *templates.NewOrderForm) {
	f.ShippingErr, f.MethodErr, f.MetadataErr = "", "", ""
	for i := range f.Lines {
		f.Lines[i].NameErr, f.Lines[i].QtyErr, f.Lines[i].PriceErr = "", "", ""
	}
}

// itemField matches the service's field names of item errors, items[i].field.
var itemField = regexp.MustCompile(`^items\[(\d+)\](?:\.(name|quantity|unit_price))?$`)

// serviceError adds an error the service found to the form. Every one the form can
// cause is checked before already; what is left are limits the form cannot see (a
// line or total past the largest amount), named by the field, and anything else with
// the service's own message.
func serviceError(f *templates.NewOrderForm, e *orders.Error) {
	fe := templates.FormError{Anchor: "item-1-name", Detail: orders.ErrorMessage(e)}
	if m := itemField.FindStringSubmatch(e.Field); m != nil {
		i, _ := strconv.Atoi(m[1])
		// The service numbers the items it got; blank lines were left out.
		n := 0
		for j, l := range f.Lines {
			if strings.TrimSpace(l.Name+l.Qty+l.Price) == "" {
				continue
			}
			if n == i {
				fe.Line = l.N
				fe.Anchor = "item-" + strconv.Itoa(j+1) + "-"
				switch m[2] {
				case "name":
					fe.Key, fe.Anchor = "name_too_long", fe.Anchor+"name"
					f.Lines[j].NameErr = fe.Key
				case "quantity":
					fe.Key, fe.Anchor = "qty", fe.Anchor+"qty"
					f.Lines[j].QtyErr = fe.Key
				default:
					fe.Key, fe.Anchor = "line_too_large", fe.Anchor+"price"
					f.Lines[j].PriceErr = fe.Key
				}
				break
			}
			n++
		}
	} else {
		switch {
		case e.Field == "items" || e.Field == "shipping_fee":
			fe.Key = "total_too_large"
		case e.Field == "payment_method":
			fe.Key, fe.Anchor, f.MethodErr = "method", "method", "method"
		case e.Field == "metadata":
			fe.Key, fe.Anchor, f.MetadataErr = "metadata_key", "metadata", "metadata_key"
		case strings.HasPrefix(e.Field, "metadata."):
			fe.Key, fe.Anchor, f.MetadataErr = "metadata_value", "metadata", "metadata_value"
		}
	}
	f.Errors = append(f.Errors, fe)
}

// metadataKey is what the service accepts as a metadata key.
var metadataKey = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,40}$`)

// parseMetadata reads the form's metadata, one key=value a line (blank lines
// skipped, space around keys and values trimmed). It returns the first mistake's
// error key, "" for none.
func parseMetadata(s string) (map[string]string, string) {
	md := map[string]string{}
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "":
			return nil, "metadata_line"
		case !metadataKey.MatchString(k):
			return nil, "metadata_key"
		case utf8.RuneCountInString(v) > 500 || !utf8.ValidString(v):
			return nil, "metadata_value"
		}
		if _, dup := md[k]; dup {
			return nil, "metadata_duplicate"
		}
		md[k] = v
		if len(md) > 20 {
			return nil, "metadata_too_many"
		}
	}
	return md, ""
}

// localDigits maps the digits and separators people type on Persian, Arabic and Thai
// keyboards to ASCII.
var localDigits = strings.NewReplacer(
	"۰", "0", "۱", "1", "۲", "2", "۳", "3", "۴", "4", "۵", "5", "۶", "6", "۷", "7", "۸", "8", "۹", "9",
	"٠", "0", "١", "1", "٢", "2", "٣", "3", "٤", "4", "٥", "5", "٦", "6", "٧", "7", "٨", "8", "٩", "9",
	"๐", "0", "๑", "1", "๒", "2", "๓", "3", "๔", "4", "๕", "5", "๖", "6", "๗", "7", "๘", "8", "๙", "9",
	"٫", ".", "٬", ",",
	// Spaces group digits in some locales; none of them means anything else here.
	" ", "", "\u00a0", "", "\u202f", "", "\u2009", "",
)

// parseMoneyInput reads an amount typed in the currency's major units into minor
// units, as shop staff write amounts: with local digits, and with '.' or ',' as the
// decimal point or to group thousands ("150.000" and "150,000" are 150000 đồng;
// "1,234.50" and "1.234,50" are 1234.50 baht). The last separator is the decimal
// point when 1 to decimals digits follow it; every other separator must group exactly
// three digits, all with the same character. Anything else, a sign, or more than
// MaxAmount is refused rather than guessed at.
func parseMoneyInput(s string, decimals int) (int64, bool) {
	s = localDigits.Replace(strings.TrimSpace(s))
	if s == "" || len(s) > 40 {
		return 0, false
	}
	whole, frac := s, ""
	if i := strings.LastIndexAny(s, ".,"); i >= 0 && decimals > 0 && len(s)-i-1 >= 1 && len(s)-i-1 <= decimals {
		whole, frac = s[:i], s[i+1:]
		if strings.ContainsRune(whole, rune(s[i])) {
			return 0, false // the decimal separator also groups: "1.234.5"
		}
	}
	if whole == "" {
		return 0, false
	}
	if i := strings.IndexAny(whole, ".,"); i >= 0 {
		sep := whole[i]
		groups := strings.Split(whole, string(sep))
		if len(groups[0]) < 1 || len(groups[0]) > 3 {
			return 0, false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, false
			}
		}
		whole = strings.Join(groups, "")
	}
	digits := whole + frac + strings.Repeat("0", decimals-len(frac))
	if len(digits) > 18 {
		return 0, false
	}
	var n int64
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	return n, n <= orders.MaxAmount
}
