package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
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

	// dashboardOrders is how many recent orders the dashboard lists.
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

// requireUser lets a request through only with a working session, leaving its user
// in the context; anything else (no cookie, expired, revoked, a disabled user) is sent
// to the sign-in page with 303, so that a form post becomes a GET there.
func (s *Server) requireUser(c *gin.Context) {
	u, _, err := s.auth.SessionUser(c.Request.Context(), s.sessionToken(c))
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

// dashboard lists the user's shop's most recent orders, newest first.
func (s *Server) dashboard(c *gin.Context) {
	u := dashboardUser(c)
	shop, err := s.svc.Shop(u.ShopID)
	if err != nil {
		// The shop was removed from the configuration after the user was made.
		s.pageError(c, err, nil)
		return
	}
	if !u.Can(auth.ActionViewOrders) {
		s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: shop.Locale, ShopName: shop.Name})
		return
	}
	list, err := s.svc.ListOrders(c.Request.Context(), shop.ID, orders.OrderFilter{Limit: dashboardOrders})
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	p := templates.PageView{
		Locale: shop.Locale, ShopName: shop.Name, Email: u.Email, FormAction: signOutPath,
		Orders: make([]templates.OrderRow, 0, len(list)),
	}
	for _, o := range list {
		if o.Status == orders.StatusDeleted {
			continue
		}
		created := o.CreatedAt.UTC()
		p.Orders = append(p.Orders, templates.OrderRow{
			Code: o.Code, Customer: o.Customer.Name, Status: o.Status,
			Total:   money(shop, o.Currency, o.Total),
			Created: created.Format("2006-01-02 15:04 UTC"), CreatedISO: created.Format(time.RFC3339),
			URL: orderPath(o.ID),
		})
	}
	s.renderPage(c, http.StatusOK, "dashboard", p)
}
