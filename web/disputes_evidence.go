package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// maxEvidenceFile is the largest evidence document accepted: 10 MB, the smaller of
// what Omise (documents API) and Stripe (dispute_evidence files) take.
const maxEvidenceFile = 10 << 20

// maxEvidenceBody bounds an evidence upload's whole multipart body: the file plus room
// for the part headers and boundaries. It is enforced with http.MaxBytesReader before
// anything is read, so a larger upload is cut off rather than buffered.
const maxEvidenceBody = maxEvidenceFile + 64<<10

// maxDisputeMessage bounds a dispute message, Stripe's limit for its free-text
// evidence field.
const maxDisputeMessage = 20000

// evidenceTypes are the document types both gateways accept, as sniffed by
// http.DetectContentType; the client's Content-Type and the file name are not trusted.
var evidenceTypes = map[string]bool{"image/png": true, "image/jpeg": true, "application/pdf": true}

// registerDisputeAnswers adds the routes through which a shop answers a dispute.
func (s *Server) registerDisputeAnswers(api *gin.RouterGroup) {
	api.GET("/disputes/:id/suggested-evidence", s.suggestedEvidence)
	api.POST("/disputes/:id/evidence", s.attachEvidence)
	api.POST("/disputes/:id/message", s.disputeMessage)
	api.POST("/disputes/:id/submit", s.submitDispute)
	api.POST("/disputes/:id/accept", s.acceptDispute)
}

// disputeID returns the request's dispute id, answering 404 for one that cannot be.
func (s *Server) disputeID(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		s.apiError(c, orders.Errorf(orders.ENOTFOUND, "Dispute not found."), http.StatusBadRequest)
		return "", false
	}
	return id, true
}

// disputeResponder returns the shop's dispute that can still be answered and the
// gateway to answer it through. Another shop's dispute is not found; a closed one, or
// one whose gateway cannot answer disputes, is a conflict. It answers the request
// itself when it returns false.
func (s *Server) disputeResponder(c *gin.Context) (*orders.Dispute, gateway.DisputeResponder, bool) {
	id, ok := s.disputeID(c)
	if !ok {
		return nil, nil, false
	}
	d, err := s.svc.AnswerableDispute(c.Request.Context(), shopID(c), id)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return nil, nil, false
	}
	g, err := s.gateways.Get(shopID(c), d.Gateway)
	if err != nil {
		s.apiError(c, orders.Errorf(orders.ECONFLICT, "Gateway %q of dispute %s is no longer enabled for this shop.", d.Gateway, d.ID), http.StatusBadRequest)
		return nil, nil, false
	}
	r, ok := g.(gateway.DisputeResponder)
	if !ok {
		s.apiError(c, orders.Errorf(orders.ECONFLICT, "Gateway %q cannot answer disputes through chatpay; answer dispute %s in the gateway's dashboard.", d.Gateway, d.ID), http.StatusBadRequest)
		return nil, nil, false
	}
	return d, r, true
}

// attachEvidence answers POST /api/v1/disputes/{id}/evidence: a multipart upload with
// one PNG, JPEG or PDF of at most 10 MB in the field "file", passed on to the gateway.
func (s *Server) attachEvidence(c *gin.Context) {
	d, r, ok := s.disputeResponder(c)
	if !ok {
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxEvidenceBody)
	name, data, err := readEvidenceFile(c.Request)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	if len(data) > maxEvidenceFile {
		s.apiError(c, fmt.Errorf("%w%w", orders.Invalidf("file", "is %d bytes; at most 10 MB is accepted", len(data)),
			&http.MaxBytesError{Limit: maxEvidenceFile}), http.StatusBadRequest)
		return
	}
	if len(data) == 0 {
		s.apiError(c, orders.Invalidf("file", "is empty"), http.StatusBadRequest)
		return
	}
	ctype := http.DetectContentType(data)
	if i := strings.IndexByte(ctype, ';'); i >= 0 {
		ctype = ctype[:i]
	}
	if !evidenceTypes[ctype] {
		s.apiError(c, orders.Invalidf("file", "must be a PNG, JPEG or PDF document, got %s", ctype), http.StatusBadRequest)
		return
	}
	if err := r.AttachEvidence(c.Request.Context(), d.GatewayDisputeID, name, ctype, data); err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"dispute_id": d.ID, "filename": name, "content_type": ctype, "size": len(data)})
}

