package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/chatpay/chatpay/orders"
)

// disputeJSON is a dispute as the API shows it. Amounts are in minor units of
// Currency; evidence_due_at and closed_at are absent when unknown or still open.
type disputeJSON struct {
	ID               string     `json:"id"`
	OrderID          string     `json:"order_id"`
	PaymentID        string     `json:"payment_id"`
	Gateway          string     `json:"gateway"`
	GatewayDisputeID string     `json:"gateway_dispute_id"`
	Status           string     `json:"status"`
	Reason           string     `json:"reason"`
	Amount           int64      `json:"amount"`
	Currency         string     `json:"currency"`
	EvidenceDueAt    *time.Time `json:"evidence_due_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	ClosedAt         *time.Time `json:"closed_at,omitempty"`
}

func newDisputeJSON(d *orders.Dispute) disputeJSON {
	v := disputeJSON{
		ID: d.ID, OrderID: d.OrderID, PaymentID: d.PaymentID, Gateway: d.Gateway,
		GatewayDisputeID: d.GatewayDisputeID, Status: d.Status, Reason: d.Reason, Amount: d.Amount,
		Currency: d.Currency, CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt),
	}
	if d.EvidenceDueAt != nil {
		t := utc(*d.EvidenceDueAt)
		v.EvidenceDueAt = &t
	}
	if d.ClosedAt != nil {
		t := utc(*d.ClosedAt)
		v.ClosedAt = &t
	}
	return v
}

// listDisputes answers GET /api/v1/disputes?status=open|pending|won|lost|closed, newest
// first, paged like the orders list.
func (s *Server) listDisputes(c *gin.Context) {
	limit, err := parseLimit(c, defaultListLimit)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	f := orders.DisputeFilter{Status: c.Query("status"), Limit: limit + 1}
	if cur := c.Query("cursor"); cur != "" {
		if f.BeforeID, err = decodeCursor(cur); err != nil {
			s.apiError(c, err, http.StatusBadRequest)
			return
		}
	}
	list, err := s.svc.ListDisputes(c.Request.Context(), shopID(c), f)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	resp := struct {
		Disputes   []disputeJSON `json:"disputes"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}{Disputes: make([]disputeJSON, 0, min(len(list), limit))}
	if len(list) > limit {
		list = list[:limit]
		resp.NextCursor = encodeCursor(list[limit-1].ID)
	}
	for _, d := range list {
		resp.Disputes = append(resp.Disputes, newDisputeJSON(d))
	}
	c.JSON(http.StatusOK, resp)
}

// getDispute answers GET /api/v1/disputes/{id}; another shop's dispute is not found.
func (s *Server) getDispute(c *gin.Context) {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		s.apiError(c, orders.Errorf(orders.ENOTFOUND, "Dispute not found."), http.StatusBadRequest)
		return
	}
	d, err := s.svc.Dispute(c.Request.Context(), shopID(c), id)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusOK, newDisputeJSON(d))
}
