package web

import (
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The dashboard's order page (issue 4) and its actions. Each action is a POST form
// behind sameOrigin, like sign-out, and answers 303 back to the order page with a
// message key in ?msg= (never text: the page shows only its own strings), so that a
// reload does not post again.

// orderPath is an order's dashboard page.
func orderPath(id string) string { return dashboardPath + "/orders/" + url.PathEscape(id) }

// dashboardShop is the signed-in user's shop, when the user may see orders; otherwise
// it has answered and returns nil.
func (s *Server) dashboardShop(c *gin.Context, u *auth.User) *orders.Shop {
	shop, err := s.svc.Shop(u.ShopID)
	if err != nil {
		s.pageError(c, err, nil)
		return nil
	}
	if !u.Can(auth.ActionViewOrders) {
		s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: shop.Locale, ShopName: shop.Name})
		return nil
	}
	return shop
}

// dashboardOrder shows one of the shop's orders: items, the payment link, attempts,
// payments, refunds, shipments, a timeline and the action forms the user's role
// allows. Another shop's order is not found, exactly like one that does not exist.
func (s *Server) dashboardOrder(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return
	}
	ctx := c.Request.Context()
	o, err := s.svc.Order(ctx, shop.ID, c.Param("id"))
	if err == nil && o.Status == orders.StatusDeleted {
		err = orders.Errorf(orders.ENOTFOUND, "order not found")
	}
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	store := s.svc.Store()
	attempts, err := store.OrderAttempts(ctx, shop.ID, o.ID)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	refunds, err := store.OrderRefunds(ctx, shop.ID, o.ID)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	msgs, err := store.OrderMessages(ctx, shop.ID, o.ID)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}

	p := orderPage(shop, o)
	p.Email = u.Email
	d := &templates.OrderDetail{
		Path: orderPath(o.ID), Customer: o.Customer.Name, PaymentStatus: o.PaymentStatus,
		PaymentMethod: o.PaymentMethod, Currency: o.Currency,
	}
	p.Order = d
	if o.LinkActive() {
		if d.LinkURL, err = s.svc.LinkURL(o); err != nil {
			s.pageError(c, err, shop)
			return
		}
	}
	fm := func(amount int64) string { return money(shop, o.Currency, amount) }

	var tl []timed
	add := func(at time.Time, e templates.TimelineEntry) {
		e.Time, e.TimeISO = stamp(at)
		tl = append(tl, timed{at, e})
	}
	add(o.CreatedAt, templates.TimelineEntry{Event: "created", Text: fm(o.Total)})
	for _, a := range attempts {
		r := templates.AttemptRow{Gateway: a.Gateway, Amount: fm(a.Amount), Status: a.Status, FailureReason: a.FailureReason}
		r.Time, r.TimeISO = stamp(a.CreatedAt)
		d.Attempts = append(d.Attempts, r)
		add(a.CreatedAt, templates.TimelineEntry{Event: "attempt", Text: fm(a.Amount), Status: a.Status, Reason: a.FailureReason})
	}
	// What is left to refund counts pending refunds as done, as the service does, so
	// the form never offers money already on its way back.
	refunding := map[string]int64{}
	for _, r := range refunds {
		if r.Status != orders.RefundFailed {
			refunding[r.PaymentID] += r.Amount
		}
		row := templates.RefundRow{Amount: fm(r.Amount), Status: r.Status, Reason: r.Reason, FailureReason: r.FailureReason}
		row.Time, row.TimeISO = stamp(r.CreatedAt)
		d.Refunds = append(d.Refunds, row)
		add(r.CreatedAt, templates.TimelineEntry{Event: "refund", Text: fm(r.Amount), Status: r.Status, Reason: r.FailureReason})
	}
	var refundable int64
	for _, py := range o.Payments {
		row := templates.PaymentRow{Gateway: py.Gateway, Ref: py.GatewayRef, Amount: fm(py.Amount), Duplicate: py.Duplicate}
		if done := max(py.RefundedAmount, refunding[py.ID]); done > 0 {
			row.Refunded = fm(done)
		}
		row.Time, row.TimeISO = stamp(py.CreatedAt)
		d.Payments = append(d.Payments, row)
		add(py.CreatedAt, templates.TimelineEntry{Event: "payment", Text: fm(py.Amount)})
		if !py.Duplicate {
			refundable += max(py.Amount-refunding[py.ID], 0)
		}
	}
	for _, sh := range o.Shipments {
		row := templates.ShipmentRow{Carrier: sh.Carrier, Tracking: sh.TrackingNumber}
		row.Time, row.TimeISO = stamp(sh.CreatedAt)
		d.Shipments = append(d.Shipments, row)
		add(sh.CreatedAt, templates.TimelineEntry{Event: "shipment", Text: strings.TrimSpace(sh.Carrier + " " + sh.TrackingNumber)})
	}
	for _, m := range msgs {
		add(m.CreatedAt, templates.TimelineEntry{Event: "message_" + m.Direction, Text: m.Text, Status: m.Status, Reason: m.FailureReason})
	}
	slices.SortStableFunc(tl, func(a, b timed) int { return a.at.Compare(b.at) })
	for _, e := range tl {
		d.Timeline = append(d.Timeline, e.entry)
	}

	d.CanResend = u.Can(auth.ActionCreateOrder) && o.LinkActive() && o.ConversationID != ""
	d.CanCancel = u.Can(auth.ActionCancelOrder) && o.Status == orders.StatusAwaitingPayment
	if u.Can(auth.ActionShip) && o.PaymentStatus != orders.PaymentRefunded {
		switch {
		case o.Status == orders.StatusPaid || o.Status == orders.StatusShipped:
			d.CanShip = true
		case o.Status == orders.StatusAwaitingPayment && o.PaymentMethod == orders.MethodCOD:
			d.CanShip = true
		case o.Status == orders.StatusAwaitingPayment:
			d.ShipBlocked = true
		}
	}
	d.CanRefund = u.Can(auth.ActionRefund) && o.PaymentStatus != orders.PaymentDisputed
	if refundable > 0 {
		d.Refundable, d.RefundableInput = fm(refundable), plainAmount(refundable, decimalsOf(o.Currency))
	}
	if key := c.Query("msg"); key != "" {
		d.Flash, d.FlashBad = key, !slices.Contains(okFlashes, key)
	}
	s.renderPage(c, http.StatusOK, "dashboard_order", p)
}