// readEvidenceFile reads the part "file" of a multipart request, whose body is already
// bounded. Other parts are skipped.
func readEvidenceFile(r *http.Request) (string, []byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, orders.Invalidf("file", "send the document as multipart/form-data in the field \"file\"")
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil, orders.Invalidf("file", "is required")
		}
		if err != nil {
			return "", nil, bodyError(err)
		}
		if p.FormName() != "file" {
			continue
		}
		name := p.FileName()
		if name == "" {
			name = "evidence"
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return "", nil, bodyError(err)
		}
		return name, data, nil
	}
}

// bodyError reports a failed read of an upload: 413 when the body was over its limit.
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("%w%w", orders.Invalidf("file", "is larger than 10 MB"), tooLarge)
	}
	return orders.Invalidf("file", "the upload could not be read")
}

// disputeMessage answers POST /api/v1/disputes/{id}/message {"text": "..."}.
func (s *Server) disputeMessage(c *gin.Context) {
	d, r, ok := s.disputeResponder(c)
	if !ok {
		return
	}
	body, err := readBody(c.Writer, c.Request)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	var req struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(body, &req, "", false); err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" {
		s.apiError(c, orders.Invalidf("text", "is required"), http.StatusBadRequest)
		return
	}
	if n := utf8.RuneCountInString(text); n > maxDisputeMessage {
		s.apiError(c, orders.Invalidf("text", "is %d characters; at most %d are accepted", n, maxDisputeMessage), http.StatusBadRequest)
		return
	}
	if err := r.AddMessage(c.Request.Context(), d.GatewayDisputeID, text); err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusOK, newDisputeJSON(d))
}

// submitDispute answers POST /api/v1/disputes/{id}/submit. The dispute's status here
// follows the gateway's webhook (pending once the network reviews it), not this call.
func (s *Server) submitDispute(c *gin.Context) {
	d, r, ok := s.disputeResponder(c)
	if !ok {
		return
	}
	if err := r.Submit(c.Request.Context(), d.GatewayDisputeID); err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusOK, newDisputeJSON(d))
}

// acceptDispute answers POST /api/v1/disputes/{id}/accept. The dispute becomes lost
// here only once the gateway has confirmed the acceptance (see
// orders.Service.AcceptDispute).
func (s *Server) acceptDispute(c *gin.Context) {
	_, r, ok := s.disputeResponder(c)
	if !ok {
		return
	}
	d, err := s.svc.AcceptDispute(c.Request.Context(), shopID(c), c.Param("id"), func(ctx context.Context, d *orders.Dispute) error {
		return r.Accept(ctx, d.GatewayDisputeID)
	})
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusOK, newDisputeJSON(d))
}

// suggestedEvidenceJSON is what chatpay knows that may help answer a dispute: the
// order as GET /api/v1/orders/{id} shows it (items, totals, payments), the chat about
// it and its shipments.
type suggestedEvidenceJSON struct {
	Dispute   disputeJSON    `json:"dispute"`
	Order     orderJSON      `json:"order"`
	Messages  []messageJSON  `json:"messages"`
	Shipments []shipmentJSON `json:"shipments"`
}

// suggestedEvidence answers GET /api/v1/disputes/{id}/suggested-evidence: the order's
// items and totals, the chat about it (directions and times) and its shipments.
func (s *Server) suggestedEvidence(c *gin.Context) {
	id, ok := s.disputeID(c)
	if !ok {
		return
	}
	ev, err := s.svc.SuggestedEvidence(c.Request.Context(), shopID(c), id)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	o, err := s.orderJSON(ev.Order)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	out := suggestedEvidenceJSON{
		Dispute: newDisputeJSON(ev.Dispute), Order: o,
		Messages:  make([]messageJSON, 0, len(ev.Messages)),
		Shipments: make([]shipmentJSON, 0, len(ev.Shipments)),
	}
	for _, m := range ev.Messages {
		out.Messages = append(out.Messages, newMessageJSON(m))
	}
	for _, sh := range ev.Shipments {
		out.Shipments = append(out.Shipments, newShipmentJSON(sh))
	}
	c.JSON(http.StatusOK, out)
}
