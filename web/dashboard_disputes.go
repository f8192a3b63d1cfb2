package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The dashboard's disputes pages (issue 5): the list with the disputes that wait for
// an answer, and one dispute with what chatpay knows that may help answer it (the
// order's items, the chat with the customer, the shipments) and the forms that answer
// it through the gateway.
//
// Roles: anyone who may see orders may see disputes. Answering one (evidence, a
// message, submitting, accepting) is the owner's, with the refund right: it decides
// whether the shop keeps the money, just as a refund does.
//
// The forms are offered only while the dispute is open and only when its gateway
// answers disputes through chatpay (a gateway.DisputeResponder), which is what the
// gateway supports: Stripe and Omise take evidence until the shop submits (Stripe) or
// sends its message (Omise), after which the dispute is pending and waits for the bank.
// A failed action shows the page again with the outcome and what was typed; one that
// worked answers 303 back to the page with its outcome's key in ?msg=, so that a
// reload does not post again.

const (
	disputesPath = dashboardPath + "/disputes"
	// dashboardDisputes is how many disputes one page of the list shows.
	dashboardDisputes = 50
	// disputeNotices is how many recent dispute notices the list shows.
	disputeNotices = 5
	// maxDisputeMessageBody bounds the message form: the longest message in UTF-8
	// (four bytes a character at most) with room for the multipart framing.
	maxDisputeMessageBody = 4*maxDisputeMessage + 16<<10
)

// disputeFilters are the list's status filters, in the order the page shows them.
var disputeFilters = []string{"", orders.DisputeOpen, orders.DisputePending, orders.DisputeWon, orders.DisputeLost, orders.DisputeClosed}

// okDisputeFlashes are the outcome keys of actions that worked; any other is shown as
// a failure.
var okDisputeFlashes = []string{"evidence_attached", "message_sent", "submitted", "accepted"}

func disputePath(id string) string { return disputesPath + "/" + url.PathEscape(id) }

func (s *Server) disputePageRoutes(r *gin.RouterGroup) {
	r.GET(disputesPath, s.requireUser, s.disputesPage)
	r.GET(disputesPath+"/:id", s.requireUser, s.disputePage)
	r.POST(disputesPath+"/:id/evidence", s.sameOriginBody(maxEvidenceBody), s.requireUser,
		s.disputeAnswer("evidence_attached", s.attachDashboardEvidence))
	r.POST(disputesPath+"/:id/message", s.sameOriginBody(maxDisputeMessageBody), s.requireUser,
		s.disputeAnswer("message_sent", s.dashboardDisputeMessage))
	r.POST(disputesPath+"/:id/submit", s.sameOrigin, s.requireUser,
		s.disputeAnswer("submitted", func(c *gin.Context, d *orders.Dispute, r gateway.DisputeResponder, _ *templates.DisputeDetail) error {
			return r.Submit(c.Request.Context(), d.GatewayDisputeID)
		}))
	r.POST(disputesPath+"/:id/accept", s.sameOrigin, s.requireUser, s.disputeAnswer("accepted", s.acceptDashboardDispute))
}

// dashboardPageView is the frame every dashboard page shares, open on section nav.
func dashboardPageView(shop *orders.Shop, u *auth.User, nav string) templates.PageView {
	return templates.PageView{
		Locale: shop.Locale, ShopName: shop.Name, Email: u.Email, Nav: nav,
		CanSettings: u.Can(auth.ActionChangeSettings),
	}
}

// disputeAlerts counts the shop's open disputes and finds the one due first, for the
// banner and the navigation's count.
func (s *Server) disputeAlerts(ctx context.Context, shop *orders.Shop) (*templates.DisputesView, error) {
	open, err := s.svc.ListDisputes(ctx, shop.ID, orders.DisputeFilter{Status: orders.DisputeOpen, Limit: 100})
	if err != nil {
		return nil, err
	}
	v := &templates.DisputesView{NeedAnswer: int64(len(open))}
	var soonest *orders.Dispute
	for _, d := range open {
		if d.EvidenceDueAt != nil && (soonest == nil || d.EvidenceDueAt.Before(*soonest.EvidenceDueAt)) {
			soonest = d
		}
	}
	if soonest != nil {
		row := s.disputeRow(shop, soonest)
		v.Soonest = &row
	}
	return v, nil
}

