package web

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// CheckoutOriginer is implemented by gateways whose checkout pages live on another
// origin (for example "https://checkout.stripe.com"). The pay page allows its form to
// lead there in its Content-Security-Policy; gateways without it are assumed to check
// out on this origin, as the sandbox does.
type CheckoutOriginer interface {
	CheckoutOrigin() string
}

// gatewayTimeout bounds calls to a gateway made while a customer waits.
const gatewayTimeout = 15 * time.Second

// renderPage renders a page into a buffer first, so a template error never leaves a
// half-written page behind, then writes it with status and its Content-Length.
func (s *Server) renderPage(c *gin.Context, status int, name string, p templates.PageView) {
	bp := pageBuffers.Get().(*[]byte)
	defer putPageBuffer(bp)
	b, err := s.pages.AppendPage((*bp)[:0], name, p)
	*bp = b[:0]
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "render page", "page", name, "route", routeLabel(c), "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal error.\n"))
		c.Abort()
		return
	}
	if len(p.Assets) > 0 {
		// The page's scripts come from this origin only, and talk only to it (server-sent
		// events, refreshed fragments); images stay as the route set them.
		c.Header("Content-Security-Policy", c.Writer.Header().Get("Content-Security-Policy")+"; script-src 'self'; connect-src 'self'")
	}
	// With its length known, the page goes out in one piece rather than chunked.
	c.Header("Content-Length", strconv.Itoa(len(b)))
	c.Data(status, "text/html; charset=utf-8", b)
}

// pageBuffers holds renderPage's buffers: a page is a few kilobytes, and growing a
// fresh buffer to that size for every page view showed in profiles. The response
// writer copies what it is given, so a buffer is free again once written.
var pageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledPage bounds the buffers kept, so that one unusually large page does not
// stay in memory.
const maxPooledPage = 64 << 10

func putPageBuffer(bp *[]byte) {
	if cap(*bp) <= maxPooledPage {
		pageBuffers.Put(bp)
	}
}

// pageError answers a page request with err: the not_found page for ENOTFOUND, gone
// for EGONE, the error page otherwise, with the status errorStatus gives. shop, when
// known, sets the page's language.
func (s *Server) pageError(c *gin.Context, err error, shop *orders.Shop) {
	status := errorStatus(err, http.StatusBadRequest)
	p := templates.PageView{Locale: "en"}
	if shop != nil {
		p.Locale, p.ShopName = shop.Locale, shop.Name
	}
	// Pages without a Message show their own text in the customer's language; only
	// errors whose detail helps the customer (a bad form value, a conflict) show the
	// error's message.
	name := "error"
	switch status {
	case http.StatusInternalServerError:
		s.log.ErrorContext(c.Request.Context(), "internal error", "route", routeLabel(c), "method", c.Request.Method, "err", err)
	case http.StatusNotFound:
		name = "not_found"
	case http.StatusGone:
		name = "gone"
	default:
		p.Message = orders.ErrorMessage(err)
	}
	s.renderPage(c, status, name, p)
}

// money formats an amount for the shop's locale, currency and display preferences.
func money(shop *orders.Shop, currency string, amount int64) string {
	decimals := 2
	if cur, ok := orders.LookupCurrency(currency); ok {
		decimals = cur.Decimals
	}
	return templates.FormatMoney(amount, decimals, currency, shop.Locale, shop.DisplayToman)
}

// orderPage is the part of a page view every order page shares.
func orderPage(shop *orders.Shop, o *orders.Order) templates.PageView {
	p := templates.PageView{
		Locale:    shop.Locale,
		ShopName:  shop.Name,
		OrderCode: o.Code,
		Status:    o.Status,
		Total:     money(shop, o.Currency, o.Total),
	}
	for _, it := range o.Items {
		p.Items = append(p.Items, templates.ItemView{
			Name:      it.Name,
			Quantity:  it.Quantity,
			UnitPrice: money(shop, o.Currency, it.UnitPrice),
			Amount:    money(shop, o.Currency, it.Quantity*it.UnitPrice),
		})
	}
	if o.ShippingFee > 0 {
		p.Shipping = money(shop, o.Currency, o.ShippingFee)
	}
	return p
}

