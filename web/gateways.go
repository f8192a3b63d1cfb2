package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/gateway"
)

// gatewayJSON is one of the shop's gateways with what it can do, so that an API client
// offers only that (a partial refund, a QR code). The refund window is in seconds, as
// JSON has no durations; 0 means none, as does 0 refunds per payment.
type gatewayJSON struct {
	Name string `json:"name"`
	gateway.Capabilities
	RefundWindowSeconds int64 `json:"refund_window_seconds"`
}

// listGateways answers GET /api/v1/gateways: the shop's gateways, by name.
func (s *Server) listGateways(c *gin.Context) {
	names := s.gateways.Names(shopID(c))
	out := make([]gatewayJSON, 0, len(names))
	for _, name := range names {
		caps, err := s.gateways.Capabilities(shopID(c), name)
		if err != nil {
			s.apiError(c, err, http.StatusBadRequest)
			return
		}
		if caps.Methods == nil {
			caps.Methods = []string{} // a list in JSON, never null
		}
		out = append(out, gatewayJSON{Name: name, Capabilities: caps, RefundWindowSeconds: int64(caps.RefundWindow.Seconds())})
	}
	c.JSON(http.StatusOK, gin.H{"gateways": out})
}
