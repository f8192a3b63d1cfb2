// Package webhooks receives what payment gateways post to chatpay. A webhook is
// verified (signature and timestamp, by the gateway's parser), recorded and applied in
// a store transaction by orders.Service.ApplyEvents (webhooks that arrive together
// share one), and only then acknowledged with 200. Anything that fails before the event is durably recorded gets a non-2xx answer,
// so the gateway retries; nothing acknowledged is ever lost.
package webhooks

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// DefaultMaxBody is the largest webhook body accepted. Real gateway events are a few
// kilobytes; the limit keeps a sender from making us buffer arbitrary amounts.
const DefaultMaxBody int64 = 1 << 20

// Handler serves POST /webhooks/:gateway/:shop.
type Handler struct {
	Service  *orders.Service
	Gateways *gateway.Registry
	Logger   *slog.Logger
	// MaxBody bounds the request body; 0 means DefaultMaxBody.
	MaxBody int64
	// Metrics may be nil, when nothing is exported.
	Metrics *Metrics
	// MaxBatch and MaxInFlight tune how concurrent webhooks share transactions (see
	// batcher); 0 means DefaultMaxBatch and DefaultMaxInFlight.
	MaxBatch, MaxInFlight int

	batcher *batcher
}

// Register adds the gateway webhook route.
func (h *Handler) Register(r gin.IRouter) {
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	if h.MaxBody <= 0 {
		h.MaxBody = DefaultMaxBody
	}
	if h.Metrics == nil {
		h.Metrics = NewMetrics(nil)
	}
	if h.MaxBatch <= 0 {
		h.MaxBatch = DefaultMaxBatch
	}
	if h.MaxInFlight <= 0 {
		h.MaxInFlight = DefaultMaxInFlight
	}
	h.batcher = &batcher{
		apply:       h.Service.ApplyEvents,
		maxBatch:    h.MaxBatch,
		maxInFlight: h.MaxInFlight,
		observe:     func(n int) { h.Metrics.batchSize.Observe(float64(n)) },
	}
	r.POST("/webhooks/:gateway/:shop", h.gatewayWebhook)
}

// errorBody is the JSON shape of an error answer, as in the REST API.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// receipt is the answer to an accepted webhook.
type receipt struct {
	Received  bool   `json:"received"`
	Duplicate bool   `json:"duplicate"`
	Outcome   string `json:"outcome"`
}

func (h *Handler) gatewayWebhook(c *gin.Context) {
	start := time.Now()
	ctx := c.Request.Context()
	name, shopID := c.Param("gateway"), c.Param("shop")
	label, result := unknownGateway, ResultError
	defer func() {
		h.Metrics.webhooks.WithLabelValues(label, result).Inc()
		h.Metrics.duration.WithLabelValues(label).Observe(time.Since(start).Seconds())
	}()
	fail := func(status int, res, code, msg string) {
		result = res
		c.AbortWithStatusJSON(status, errorBody{Error: errorJSON{Code: code, Message: msg}})
	}

	// An unknown shop and a gateway the shop did not enable answer alike, so that the
	// endpoint does not reveal which shops exist.
	if _, err := h.Service.Shop(shopID); err != nil {
		fail(http.StatusNotFound, ResultNotFound, orders.ENOTFOUND, "No such webhook endpoint.")
		return
	}
	gw, err := h.Gateways.Get(shopID, name)
	if err != nil {
		fail(http.StatusNotFound, ResultNotFound, orders.ENOTFOUND, "No such webhook endpoint.")
		return
	}
	label = gw.Name()
	log := h.Logger.With("gateway", label, "shop_id", shopID)

	// The signature covers the raw bytes, so the body is read whole, never decoded first.
	body, bad := readBody(c, h.MaxBody, "The webhook body")
	if bad != nil {
		fail(bad.status, bad.result, orders.EINVALID, bad.message)
		return
	}

	ev, err := gw.ParseWebhook(c.Request.Header, body, h.Service.Now())
	switch {
	case errors.Is(err, gateway.ErrSignature):
		log.WarnContext(ctx, "webhook rejected: signature", "err", err)
		fail(http.StatusUnauthorized, ResultUnauthorized, orders.EUNAUTHORIZED, "The webhook signature is missing, invalid or stale.")
		return
	case err != nil:
		// ErrMalformed, or a parser that failed some other way: either way the body is
		// not an event we can record, and retrying the same bytes will not help.
		log.WarnContext(ctx, "webhook rejected: malformed", "err", err)
		fail(http.StatusBadRequest, ResultMalformed, orders.EINVALID, "The webhook body is malformed.")
		return
	}

	if r, ok := gw.(gateway.Resolver); ok {
		resolved, err := r.Resolve(ctx, ev)
		if err != nil {
			log.WarnContext(ctx, "webhook not resolved at the gateway", "event_id", ev.EventID, "err", err)
			fail(http.StatusInternalServerError, ResultError, orders.EINTERNAL, "The gateway could not be asked about the event; deliver it again.")
			return
		}
		ev = resolved
	}

	// The URL decides the shop, never the body: a shop's secret only vouches for its own
	// endpoint. Fields the store assigns are cleared so that no parser can preset them.
	ev.ShopID, ev.Gateway = shopID, label
	ev.ID, ev.Outcome = "", ""
	res, err := h.batcher.Apply(ctx, ev)
	if err != nil {
		// Not recorded: answer 500 so that the gateway delivers it again.
		log.ErrorContext(ctx, "webhook not recorded", "event_id", ev.EventID, "type", ev.Type, "err", err)
		fail(http.StatusInternalServerError, ResultError, orders.EINTERNAL, "Internal error.")
		return
	}

	outcome := res.Outcome
	if res.Duplicate {
		result, outcome = ResultDuplicate, ResultDuplicate
	} else {
		result = res.Outcome
		h.observeApplied(label, ev, res)
	}
	log.InfoContext(ctx, "webhook received", "event_id", ev.EventID, "type", ev.Type, "session_id", ev.SessionID, "result", result)
	c.JSON(http.StatusOK, receipt{Received: true, Duplicate: res.Duplicate, Outcome: outcome})
}

// observeApplied counts payment outcomes and time to pay for a freshly applied event.
func (h *Handler) observeApplied(label string, ev *orders.GatewayEvent, res *orders.EventResult) {
	if res.Outcome != orders.OutcomeApplied {
		return
	}
	switch ev.Type {
	case orders.EventSucceeded:
		h.Metrics.payments.WithLabelValues(label, "succeeded").Inc()
	case orders.EventFailed:
		h.Metrics.payments.WithLabelValues(label, "failed").Inc()
	}
	if res.Paid && res.Order != nil && res.Order.PaidAt != nil {
		h.Metrics.timeToPay.Observe(res.Order.PaidAt.Sub(res.Order.CreatedAt).Seconds())
	}
}

// badBody is why a request body could not be taken: the answer and the metric result.
type badBody struct {
	status          int
	result, message string
}

// readBody reads a request body of at most max bytes, whole: signatures cover the raw
// bytes, so nothing is decoded first. what names the body in the answer ("The update").
func readBody(c *gin.Context, max int64, what string) ([]byte, *badBody) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, max))
	if err == nil {
		return body, nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &badBody{http.StatusRequestEntityTooLarge, ResultTooLarge, what + " exceeds the size limit."}
	}
	return nil, &badBody{http.StatusBadRequest, ResultMalformed, what + " could not be read."}
}
