package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// captureRequest is the body of POST /api/v1/orders/{id}/capture; a missing amount
// (or no body) captures everything authorised.
type captureRequest struct {
	Amount *int64 `json:"amount"`
}

// capturePayment asks for the capture of the order's authorised payment and answers
// 202 with the order: the gateway is asked by a job, and the order's payment status
// turns paid when it has answered.
func (s *Server) capturePayment(c *gin.Context) {
	id, ok := s.orderID(c)
	if !ok {
		return
	}
	var req captureRequest
	body, err := readBody(c.Writer, c.Request)
	if err == nil {
		err = decodeJSON(body, &req, "", true)
	}
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest) // malformed JSON is a bad request
		return
	}
	ctx := c.Request.Context()
	if _, err := s.svc.CapturePayment(ctx, shopID(c), id, req.Amount); err != nil {
		// A well-formed capture the order cannot take (over the authorised amount) is
		// 422, like a refund's.
		s.apiError(c, err, http.StatusUnprocessableEntity)
		return
	}
	o, err := s.svc.Order(ctx, shopID(c), id)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	s.respondOrder(c, http.StatusAccepted, o)
}
