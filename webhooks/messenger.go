package webhooks

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/orders"
)

// MessengerSignatureHeader carries Meta's signature of a webhook body.
const MessengerSignatureHeader = "X-Hub-Signature-256"

// MessengerPage is what the webhook route needs to know of a shop's Facebook Page.
type MessengerPage struct {
	// Source names the page in recorded updates ("messenger:<page id>").
	Source string
	// PageID is the page's id: events for other pages are not this shop's.
	PageID string
	// AppSecret signs Meta's deliveries; VerifyToken answers the subscription
	// handshake.
	AppSecret, VerifyToken string
}

// MessengerPlatform reads Meta's deliveries (bot/messenger.Platform).
type MessengerPlatform interface {
	// VerifySignature checks X-Hub-Signature-256 over the raw body, in constant time.
	VerifySignature(appSecret, header string, body []byte) bool
	// Handshake answers the GET that subscribes the webhook.
	Handshake(query url.Values, verifyToken string) (challenge string, ok bool)
	// Updates splits a verified delivery into the updates of page pageID to record,
	// each with its Key (Meta names events; it does not number them).
	Updates(body []byte, pageID string) ([]*orders.ChatUpdate, error)
}

// MessengerHandler serves /webhooks/messenger/:shop: the subscription handshake
// (GET) and deliveries (POST). A delivery's events are recorded, each once, with the
// jobs that process them, in one transaction, before the 200: Meta retries a
// delivery it saw fail, and a retried or duplicated one records nothing twice.
type MessengerHandler struct {
	Service  *orders.Service
	Platform MessengerPlatform
	// Pages returns the shop's page, for shops with a messenger block.
	Pages func(shopID string) (MessengerPage, bool)
	// MaxBody bounds the request body; 0 means DefaultMaxBody.
	MaxBody int64
	// Metrics may be nil, when nothing is exported.
	Metrics *Metrics
}

// Register adds the Messenger webhook routes.
func (h *MessengerHandler) Register(r gin.IRouter) {
	if h.MaxBody <= 0 {
		h.MaxBody = DefaultMaxBody
	}
	if h.Metrics == nil {
		h.Metrics = NewMetrics(nil)
	}
	r.GET("/webhooks/messenger/:shop", h.handshake)
	r.POST("/webhooks/messenger/:shop", h.delivery)
}

func (h *MessengerHandler) handshake(c *gin.Context) {
	page, ok := h.Pages(c.Param("shop"))
	if !ok {
		c.AbortWithStatusJSON(http.StatusNotFound, errorBody{Error: errorJSON{Code: orders.ENOTFOUND, Message: "No such webhook endpoint."}})
		return
	}
	challenge, ok := h.Platform.Handshake(c.Request.URL.Query(), page.VerifyToken)
	if !ok {
		c.AbortWithStatusJSON(http.StatusForbidden, errorBody{Error: errorJSON{Code: orders.EUNAUTHORIZED, Message: "The verify token is missing or wrong."}})
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(challenge))
}

func (h *MessengerHandler) delivery(c *gin.Context) {
	result := ResultError
	defer func() { h.Metrics.chatUpdates.WithLabelValues(orders.ChannelMessenger, result).Inc() }()
	fail := func(status int, res, code, msg string) {
		result = res
		c.AbortWithStatusJSON(status, errorBody{Error: errorJSON{Code: code, Message: msg}})
	}
	shopID := c.Param("shop")
	page, ok := h.Pages(shopID)
	if !ok {
		fail(http.StatusNotFound, ResultNotFound, orders.ENOTFOUND, "No such webhook endpoint.")
		return
	}
	body, bad := readBody(c, h.MaxBody, "The delivery")
	if bad != nil {
		fail(bad.status, bad.result, orders.EINVALID, bad.message)
		return
	}
	// The signature covers the raw bytes as sent: nothing is parsed before it holds.
	if !h.Platform.VerifySignature(page.AppSecret, c.GetHeader(MessengerSignatureHeader), body) {
		fail(http.StatusUnauthorized, ResultUnauthorized, orders.EUNAUTHORIZED, "The signature is missing or wrong.")
		return
	}
	ups, err := h.Platform.Updates(body, page.PageID)
	if err != nil {
		fail(http.StatusBadRequest, ResultMalformed, orders.EINVALID, "The delivery is not a page webhook Meta would send.")
		return
	}
	n, err := h.Service.RecordChatUpdates(c.Request.Context(), shopID, page.Source, ups, 0)
	if err != nil {
		// Not recorded: a non-2xx answer makes Meta deliver it again.
		fail(http.StatusInternalServerError, ResultError, orders.EINTERNAL, "Internal error.")
		return
	}
	result = ResultApplied
	if n == 0 {
		result = ResultDuplicate
	}
	c.Status(http.StatusOK)
}
