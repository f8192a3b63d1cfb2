package web

import (
	"errors"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The owner dashboard (issue 4): sign-in, sign-out and the pages behind them.
//
// CSRF: every state-changing dashboard route (sign-in, sign-out, and any later form)
// goes through sameOrigin, which is Go's http.CrossOriginProtection: it refuses a POST
// whose Sec-Fetch-Site is not same-origin, or, from browsers too old to send it, whose
// Origin does not match Host. The session cookie is also SameSite=Lax, so a cross-site
// POST does not carry it in the first place. Every browser the dashboard supports sends
// one of the two headers on a POST, so a per-session token in each form would add no
// protection against a cross-site attacker, only state to keep in step; requests
// without either header come from non-browser clients, which hold no ambient cookie to
// abuse.

const (
	// sessionCookie is the cookie's name over plain HTTP (development);
	// secureSessionCookie its name over HTTPS, where the __Host- prefix makes browsers
	// insist on Secure, Path=/ and no Domain, so a sibling subdomain cannot plant one.
	sessionCookie       = "chatpay_session"
	secureSessionCookie = "__Host-chatpay_session"

	dashboardPath = "/dashboard"
	signInPath    = "/dashboard/signin"
	signOutPath   = "/dashboard/signout"

	// dashboardOrders is how many orders a page of the dashboard's list shows.
	dashboardOrders = 50

	// ctxUser is the gin context key under which requireUser leaves the user.
	ctxUser = "chatpay.dashboard.user"
)

func (s *Server) cookieName() string {
	if s.secureCookies {
		return secureSessionCookie
	}
	return sessionCookie
}

// setSessionCookie hands the browser its session token. It lasts until the session's
// absolute expiry; the idle timeout is enforced on the server.
func (s *Server) setSessionCookie(c *gin.Context, token string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.cookieName(), Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) sessionToken(c *gin.Context) string {
	ck, err := c.Request.Cookie(s.cookieName())
	if err != nil {
		return ""
	}
	return ck.Value
}

// signInURL is the sign-in page, for shop when it is known.
func signInURL(shopID string) string {
	if shopID == "" {
		return signInPath
	}
	return signInPath + "?shop=" + url.QueryEscape(shopID)
}

// liveRequestHeader marks the requests that live.js makes by itself, without the user
// doing anything: the page fetches behind a redraw and the probe for whether the
// session has ended. See backgroundRequest.
const liveRequestHeader = "X-Chatpay-Live"

// backgroundRequest reports whether the request was made by the page's script on its
// own rather than by the user, so that it must not count as use of the session: a GET
// or HEAD marked with liveRequestHeader, or the dashboard's event stream, which only
// live.js opens (an EventSource cannot set headers) and which reconnects by itself.
// Were these to count, a tab left open on a busy shop would redraw often enough to
// keep its session from ever reaching the idle timeout, which exists precisely for
// browsers left unattended.
//
// The header is not a security boundary and grants nothing: a marked request needs a
// working session just the same and meets the same checks after this middleware.
// A client that leaves the header off only keeps its own session alive, as any page
// view would. Only safe methods heed it: a form post is always the user's doing, and
// so always counts, whatever headers it carries. It has no bearing on the CSRF checks
// either, which concern POSTs and run in sameOrigin before this.
func backgroundRequest(c *gin.Context) bool {
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		return false
	}
	return c.GetHeader(liveRequestHeader) == "1" || c.FullPath() == liveEventsPath
}

// requireUser lets a request through only with a working session, leaving its user
// in the context; anything else (no cookie, expired, revoked, a disabled user) is sent
// to the sign-in page with 303, so that a form post becomes a GET there. A background
// request (see backgroundRequest) is checked by exactly the same rules, through
// CheckSession, but is not recorded as use of the session.
func (s *Server) requireUser(c *gin.Context) {
	var u *auth.User
	var err error
	if backgroundRequest(c) {
		u, err = s.auth.CheckSession(c.Request.Context(), s.sessionToken(c))
	} else {
		u, _, err = s.auth.SessionUser(c.Request.Context(), s.sessionToken(c))
	}
	if errors.Is(err, auth.ErrNoSession) {
		if s.sessionToken(c) != "" {
			s.clearSessionCookie(c)
		}
		c.Redirect(http.StatusSeeOther, signInURL(c.Query("shop")))
		c.Abort()
		return
	}
	if err != nil {
		s.pageError(c, err, nil)
		c.Abort()
		return
	}
	c.Set(ctxUser, u)
	c.Next()
}