// payPath is the pay link's path, the target of its own Pay now form.
func payPath(token string) string { return "/pay/" + token }

// payPage shows what the store knows about the order behind a link: the order and
// Pay now while it awaits payment, a paid page afterwards, gone once cancelled. It
// never changes anything; payment is recorded only from verified gateway events.
func (s *Server) payPage(c *gin.Context) {
	ctx := c.Request.Context()
	token := c.Param("token")
	o, latest, err := s.svc.PayPage(ctx, token)
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	shop, err := s.svc.Shop(o.ShopID)
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	p := orderPage(shop, o)
	switch o.Status {
	case orders.StatusAwaitingPayment:
		if qr, origin := s.sessionQR(ctx, shop, latest); qr != nil {
			s.renderQR(c, shop, o, token, qr, origin)
			return
		}
		p.FormAction = payPath(token)
		p.Gateways = shop.Gateways
		if err := s.attemptState(ctx, shop, latest, &p); err != nil {
			s.pageError(c, err, shop)
			return
		}
		c.Header("Content-Security-Policy", cspWithFormActions(s.checkoutOrigins(shop)))
		s.renderPage(c, http.StatusOK, "pay", p)
	case orders.StatusCancelled, orders.StatusDeleted:
		s.renderPage(c, http.StatusGone, "gone", p)
	default: // paid, shipped, completed
		s.renderPage(c, http.StatusOK, "paid", p)
	}
}

// attemptState tells the page about the latest payment attempt: pending at the
// gateway ("we are confirming your payment") or failed ("Pay again"). A customer who
// just came back from the gateway may be ahead of its webhook; then the gateway is
// asked, and a session it reports settled or pending shows as pending here. Nothing is
// recorded from that answer: only verified webhooks and reconciliation change state.
func (s *Server) attemptState(ctx context.Context, shop *orders.Shop, a *orders.Attempt, p *templates.PageView) error {
	if a == nil {
		return nil // no attempt yet
	}
	switch a.Status {
	case orders.AttemptPending:
		p.Pending = true
	case orders.AttemptFailed:
		p.Failed, p.FailureReason = true, a.FailureReason
	case orders.AttemptCreated:
		if a.SessionID == "" {
			return nil
		}
		g, err := s.gateways.Get(shop.ID, a.Gateway)
		if err != nil {
			return nil // the gateway was disabled since; the attempt cannot be settled here
		}
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		st, err := g.SessionStatus(ctx, a.SessionID)
		if err != nil {
			s.log.WarnContext(ctx, "session status", "gateway", a.Gateway, "err", err)
			return nil
		}
		p.Pending = st.Status == orders.EventSucceeded || st.Status == orders.EventPending
	}
	return nil
}

// checkoutOrigins lists the origins the shop's gateways check out on, besides ours.
func (s *Server) checkoutOrigins(shop *orders.Shop) []string {
	var out []string
	for _, name := range shop.Gateways {
		g, err := s.gateways.Get(shop.ID, name)
		if err != nil {
			continue
		}
		if co, ok := g.(CheckoutOriginer); ok && co.CheckoutOrigin() != "" {
			out = append(out, co.CheckoutOrigin())
		}
	}
	return out
}

