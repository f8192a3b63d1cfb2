package webhooks

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/orders"
)

// TelegramSecretHeader carries the secret_token given to setWebhook; Telegram sends it
// with every webhook request.
const TelegramSecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// TelegramBot is what the webhook route needs to know of a shop's bot in webhook mode.
type TelegramBot struct {
	// Source names the bot in recorded updates ("telegram:<bot id>").
	Source string
	// Secret is the secret_token the bot's webhook was set with.
	Secret string
}

// TelegramHandler serves POST /webhooks/telegram/:shop. It records each update with
// the job that processes it, in one transaction, and only then answers 200, so an
// update Telegram saw acknowledged is never lost; a redelivered one is recorded once.
type TelegramHandler struct {
	Service *orders.Service
	// Bots returns the shop's bot when it takes updates by webhook.
	Bots func(shopID string) (TelegramBot, bool)
	// MaxBody bounds the request body; 0 means DefaultMaxBody.
	MaxBody int64
	// Metrics may be nil, when nothing is exported.
	Metrics *Metrics
}

// Register adds the Telegram webhook route.
func (h *TelegramHandler) Register(r gin.IRouter) {
	if h.MaxBody <= 0 {
		h.MaxBody = DefaultMaxBody
	}
	if h.Metrics == nil {
		h.Metrics = NewMetrics(nil)
	}
	r.POST("/webhooks/telegram/:shop", h.update)
}

func (h *TelegramHandler) update(c *gin.Context) {
	result := ResultError
	defer func() { h.Metrics.chatUpdates.WithLabelValues(orders.ChannelTelegram, result).Inc() }()
	fail := func(status int, res, code, msg string) {
		result = res
		c.AbortWithStatusJSON(status, errorBody{Error: errorJSON{Code: code, Message: msg}})
	}

	shopID := c.Param("shop")
	bot, ok := h.Bots(shopID)
	if !ok {
		fail(http.StatusNotFound, ResultNotFound, orders.ENOTFOUND, "No such webhook endpoint.")
		return
	}
	// Every request must carry the secret; comparing in constant time keeps its
	// bytes from leaking through timing.
	got := []byte(c.GetHeader(TelegramSecretHeader))
	if bot.Secret == "" || subtle.ConstantTimeCompare(got, []byte(bot.Secret)) != 1 {
		fail(http.StatusUnauthorized, ResultUnauthorized, orders.EUNAUTHORIZED, "The secret token is missing or wrong.")
		return
	}
	body, bad := readBody(c, h.MaxBody, "The update")
	if bad != nil {
		fail(bad.status, bad.result, orders.EINVALID, bad.message)
		return
	}
	id, err := ParseTelegramUpdateID(body)
	if err != nil {
		fail(http.StatusBadRequest, ResultMalformed, orders.EINVALID, err.Error())
		return
	}
	n, err := h.Service.RecordChatUpdates(c.Request.Context(), shopID, bot.Source,
		[]*orders.ChatUpdate{{UpdateID: id, Payload: body}}, 0)
	if err != nil {
		// Not recorded: a non-2xx answer makes Telegram deliver it again.
		fail(http.StatusInternalServerError, ResultError, orders.EINTERNAL, "Internal error.")
		return
	}
	result = ResultApplied
	if n == 0 {
		result = ResultDuplicate
	}
	c.Status(http.StatusOK)
}

// ParseTelegramUpdateID reads the update_id of a Telegram update, the only field the
// webhook route needs: the processing job decodes the rest. The body must be one JSON
// object with a positive integer update_id.
func ParseTelegramUpdateID(body []byte) (int64, error) {
	var u struct {
		UpdateID *json.RawMessage `json:"update_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&u); err != nil {
		return 0, errors.New("The update is not a JSON object.")
	}
	if dec.More() {
		return 0, errors.New("The update has trailing data after the JSON object.")
	}
	if u.UpdateID == nil {
		return 0, errors.New("The update has no update_id.")
	}
	// Only digits: a quoted, fractional or exponent form is not an update id.
	raw := *u.UpdateID
	id, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || id <= 0 || raw[0] == '+' {
		return 0, fmt.Errorf("The update_id must be a positive integer, not %.20s.", raw)
	}
	return id, nil
}