func dashboardUser(c *gin.Context) *auth.User {
	u, _ := c.MustGet(ctxUser).(*auth.User)
	return u
}

// signInView is the sign-in page for shopID, in the shop's language when the shop is
// known (a text field asks for it otherwise).
func (s *Server) signInView(shopID string) templates.PageView {
	p := templates.PageView{Locale: "en", FormAction: signInPath, ShopID: shopID}
	if shop, err := s.svc.Shop(shopID); err == nil {
		p.Locale, p.ShopName = shop.Locale, shop.Name
	}
	return p
}

func (s *Server) signInPage(c *gin.Context) {
	s.renderPage(c, http.StatusOK, "signin", s.signInView(c.Query("shop")))
}

// signIn checks the form's credentials and starts a new session. Every failure shows
// the same text, whether the shop, the email or the password was wrong; too many
// failures answer 429 with Retry-After without checking the password at all.
func (s *Server) signIn(c *gin.Context) {
	ctx := c.Request.Context()
	shopID, email := c.PostForm("shop"), c.PostForm("email")
	p := s.signInView(shopID)
	p.Email = email
	u, err := s.auth.Authenticate(ctx, shopID, email, c.PostForm("password"), c.ClientIP())
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(throttled.RetryAfter.Seconds()))))
		p.Throttled = true
		s.renderPage(c, http.StatusTooManyRequests, "signin", p)
		return
	case errors.Is(err, auth.ErrBadCredentials):
		p.SignInFailed = true
		s.renderPage(c, http.StatusUnauthorized, "signin", p)
		return
	case err != nil:
		s.pageError(c, err, nil)
		return
	}
	// A browser that still holds a session (another user's, or an old one) gets rid
	// of it: each sign-in starts from a fresh token.
	if old := s.sessionToken(c); old != "" {
		if err := s.auth.EndSession(ctx, old); err != nil {
			s.log.WarnContext(ctx, "end previous session", "err", err)
		}
	}
	token, sess, err := s.auth.StartSession(ctx, u)
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	s.setSessionCookie(c, token, sess.ExpiresAt)
	c.Redirect(http.StatusSeeOther, dashboardPath)
}

// signOut ends the session and sends the browser to its shop's sign-in page.
func (s *Server) signOut(c *gin.Context) {
	u := dashboardUser(c)
	if err := s.auth.EndSession(c.Request.Context(), s.sessionToken(c)); err != nil {
		s.pageError(c, err, nil)
		return
	}
	s.clearSessionCookie(c)
	c.Redirect(http.StatusSeeOther, signInURL(u.ShopID))
}

// The orders list's choices, in the order the filter form offers them.
var (
	listStatuses = []string{
		orders.StatusAwaitingPayment, orders.StatusPaid, orders.StatusShipped, orders.StatusCompleted,
		orders.StatusCancelled, orders.StatusDeleted,
	}
	listPaymentStatuses = []string{
		orders.PaymentUnpaid, orders.PaymentAuthorized, orders.PaymentPaid, orders.PaymentPartiallyRefunded,
		orders.PaymentRefunded, orders.PaymentDisputed,
	}
	listChannels = []string{orders.ChannelWebchat, orders.ChannelTelegram, orders.ChannelMessenger, orders.ChannelNone}
)

// listErrorFields are the filters the orders list names when one's value is refused;
// metadata[KEY] filters are all "meta", the form's field, and anything else is
// "invalid".
var listErrorFields = []string{"status", "payment_status", "channel", "from", "to", "meta", "q", "cursor"}

