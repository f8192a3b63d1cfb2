package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/orders"
)

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// internalMessage is all a user learns about an internal error; the details are logged.
const internalMessage = "Internal error."

// errorStatus is the one mapping from an error to an HTTP status. invalid is the status
// for orders.EINVALID: 400 for malformed requests, 422 where the API promises it (a
// well-formed refund the order cannot take).
func errorStatus(err error, invalid int) int {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	switch orders.ErrorCode(err) {
	case orders.EINVALID:
		return invalid
	case orders.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case orders.ENOTFOUND:
		return http.StatusNotFound
	case orders.ECONFLICT, orders.EPAYMENTREQUIRED:
		return http.StatusConflict
	case orders.EGONE:
		return http.StatusGone
	default:
		return http.StatusInternalServerError
	}
}

// errorCode returns the code an error is reported with; anything that is not an
// orders.Error with a known code is internal.
func errorCode(err error) string {
	if errorStatus(err, http.StatusBadRequest) == http.StatusInternalServerError {
		return orders.EINTERNAL
	}
	return orders.ErrorCode(err)
}

// apiError answers an API request with err. Internal errors are logged with their
// detail and answered with a generic message, so nothing internal leaks.
func (s *Server) apiError(c *gin.Context, err error, invalid int) {
	status := errorStatus(err, invalid)
	body := errorJSON{Code: errorCode(err)}
	if body.Code == orders.EINTERNAL {
		s.log.ErrorContext(c.Request.Context(), "internal error", "route", routeLabel(c), "method", c.Request.Method, "err", err)
		body.Message = internalMessage
	} else {
		body.Message = orders.ErrorMessage(err)
		var e *orders.Error
		if errors.As(err, &e) {
			body.Field = e.Field
		}
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="chatpay"`)
	}
	c.AbortWithStatusJSON(status, errorBody{Error: body})
}
