package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The first-run demo (issue 4). With the embedded default configuration, chatpay prints
// a one-time sign-in link for the demo shop's owner; it leads to /demo/start, which
// signs the browser in and shows /demo: the owner's dashboard and a customer's web chat
// side by side. None of these routes exist unless the demo shop does (Config.DemoShop),
// and /demo shows only the signed-in user's own shop, which must be the demo shop.

const (
	demoPath      = "/demo"
	demoStartPath = "/demo/start"

	// The demo's customer: one web chat conversation, made on first visit, in which
	// the customer has already said what they want.
	demoCustomerID   = "demo-customer"
	demoCustomerName = "Lan"
	demoGreetingKey  = "demo:greeting"
	demoGreeting     = "Hi! I'd like two of the cotton T-shirts, please. Can I pay here?"
)

// demoRoutes registers the demo's routes; see the comment above.
func (s *Server) demoRoutes(r *gin.RouterGroup) {
	if s.demoShop == "" {
		return
	}
	r.GET(demoStartPath, s.demoStartPage)
	r.POST(demoStartPath, s.sameOrigin, s.demoStart)
	r.GET(demoPath, s.requireUser, s.demoPage)
}

// demoStartPage asks before spending the link: chat apps and mail scanners open links
// to preview them, and a GET that signed in would spend it for them.
func (s *Server) demoStartPage(c *gin.Context) {
	s.renderDemoStart(c, http.StatusOK, c.Query("token"), false)
}

func (s *Server) renderDemoStart(c *gin.Context, status int, token string, invalid bool) {
	p := templates.PageView{Locale: "en", FormAction: demoStartPath, ShopID: s.demoShop,
		Demo: &templates.DemoView{Token: token, Invalid: invalid || token == ""}}
	if shop, err := s.svc.Shop(s.demoShop); err == nil {
		p.Locale, p.ShopName = shop.Locale, shop.Name
	}
	s.renderPage(c, status, "demo_start", p)
}

// demoStart spends the one-time link and starts a session for its user.
func (s *Server) demoStart(c *gin.Context) {
	ctx := c.Request.Context()
	token := c.PostForm("token")
	u, err := s.auth.RedeemSignInLink(ctx, token)
	if errors.Is(err, auth.ErrSignInLinkInvalid) {
		s.renderDemoStart(c, http.StatusUnauthorized, "", true)
		return
	}
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	if old := s.sessionToken(c); old != "" {
		if err := s.auth.EndSession(ctx, old); err != nil {
			s.log.WarnContext(ctx, "end previous session", "err", err)
		}
	}
	session, sess, err := s.auth.StartSession(ctx, u)
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	s.setSessionCookie(c, session, sess.ExpiresAt)
	target := dashboardPath
	if u.ShopID == s.demoShop {
		target = demoPath
	}
	c.Redirect(http.StatusSeeOther, target)
}

// demoPage shows the owner's side and the customer's side of the demo shop.
func (s *Server) demoPage(c *gin.Context) {
	ctx := c.Request.Context()
	u := dashboardUser(c)
	if u.ShopID != s.demoShop {
		s.noRoute(c)
		return
	}
	shop, err := s.svc.Shop(u.ShopID)
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	// The customer has written first, as customers do; recording the greeting is
	// idempotent by its key, so reloading the page adds nothing.
	conv, _, err := s.svc.ReceiveMessage(ctx, shop.ID, orders.InboundMessage{
		Channel: orders.ChannelWebchat, ExternalID: demoCustomerID, CustomerName: demoCustomerName,
		Key: demoGreetingKey, Text: demoGreeting,
	})
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	chatURL, err := s.svc.ChatURL(conv)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	// The page frames this origin's dashboard and chat; every other source stays shut.
	c.Header("Content-Security-Policy", c.Writer.Header().Get("Content-Security-Policy")+"; frame-src 'self'")
	s.renderPage(c, http.StatusOK, "demo", templates.PageView{
		Locale: shop.Locale, ShopName: shop.Name, Email: u.Email,
		Demo: &templates.DemoView{
			DashboardURL: dashboardPath + "/inbox/" + conv.ID,
			ChatURL:      chatURL,
			Customer:     conv.CustomerName,
		},
	})
}

// demoFraming lets the demo page frame the dashboard and the web chat: when the demo
// shop exists, a page that a same-origin page loads into a frame may be framed by this
// origin. Cross-origin framing stays refused everywhere, so this opens nothing to
// clickjacking from other sites.
func (s *Server) demoFraming(c *gin.Context) {
	if s.demoShop != "" && c.GetHeader("Sec-Fetch-Dest") == "iframe" && c.GetHeader("Sec-Fetch-Site") == "same-origin" {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "frame-ancestors 'none'", "frame-ancestors 'self'", 1))
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	c.Next()
}