// pay handles Pay now: it records a fresh attempt, opens a fresh gateway session for
// it (sessions expire, the link does not) and sends the customer there, or back to the
// link when the session is paid by a QR code the link shows.
func (s *Server) pay(c *gin.Context) {
	ctx := c.Request.Context()
	token := c.Param("token")
	a, o, err := s.svc.StartAttempt(ctx, token, c.PostForm("gateway"))
	if orders.ErrorCode(err) == orders.ECONFLICT {
		// Paid meanwhile (another tab, a retried post): the link shows the paid page.
		c.Redirect(http.StatusSeeOther, payPath(token))
		return
	}
	var shop *orders.Shop
	if o != nil {
		shop, _ = s.svc.Shop(o.ShopID)
	}
	if err != nil {
		if shop == nil {
			if o2, err2 := s.svc.OrderByToken(ctx, token); err2 == nil {
				shop, _ = s.svc.Shop(o2.ShopID)
			}
		}
		s.pageError(c, err, shop)
		return
	}
	g, err := s.gateways.Get(o.ShopID, a.Gateway)
	if err != nil {
		// The shop lists a gateway that is not configured: our fault, not the customer's.
		s.pageError(c, errors.New("gateway "+a.Gateway+" enabled for shop "+o.ShopID+" is not registered"), shop)
		return
	}
	returnURL, err := s.svc.LinkURL(o)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	// The order's own metadata (branch, campaign) goes to the gateway too, where the
	// shop sees it on the payment and in the gateway's exports; chatpay's keys win.
	meta := map[string]string{}
	maps.Copy(meta, o.Metadata)
	maps.Copy(meta, map[string]string{"order_id": o.ID, "order_code": o.Code, "attempt_id": a.ID})
	gctx, cancel := context.WithTimeout(ctx, gatewayTimeout)
	defer cancel()
	sess, err := g.CreateSession(gctx, gateway.SessionRequest{
		ShopID:      o.ShopID,
		OrderID:     o.ID,
		OrderCode:   o.Code,
		AttemptID:   a.ID,
		Amount:      a.Amount,
		Currency:    a.Currency,
		ReturnURL:   returnURL,
		Description: shop.Name + " order #" + o.Code,
		Metadata:    meta,
	})
	if err != nil {
		// The attempt stays "created" without a session; reconciliation ignores it and
		// the customer simply tries again.
		s.log.WarnContext(ctx, "create gateway session", "gateway", a.Gateway, "shop", o.ShopID, "attempt", a.ID, "err", err)
		// The error page's own text ("something went wrong, try again in a moment")
		// is what the customer needs, in their language.
		p := orderPage(shop, o)
		s.renderPage(c, http.StatusBadGateway, "error", p)
		return
	}
	if err := s.svc.AttachSession(ctx, a, sess.ID); err != nil {
		s.pageError(c, err, shop)
		return
	}
	// A session paid by a QR code is paid on our own page: the link shows the code (see
	// qr.go). Asking first keeps gateways configured for a redirect method on their
	// checkout pages.
	if qr, _ := s.qrFor(gctx, g, a, sess.ID); qr != nil {
		c.Redirect(http.StatusSeeOther, payPath(token))
		return
	}
	c.Redirect(http.StatusSeeOther, sess.CheckoutURL)
}

// sandboxPath is a sandbox session's checkout path.
func sandboxPath(session string) string { return "/sandbox/checkout/" + session }

// sandboxCheckout shows the sandbox gateway's checkout page for a session.
func (s *Server) sandboxCheckout(c *gin.Context) {
	id := c.Param("session")
	v, err := s.sandbox.Checkout(id)
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	shop, err := s.svc.Shop(v.ShopID)
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	s.renderPage(c, http.StatusOK, "sandbox_checkout", templates.PageView{
		Locale:     shop.Locale,
		ShopName:   shop.Name,
		Status:     v.Status,
		SessionID:  v.SessionID,
		Amount:     money(shop, v.Currency, v.Amount),
		FormAction: sandboxPath(v.SessionID),
	})
}

// sandboxComplete settles a sandbox session the way a remote gateway would (a signed
// webhook, delivered in the background) and sends the customer back to the pay link.
func (s *Server) sandboxComplete(c *gin.Context) {
	id := c.Param("session")
	deliver := c.PostForm("deliver")
	if deliver == "" {
		deliver = "normal"
	}
	returnURL, err := s.sandbox.Complete(c.Request.Context(), id, sandbox.Outcome(c.PostForm("outcome")), sandbox.Delivery(deliver))
	if err != nil {
		s.pageError(c, err, nil)
		return
	}
	c.Redirect(http.StatusSeeOther, returnURL)
}