// dashboard lists the user's shop's orders, newest first, dashboardOrders to a page,
// under the filters in the query string (so that a filtered list is a link to share):
// those of GET /api/v1/orders, with to naming the last day shown, and meta=KEY=VALUE
// from the form's metadata field. A refused filter shows the form again with what is
// wrong, and 400.
func (s *Server) dashboard(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return
	}
	q := c.Request.URL.Query()
	v := &templates.OrderListView{
		Q: q.Get("q"), Status: q.Get("status"), PaymentStatus: q.Get("payment_status"), Channel: q.Get("channel"),
		From: q.Get("from"), To: q.Get("to"), Meta: q.Get("meta"),
		Statuses: listStatuses, PaymentStatuses: listPaymentStatuses, Channels: listChannels,
	}
	for name, vals := range q {
		filter := name != "cursor" && slices.Contains(listErrorFields, name) || strings.HasPrefix(name, "metadata[")
		if filter && slices.ContainsFunc(vals, func(v string) bool { return strings.TrimSpace(v) != "" }) {
			v.Filtered = true
		}
	}
	if u.Can(auth.ActionCreateOrder) {
		v.NewOrderURL = inboxPath
	}
	p := dashboardPageView(shop, u, "orders")
	p.FormAction, p.Assets, p.OrderList = signOutPath, []string{"live.js"}, v
	ctx := c.Request.Context()
	f, err := parseListFilter(q)
	var page []*orders.Order
	var next string
	if err == nil {
		page, next, err = s.listPage(ctx, shop.ID, f, dashboardOrders)
	}
	if err != nil {
		var e *orders.Error
		if !errors.As(err, &e) || e.Code != orders.EINVALID {
			s.pageError(c, err, shop)
			return
		}
		v.Error = "invalid"
		switch {
		case strings.HasPrefix(e.Field, "metadata"):
			v.Error = "meta"
		case slices.Contains(listErrorFields, e.Field):
			v.Error = e.Field
		}
		s.renderPage(c, http.StatusBadRequest, "dashboard", p)
		return
	}
	v.Rows = make([]templates.OrderListRow, 0, len(page))
	for _, o := range page {
		row := templates.OrderListRow{
			Code: o.Code, Customer: o.Customer.Name, Phone: o.Customer.Phone, Channel: o.Customer.Channel,
			Status: o.Status, PaymentStatus: o.PaymentStatus, Total: money(shop, o.Currency, o.Total), URL: orderPath(o.ID),
		}
		if row.Channel == "" {
			row.Channel = orders.ChannelNone
		}
		row.Created, row.CreatedISO = stamp(o.CreatedAt)
		v.Rows = append(v.Rows, row)
	}
	if next != "" {
		v.NextURL = listURL(q, next)
	}
	if q.Get("cursor") != "" {
		v.FirstURL = listURL(q, "")
	}
	s.renderPage(c, http.StatusOK, "dashboard", p)
}

// parseListFilter reads the dashboard list's filters: the API's (parseOrderFilter),
// with to naming the last day shown, and the form's metadata field, meta=KEY=VALUE,
// which adds to any metadata[KEY]=VALUE in the link.
func parseListFilter(q url.Values) (orders.OrderFilter, error) {
	f, err := parseOrderFilter(q, toInclusive)
	if err != nil {
		return f, err
	}
	if len(q["meta"]) > 1 {
		return f, orders.Invalidf("meta", "must be given once, got %d values", len(q["meta"]))
	}
	raw := strings.TrimSpace(q.Get("meta"))
	if raw == "" {
		return f, nil
	}
	key, value, ok := strings.Cut(raw, "=")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	if !ok || key == "" {
		return f, orders.Invalidf("meta", "write a metadata filter as KEY=VALUE, not %q", raw)
	}
	if have, dup := f.Metadata[key]; dup && have != value {
		return f, orders.Invalidf("meta", "metadata %q is filtered by two values", key)
	}
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	f.Metadata[key] = value
	return f, nil
}

// listURL is the orders list with q's filters at cursor ("" for the first page).
func listURL(q url.Values, cursor string) string {
	q = maps.Clone(q)
	q.Del("cursor")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return dashboardPath
	}
	return dashboardPath + "?" + q.Encode()
}