// disputeRow is a dispute as the pages show it, with its deadline's urgency at the
// service's clock: soon within the first reminder's days (7), urgent within the last
// one's (2), as the owner's reminders say.
func (s *Server) disputeRow(shop *orders.Shop, d *orders.Dispute) templates.DisputeRow {
	r := templates.DisputeRow{
		URL: disputePath(d.ID), Status: d.Status, Reason: d.Reason, Gateway: d.Gateway, GatewayName: gatewayTitle(d.Gateway),
		Amount: money(shop, d.Currency, d.Amount),
	}
	r.Opened, r.OpenedISO = stamp(d.CreatedAt)
	if d.EvidenceDueAt == nil {
		return r
	}
	r.Due, r.DueISO = stamp(*d.EvidenceDueAt)
	left := d.EvidenceDueAt.Sub(s.svc.Now())
	if left > 0 {
		r.DaysLeft = int64((left + 24*time.Hour - 1) / (24 * time.Hour))
	}
	if d.Status != orders.DisputeOpen {
		return r
	}
	switch {
	case left <= 0:
		r.Urgency = "overdue"
	case r.DaysLeft <= int64(slices.Min(orders.DisputeReminderDays)):
		r.Urgency = "urgent"
	case r.DaysLeft <= int64(slices.Max(orders.DisputeReminderDays)):
		r.Urgency = "soon"
	}
	return r
}

// disputesPage lists the shop's disputes, newest first, filtered by ?status= and paged
// by ?before=, with the open ones that wait for an answer and the latest notices
// about disputes above.
func (s *Server) disputesPage(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return
	}
	ctx := c.Request.Context()
	f := orders.DisputeFilter{Status: c.Query("status"), Limit: dashboardDisputes + 1}
	if before := c.Query("before"); before != "" {
		if _, err := uuid.Parse(before); err != nil {
			s.pageError(c, orders.Invalidf("before", "is not a dispute id"), shop)
			return
		}
		f.BeforeID = before
	}
	list, err := s.svc.ListDisputes(ctx, shop.ID, f)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	v, err := s.disputeAlerts(ctx, shop)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	v.Filter = f.Status
	for _, key := range disputeFilters {
		link := disputesPath
		if key != "" {
			link += "?status=" + key
		}
		label := key
		if key == "" {
			label = "all"
		}
		v.Filters = append(v.Filters, templates.DisputeFilterLink{Key: label, URL: link, Current: key == f.Status})
	}
	if len(list) > dashboardDisputes {
		list = list[:dashboardDisputes]
		q := url.Values{"before": {list[len(list)-1].ID}}
		if f.Status != "" {
			q.Set("status", f.Status)
		}
		v.OlderURL = disputesPath + "?" + q.Encode()
	}
	for _, d := range list {
		v.Rows = append(v.Rows, s.disputeRow(shop, d))
	}
	notices, err := s.svc.Store().Notices(ctx, shop.ID, 100)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	for _, n := range notices {
		if len(v.Notices) == disputeNotices {
			break
		}
		switch n.Kind {
		case orders.NoticeDisputeOpened, orders.NoticeDisputeDeadline, orders.NoticeDisputeClosed:
			row := templates.DisputeNotice{Text: n.Text}
			row.Time, row.TimeISO = stamp(n.CreatedAt)
			if n.OrderID != "" {
				row.URL = orderPath(n.OrderID)
			}
			v.Notices = append(v.Notices, row)
		}
	}
	p := dashboardPageView(shop, u, "disputes")
	p.Disputes = v
	s.renderPage(c, http.StatusOK, "disputes", p)
}

// dashboardDispute reads the request's dispute of the shop; another shop's, or an id
// that cannot be one, is not found like one that does not exist. It has answered
// when it returns nil.
func (s *Server) dashboardDispute(c *gin.Context, shop *orders.Shop) *orders.Dispute {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		s.pageError(c, orders.Errorf(orders.ENOTFOUND, "Dispute not found."), shop)
		return nil
	}
	d, err := s.svc.Dispute(c.Request.Context(), shop.ID, id)
	if err != nil {
		s.pageError(c, err, shop)
		return nil
	}
	return d
}

// disputePage shows one of the shop's disputes.
func (s *Server) disputePage(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return
	}
	d := s.dashboardDispute(c, shop)
	if d == nil {
		return
	}
	s.renderDispute(c, http.StatusOK, shop, u, d, func(v *templates.DisputeDetail) {
		if key := c.Query("msg"); key != "" {
			v.Flash, v.FlashBad = key, !slices.Contains(okDisputeFlashes, key)
		}
	})
}

