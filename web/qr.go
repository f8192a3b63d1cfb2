package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// The QR page (PromptPay through Opn Payments) is served at the pay link itself: Pay
// now creates the charge and redirects back to the link, and while the latest attempt's
// session has a payable QR code, GET shows the code instead of Pay now. Reloading the
// page, or the <noscript> refresh, therefore shows the same code or, once paid, the paid
// page, and never starts another charge.
//
// The image is shown straight from the gateway (<img src> on its origin, allowed by
// img-src for that origin alone) rather than fetched and inlined here: chatpay then
// makes no request on a URL a gateway response chose, holds no image bytes, and the
// browser's request carries no token (Referrer-Policy: no-referrer). The gateway learns
// the customer's address, which it learns anyway when they pay.

// qrStatusPath is the link's status endpoint, polled by the QR page.
func qrStatusPath(token string) string { return payPath(token) + "/status" }

// sessionQR returns the QR code of the latest attempt's session and the origin its
// image is served from, or nil when there is none to show: no attempt with a session
// yet, a gateway without QR codes, a code already paid or expired, or a gateway that
// did not answer in time (the pay page is then shown as usual).
func (s *Server) sessionQR(ctx context.Context, shop *orders.Shop, a *orders.Attempt) (*gateway.QRCode, string) {
	if a == nil || a.Status != orders.AttemptCreated || a.SessionID == "" {
		return nil, ""
	}
	g, err := s.gateways.Get(shop.ID, a.Gateway)
	if err != nil {
		return nil, ""
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return s.qrFor(ctx, g, a, a.SessionID)
}

// qrFor asks g for the QR code of the attempt's session, and returns it and its image
// origin if the pay page may show it. Pay now uses it too, so that it sends the
// customer back to the link only when the link will show the code.
func (s *Server) qrFor(ctx context.Context, g gateway.Gateway, a *orders.Attempt, sessionID string) (*gateway.QRCode, string) {
	qc, ok := g.(gateway.QRCoder)
	if !ok {
		return nil, ""
	}
	qr, err := qc.SessionQRCode(ctx, sessionID)
	if err != nil {
		switch orders.ErrorCode(err) {
		case orders.ENOTFOUND, orders.EGONE:
		default:
			s.log.WarnContext(ctx, "session QR code", "gateway", a.Gateway, "attempt", a.ID, "err", err)
		}
		return nil, ""
	}
	// A code for another amount than the attempt's would take the wrong money: it is
	// never shown, whatever the gateway says.
	if qr.Amount != a.Amount || qr.Currency != a.Currency {
		s.log.ErrorContext(ctx, "session QR code for another amount", "gateway", a.Gateway, "attempt", a.ID,
			"qr_amount", qr.Amount, "qr_currency", qr.Currency, "amount", a.Amount, "currency", a.Currency)
		return nil, ""
	}
	origin, ok := imageOrigin(qr.ImageURL)
	if !ok {
		s.log.ErrorContext(ctx, "session QR code has an unusable image URL", "gateway", a.Gateway, "attempt", a.ID)
		return nil, ""
	}
	return qr, origin
}

// imageOrigin returns the scheme://host[:port] of an absolute http(s) URL with no user
// information, the only kind the QR page embeds and names in its CSP. The origin comes
// from a parsed URL, so nothing a gateway sends can add a directive to the policy.
func imageOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

// qrZones are the time zones QR expiries are shown in, by currency: the code is paid
// from a banking app of that country. PromptPay is Thai, and Thailand keeps UTC+7 all
// year; other currencies show UTC.
var qrZones = map[string]*time.Location{"THB": time.FixedZone("UTC+7", 7*3600)}

// formatExpiry formats an expiry for the QR page, unambiguous in every locale.
func formatExpiry(at time.Time, currency string) string {
	loc, ok := qrZones[currency]
	if !ok {
		loc = time.UTC
	}
	return at.In(loc).Format("2006-01-02 15:04") + " (" + loc.String() + ")"
}

// renderQR shows the QR page for the link's latest session. Its policy allows images
// from the QR's origin, the one script carrying a fresh nonce, and fetches to this
// origin (the status endpoint); form-action stays 'self', the page posts nothing.
func (s *Server) renderQR(c *gin.Context, shop *orders.Shop, o *orders.Order, token string, qr *gateway.QRCode, origin string) {
	// 130 random bits, fresh for every view.
	nonce := rand.Text()
	p := orderPage(shop, o)
	p.QRImage = qr.ImageURL
	p.Amount = money(shop, qr.Currency, qr.Amount)
	if !qr.ExpiresAt.IsZero() {
		p.Expires = formatExpiry(qr.ExpiresAt, qr.Currency)
		p.ExpiresISO = qr.ExpiresAt.UTC().Format(time.RFC3339)
	}
	p.FormAction = payPath(token)
	p.StatusURL = qrStatusPath(token)
	p.Nonce = nonce
	c.Header("Content-Security-Policy", cspBase+"; img-src "+origin+"; script-src 'nonce-"+nonce+"'; connect-src 'self'")
	s.renderPage(c, http.StatusOK, "qr", p)
}

// payStatus answers the QR page's polls with the link's status and nothing else:
// the order's status, or payment_failed while it awaits payment after a failed (or
// expired) attempt. Unknown links are 404 and cancelled or deleted orders 410, like the
// link itself. It reads only chatpay's store, never the gateway, so polling is cheap;
// the status changes when the gateway's verified webhook arrives.
func (s *Server) payStatus(c *gin.Context) {
	o, latest, err := s.svc.PayPage(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.apiError(c, err, http.StatusNotFound)
		return
	}
	status, code := o.Status, http.StatusOK
	switch o.Status {
	case orders.StatusAwaitingPayment:
		if latest != nil && latest.Status == orders.AttemptFailed {
			status = "payment_failed"
		}
	case orders.StatusCancelled, orders.StatusDeleted:
		code = http.StatusGone
	}
	c.JSON(code, gin.H{"status": status})
}