// timed is a timeline entry with the time it sorts by.
type timed struct {
	at    time.Time
	entry templates.TimelineEntry
}

// stamp formats a time for people and for <time datetime>.
func stamp(t time.Time) (string, string) {
	t = t.UTC()
	return t.Format("2006-01-02 15:04 UTC"), t.Format(time.RFC3339)
}

// okFlashes are the message keys of actions that succeeded; any other key is shown
// as a failure.
var okFlashes = []string{"resent", "cancelled", "shipped", "refunded"}

// dashboardAction runs one action of the order page for a user whose role may do it,
// then sends the browser back to the order page with the outcome's message key.
// A role that may not is answered 403, whatever the form: the page hides such forms,
// so only a hand-made post gets here.
func (s *Server) dashboardAction(action auth.Action, done string, run func(c *gin.Context, shop *orders.Shop, id string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := dashboardUser(c)
		shop := s.dashboardShop(c, u)
		if shop == nil {
			return
		}
		if !u.Can(action) {
			s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: shop.Locale, ShopName: shop.Name})
			return
		}
		id := c.Param("id")
		err := run(c, shop, id)
		key := done
		switch orders.ErrorCode(err) {
		case "":
		case orders.ENOTFOUND:
			s.pageError(c, err, shop)
			return
		case orders.EPAYMENTREQUIRED:
			key = "not_paid"
		case orders.ECONFLICT:
			key = "conflict"
		case orders.EINVALID:
			key = "invalid"
			var e *orders.Error
			if errors.As(err, &e) && e.Field == "amount" {
				key = "amount"
			}
		default:
			s.pageError(c, err, shop)
			return
		}
		c.Redirect(http.StatusSeeOther, orderPath(id)+"?msg="+key)
	}
}

func (s *Server) resendOrderLink(c *gin.Context, shop *orders.Shop, id string) error {
	return s.svc.ResendLink(c.Request.Context(), shop.ID, id)
}

func (s *Server) cancelDashboardOrder(c *gin.Context, shop *orders.Shop, id string) error {
	_, err := s.svc.CancelOrder(c.Request.Context(), shop.ID, id)
	return err
}

func (s *Server) shipDashboardOrder(c *gin.Context, shop *orders.Shop, id string) error {
	_, err := s.svc.CreateShipment(c.Request.Context(), shop.ID, id, c.PostForm("carrier"), c.PostForm("tracking"))
	return err
}

// refundDashboardOrder refunds the amount in the form, in the currency's major units
// (what the form shows), or everything left when the field is empty.
func (s *Server) refundDashboardOrder(c *gin.Context, shop *orders.Shop, id string) error {
	ctx := c.Request.Context()
	var amount *int64
	if raw := strings.TrimSpace(c.PostForm("amount")); raw != "" {
		o, err := s.svc.Order(ctx, shop.ID, id)
		if err != nil {
			return err
		}
		n, ok := parseAmount(raw, decimalsOf(o.Currency))
		if !ok {
			return orders.Invalidf("amount", "%q is not an amount", raw)
		}
		amount = &n
	}
	_, err := s.svc.CreateRefund(ctx, shop.ID, id, amount)
	return err
}

func decimalsOf(currency string) int {
	if cur, ok := orders.LookupCurrency(currency); ok {
		return cur.Decimals
	}
	return 2
}

// plainAmount writes minor units as a plain decimal number in major units ("1650.50"),
// the form a number field takes whatever the shop's locale.
func plainAmount(minor int64, decimals int) string {
	return new(big.Rat).SetFrac64(minor, pow10(decimals)).FloatString(decimals)
}

// parseAmount reads a plain decimal number of major units into minor units. It
// accepts ASCII digits with at most one '.' or ',' and no more decimals than the
// currency has; grouping separators are refused rather than guessed at.
func parseAmount(s string, decimals int) (int64, bool) {
	s = strings.ReplaceAll(s, ",", ".")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > decimals || len(whole) > 16 {
		return 0, false
	}
	var n int64
	for _, r := range whole + frac + strings.Repeat("0", decimals-len(frac)) {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	if n > orders.MaxAmount {
		return 0, false
	}
	return n, true
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