// renderDispute draws the dispute page with status; change, when not nil, sets the
// outcome of an action on the view before it is drawn.
func (s *Server) renderDispute(c *gin.Context, status int, shop *orders.Shop, u *auth.User, d *orders.Dispute, change func(*templates.DisputeDetail)) {
	ctx := c.Request.Context()
	ev, err := s.svc.SuggestedEvidence(ctx, shop.ID, d.ID)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	o := ev.Order
	v, err := s.disputeAlerts(ctx, shop)
	if err != nil {
		s.pageError(c, err, shop)
		return
	}
	det := &templates.DisputeDetail{
		DisputeRow: s.disputeRow(shop, d), Path: disputePath(d.ID), GatewayDisputeID: d.GatewayDisputeID,
		OrderURL: orderPath(o.ID), Customer: o.Customer.Name,
	}
	if d.ClosedAt != nil {
		det.Closed, det.ClosedISO = stamp(*d.ClosedAt)
	}
	if i := slices.IndexFunc(o.Payments, func(p *orders.Payment) bool { return p.ID == d.PaymentID }); i >= 0 {
		det.PaymentRef = o.Payments[i].GatewayRef
		det.Paid, det.PaidISO = stamp(o.Payments[i].CreatedAt)
	}
	for _, m := range ev.Messages {
		line := templates.TranscriptLine{Direction: m.Direction, Kind: m.Kind, Text: m.Text, Status: m.Status}
		line.Time, line.TimeISO = stamp(m.CreatedAt)
		det.Transcript = append(det.Transcript, line)
	}
	for _, sh := range ev.Shipments {
		row := templates.ShipmentRow{Carrier: sh.Carrier, Tracking: sh.TrackingNumber}
		row.Time, row.TimeISO = stamp(sh.CreatedAt)
		det.Shipments = append(det.Shipments, row)
	}
	_, why := s.dashboardResponder(shop, u, d)
	det.CanAnswer, det.Why = why == "", why
	if change != nil {
		change(det)
	}
	v.Dispute = det

	p := orderPage(shop, o)
	p.Status = "" // the page's status is the dispute's, in the view
	p.Email, p.Nav, p.CanSettings = u.Email, "disputes", u.Can(auth.ActionChangeSettings)
	p.Disputes = v
	s.renderPage(c, status, "dispute", p)
}

// dashboardResponder returns the gateway that answers the dispute for this user, or
// why the dispute cannot be answered from the dashboard (a DisputeDetail.Why key).
func (s *Server) dashboardResponder(shop *orders.Shop, u *auth.User, d *orders.Dispute) (gateway.DisputeResponder, string) {
	switch {
	case !u.Can(auth.ActionRefund):
		return nil, "role"
	case d.Closed():
		return nil, "closed"
	case d.Status != orders.DisputeOpen:
		return nil, "pending"
	}
	g, err := s.gateways.Get(shop.ID, d.Gateway)
	if err != nil {
		return nil, "gateway_off"
	}
	r, ok := g.(gateway.DisputeResponder)
	if !ok {
		return nil, "gateway"
	}
	return r, ""
}

// disputeAction is one way of answering a dispute. It returns an error coded as the
// gateways code theirs (see gateway.DisputeResponder), or a *formError for what the
// form itself got wrong; it may fill the view's Text to keep what was typed.
type disputeAction func(c *gin.Context, d *orders.Dispute, r gateway.DisputeResponder, v *templates.DisputeDetail) error

// formError is a dashboard form's mistake: the key of its message (dsp_flash_<key>).
type formError struct {
	key    string
	status int
}

func (e *formError) Error() string { return "form: " + e.key }

// disputeAnswer runs an answer to a dispute for an owner, then sends the browser back
// to the dispute page with the outcome. A role that may not answer is refused with
// 403 whatever the form (the page shows it no forms). A dispute that can no longer
// be answered, a mistake in the form or a refusal of the gateway shows the page again
// with the reason and what was typed.
func (s *Server) disputeAnswer(done string, run disputeAction) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := dashboardUser(c)
		shop := s.dashboardShop(c, u)
		if shop == nil {
			return
		}
		d := s.dashboardDispute(c, shop)
		if d == nil {
			return
		}
		r, why := s.dashboardResponder(shop, u, d)
		if why == "role" {
			s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: shop.Locale, ShopName: shop.Name})
			return
		}
		var kept templates.DisputeDetail
		err := error(&formError{key: why, status: http.StatusConflict})
		if why == "" {
			err = run(c, d, r, &kept)
		}
		if err == nil {
			c.Redirect(http.StatusSeeOther, disputePath(d.ID)+"?msg="+done)
			return
		}
		key, detail, status := s.disputeFailure(c, err)
		if status == 0 {
			return
		}
		if cur, err := s.svc.Dispute(c.Request.Context(), shop.ID, d.ID); err == nil {
			d = cur // the gateway may have moved it meanwhile
		}
		s.renderDispute(c, status, shop, u, d, func(v *templates.DisputeDetail) {
			v.Flash, v.FlashBad, v.FlashDetail = key, true, detail
			v.Text, v.ConfirmAccept = kept.Text, kept.ConfirmAccept
		})
	}
}

