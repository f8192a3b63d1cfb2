package web

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/gateway"
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
// allows, as the payment's gateway allows them. Another shop's order is not found,
// exactly like one that does not exist.
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
	msgs, err := s.orderTimelineMessages(ctx, shop.ID, o)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}

	p := orderPage(shop, o)
	p.Email = u.Email
	p.Nav, p.CanSettings, p.Assets = "orders", u.Can(auth.ActionChangeSettings), []string{"copy.js", "live.js"}
	d := &templates.OrderDetail{
		Path: orderPath(o.ID), ID: o.ID, Customer: o.Customer.Name, PaymentStatus: o.PaymentStatus,
		PaymentMethod: o.PaymentMethod, Currency: o.Currency, Live: "order:" + o.ID,
	}
	if o.ConversationID != "" {
		d.Live += " conversation:" + o.ConversationID
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
	refundCount := map[string]int64{}
	for _, r := range refunds {
		if r.Status != orders.RefundFailed {
			refunding[r.PaymentID] += r.Amount
			refundCount[r.PaymentID]++
		}
		row := templates.RefundRow{Amount: fm(r.Amount), Status: r.Status, Reason: r.Reason, FailureReason: r.FailureReason}
		row.Time, row.TimeISO = stamp(r.CreatedAt)
		d.Refunds = append(d.Refunds, row)
		add(r.CreatedAt, templates.TimelineEntry{Event: "refund", Text: fm(r.Amount), Status: r.Status, Reason: r.FailureReason})
	}
	// The service refunds the first payment with something left on it; the form
	// offers what is left on that one, under its gateway's rules.
	var target *orders.Payment
	var refundable int64
	back := make(map[string]int64, len(o.Payments))
	for _, py := range o.Payments {
		row := templates.PaymentRow{Gateway: py.Gateway, Ref: py.GatewayRef, Amount: fm(py.Amount), Status: py.Status, Duplicate: py.Duplicate}
		if done := max(py.RefundedAmount, refunding[py.ID]); done > 0 {
			row.Refunded = fm(done)
		}
		row.Time, row.TimeISO = stamp(py.CreatedAt)
		d.Payments = append(d.Payments, row)
		add(py.CreatedAt, templates.TimelineEntry{Event: "payment", Text: fm(py.Amount)})
		if rest := py.Amount - max(py.RefundedAmount, refunding[py.ID]); target == nil && !py.Duplicate && rest > 0 {
			target, refundable = py, rest
		}
		back[py.ID] = max(py.RefundedAmount, refunding[py.ID])
	}
	// The service's own rule for refusing a shipment.
	fullyRefunding := orders.FullyRefunding(o, back)
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
	if u.Can(auth.ActionShip) {
		shippable := o.Status == orders.StatusPaid || o.Status == orders.StatusShipped
		switch {
		case o.PaymentStatus == orders.PaymentAuthorized:
			d.ShipBlocked, d.ShipWhy = true, "not_captured"
		case shippable && (fullyRefunding || o.PaymentStatus == orders.PaymentRefunded):
			// Shown disabled with the reason, not hidden, so that staff who expect
			// to ship learn why they may not.
			d.ShipBlocked, d.ShipWhy = true, "refunded"
		case shippable:
			d.CanShip = true
		case o.Status == orders.StatusAwaitingPayment && o.PaymentMethod == orders.MethodCOD:
			d.CanShip = true
		case o.Status == orders.StatusAwaitingPayment:
			d.ShipBlocked, d.ShipWhy = true, "not_paid"
		}
	}
	d.CanRefund = u.Can(auth.ActionRefund) && o.PaymentStatus != orders.PaymentAuthorized
	if target != nil {
		d.Refundable, d.RefundableInput = fm(refundable), plainAmount(refundable, decimalsOf(o.Currency))
		s.refundRules(d, shop.ID, o, target, refundable, refundCount[target.ID])
	}
	s.captureForm(d, u, shop, o)
	if key := c.Query("msg"); key != "" {
		d.Flash, d.FlashBad = key, !slices.Contains(okFlashes, key)
	}
	s.renderPage(c, http.StatusOK, "dashboard_order", p)
}

// refundRules fills in what the refund form may offer on payment p, which has
// refundable left and count refunds made, as p's gateway allows: the service refuses
// the rest anyway, but the form should not offer what will be refused.
func (s *Server) refundRules(d *templates.OrderDetail, shopID string, o *orders.Order, p *orders.Payment, refundable, count int64) {
	caps, err := s.gateways.Capabilities(shopID, p.Gateway)
	if err != nil {
		// A gateway the shop no longer has: the service does not refuse by its rules
		// either, and the refund job reports what the gateway says.
		caps = gateway.Capabilities{PartialRefund: true}
	}
	d.RefundPartial = caps.PartialRefund
	if caps.MaxRefundsPerPayment > 0 {
		d.RefundsUsed, d.RefundsMax = count, int64(caps.MaxRefundsPerPayment)
	}
	if caps.RefundWindow > 0 {
		until := p.CreatedAt.Add(caps.RefundWindow)
		d.RefundUntil = until.UTC().Format(time.DateOnly)
		if s.svc.Now().After(until) {
			d.RefundWhy = "window"
		}
	}
	switch {
	case o.PaymentStatus == orders.PaymentDisputed:
		d.RefundWhy = "disputed"
	case caps.MaxRefundsPerPayment > 0 && count >= int64(caps.MaxRefundsPerPayment):
		d.RefundWhy = "limit"
	case !caps.PartialRefund && refundable != p.Amount:
		// Part of the payment is back already, and the gateway refunds only whole
		// payments.
		d.RefundWhy = "whole_only"
	}
}

// captureForm fills in the capture form of an order whose payment is only
// authorised. Capturing everything held is part of fulfilling the order, like
// shipping it, so whoever may ship may capture; capturing less releases the rest to
// the customer for good, which is a refund in all but name, so only those who may
// refund may choose the amount.
func (s *Server) captureForm(d *templates.OrderDetail, u *auth.User, shop *orders.Shop, o *orders.Order) {
	if o.PaymentStatus != orders.PaymentAuthorized || !u.Can(auth.ActionShip) {
		return
	}
	p := authorizedPayment(o)
	if p == nil {
		return
	}
	d.CanCapture = true
	d.Capturable, d.CapturableInput = money(shop, o.Currency, p.Amount), plainAmount(p.Amount, decimalsOf(o.Currency))
	caps, err := s.gateways.Capabilities(shop.ID, p.Gateway)
	switch {
	case err != nil || !caps.Capture:
		d.CaptureWhy = "unsupported"
	case p.Status == orders.PaymentStatusCapturing:
		d.CaptureWhy = "capturing"
	}
	d.CapturePartial = caps.PartialCapture && u.Can(auth.ActionRefund)
}

// authorizedPayment is the order's payment held at the gateway, authorised or being
// captured, or nil.
func authorizedPayment(o *orders.Order) *orders.Payment {
	for _, p := range o.Payments {
		if !p.Duplicate && (p.Status == orders.PaymentStatusAuthorized || p.Status == orders.PaymentStatusCapturing) {
			return p
		}
	}
	return nil
}

// Bounds of the conversation messages an order's timeline shows: pages of
// timelinePage, at most timelinePages of them, newest first from the order's end.
const (
	timelinePage  = orders.MaxTranscriptPage
	timelinePages = 5
)

// orderTimelineMessages returns the chat messages of an order's timeline: every
// message about the order (the card, confirmations, notices to staff), and the
// messages in and out of its conversation while the order was open (from its creation
// until it was completed or cancelled) that are about no other order, which are what
// the customer and the shop said about it. Each message is listed once.
func (s *Server) orderTimelineMessages(ctx context.Context, shopID string, o *orders.Order) ([]*orders.Message, error) {
	store := s.svc.Store()
	msgs, err := store.OrderMessages(ctx, shopID, o.ID)
	if err != nil || o.ConversationID == "" {
		return msgs, err
	}
	seen := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		seen[m.ID] = true
	}
	// Read back from the order's end: a cursor after every message of its last
	// instant (IDs sort after "0").
	var before orders.Cursor
	if o.Status == orders.StatusCompleted || o.Status == orders.StatusCancelled {
		before = orders.Cursor{At: o.UpdatedAt.Add(time.Microsecond), ID: "0"}
	}
	for range timelinePages {
		page, err := store.ConversationMessages(ctx, shopID, o.ConversationID, orders.MessageFilter{Before: before, Limit: timelinePage})
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			// Another order's messages (its card, its confirmation) are on its own
			// timeline.
			if !seen[m.ID] && !m.CreatedAt.Before(o.CreatedAt) && (m.OrderID == "" || m.OrderID == o.ID) {
				seen[m.ID] = true
				msgs = append(msgs, m)
			}
		}
		if len(page) < timelinePage || page[0].CreatedAt.Before(o.CreatedAt) {
			break
		}
		before = orders.Cursor{At: page[0].CreatedAt, ID: page[0].ID}
	}
	return msgs, nil
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
var okFlashes = []string{"resent", "cancelled", "shipped", "refunded", "captured"}

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
		if errors.Is(err, errForbidden) {
			s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: shop.Locale, ShopName: shop.Name})
			return
		}
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
				if done == "captured" {
					key = "capture_amount"
				}
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
		n, ok := parseMoneyInput(raw, decimalsOf(o.Currency))
		if !ok {
			return orders.Invalidf("amount", "%q is not an amount", raw)
		}
		amount = &n
	}
	_, err := s.svc.CreateRefund(ctx, shop.ID, id, amount)
	return err
}

// errForbidden is what an action returns when the form asks for more than the user's
// role allows (a partial capture by staff): the page does not offer it, so only a
// hand-made post gets it.
var errForbidden = errors.New("web: the user's role does not allow this")

// captureDashboardOrder captures the order's authorised payment: all of it, or the
// amount in the form, in major units. A different amount from what is held releases
// the rest, so it needs the refund permission (see captureForm).
func (s *Server) captureDashboardOrder(c *gin.Context, shop *orders.Shop, id string) error {
	ctx := c.Request.Context()
	var amount *int64
	if raw := strings.TrimSpace(c.PostForm("amount")); raw != "" {
		o, err := s.svc.Order(ctx, shop.ID, id)
		if err != nil {
			return err
		}
		n, ok := parseMoneyInput(raw, decimalsOf(o.Currency))
		if !ok {
			return orders.Invalidf("amount", "%q is not an amount", raw)
		}
		if p := authorizedPayment(o); (p == nil || n != p.Amount) && !dashboardUser(c).Can(auth.ActionRefund) {
			return errForbidden
		}
		amount = &n
	}
	_, err := s.svc.CapturePayment(ctx, shop.ID, id, amount)
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

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