// disputeFailure turns an action's error into the key of its message, the detail to
// show under it (a gateway's own words, which say what to do), and the status to
// answer. Status 0 means it answered already.
func (s *Server) disputeFailure(c *gin.Context, err error) (key, detail string, status int) {
	var fe *formError
	if errors.As(err, &fe) {
		return fe.key, "", fe.status
	}
	var e *orders.Error
	if !errors.As(err, &e) || e.Code == orders.EINTERNAL {
		s.log.ErrorContext(c.Request.Context(), "answer dispute", "route", routeLabel(c), "err", err)
		return "gateway_error", "", http.StatusBadGateway
	}
	switch e.Code {
	case orders.EINVALID:
		return "gateway_invalid", e.Message, http.StatusUnprocessableEntity
	case orders.ECONFLICT, orders.ENOTFOUND:
		return "conflict", e.Message, http.StatusConflict
	}
	s.log.ErrorContext(c.Request.Context(), "answer dispute", "route", routeLabel(c), "err", err)
	return "gateway_error", "", http.StatusBadGateway
}

// attachDashboardEvidence passes one uploaded PNG, JPEG or PDF of at most 10 MB on to
// the gateway. The type is sniffed from the content: neither the browser's
// Content-Type nor the file name is trusted.
func (s *Server) attachDashboardEvidence(c *gin.Context, d *orders.Dispute, r gateway.DisputeResponder, _ *templates.DisputeDetail) error {
	name, data, err := readEvidenceFile(c.Request)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || len(data) > maxEvidenceFile:
		return &formError{key: "file_size", status: http.StatusRequestEntityTooLarge}
	case err != nil:
		return &formError{key: "file_missing", status: http.StatusBadRequest}
	case len(data) == 0:
		return &formError{key: "file_empty", status: http.StatusBadRequest}
	}
	ctype, _, _ := strings.Cut(http.DetectContentType(data), ";")
	if !evidenceTypes[ctype] {
		return &formError{key: "file_type", status: http.StatusUnsupportedMediaType}
	}
	return r.AttachEvidence(c.Request.Context(), d.GatewayDisputeID, name, ctype, data)
}

// dashboardDisputeMessage sends the shop's written answer. The form is multipart, so
// that a long message in any script fits the body's bound without percent-encoding
// tripling it; a plain urlencoded post works too.
func (s *Server) dashboardDisputeMessage(c *gin.Context, d *orders.Dispute, r gateway.DisputeResponder, v *templates.DisputeDetail) error {
	err := c.Request.ParseMultipartForm(maxDisputeMessageBody)
	if c.Request.MultipartForm != nil {
		defer func() { _ = c.Request.MultipartForm.RemoveAll() }()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &formError{key: "text_long", status: http.StatusRequestEntityTooLarge}
	case err != nil && !errors.Is(err, http.ErrNotMultipart):
		return &formError{key: "text_missing", status: http.StatusBadRequest}
	}
	v.Text = c.Request.PostFormValue("text")
	text := strings.TrimSpace(v.Text)
	switch {
	case text == "":
		return &formError{key: "text_missing", status: http.StatusBadRequest}
	case utf8.RuneCountInString(text) > maxDisputeMessage:
		return &formError{key: "text_long", status: http.StatusUnprocessableEntity}
	}
	return r.AddMessage(c.Request.Context(), d.GatewayDisputeID, text)
}

// acceptDashboardDispute concedes the dispute once the owner has ticked the box that
// says the customer keeps the money. The dispute is recorded as lost only when the
// gateway confirms (see orders.Service.AcceptDispute).
func (s *Server) acceptDashboardDispute(c *gin.Context, d *orders.Dispute, r gateway.DisputeResponder, v *templates.DisputeDetail) error {
	if c.PostForm("confirm") != "yes" {
		v.ConfirmAccept = true
		return &formError{key: "confirm", status: http.StatusBadRequest}
	}
	_, err := s.svc.AcceptDispute(c.Request.Context(), d.ShopID, d.ID, func(ctx context.Context, d *orders.Dispute) error {
		return r.Accept(ctx, d.GatewayDisputeID)
	})
	return err
}
