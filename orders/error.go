// Package orders is chatpay's domain: shops, conversations, orders, payment links,
// attempts, payments, refunds, shipments and chat messages, their state machines, the
// Store that persists them, and the Service that changes them. It imports nothing of
// chatpay's own; every adapter (stores, gateways, channels, HTTP) talks in its types.
package orders

import (
	"errors"
	"fmt"
)

// Error codes. Each maps once to an HTTP status (web) and once to a chat reply (bot).
const (
	EINVALID         = "invalid"
	ENOTFOUND        = "not_found"
	ECONFLICT        = "conflict"
	EPAYMENTREQUIRED = "payment_required"
	EUNAUTHORIZED    = "unauthorized"
	EGONE            = "gone"
	EINTERNAL        = "internal"
)

// Error is chatpay's one application error. Message is written for the person who
// caused it (a shop owner, a customer, an operator) and is safe to show them.
type Error struct {
	Code    string
	Message string
	// Field names the input at fault, when there is one, e.g. "items[1].quantity".
	Field string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an EINVALID error naming the field at fault.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Internal errors get a generic
// message so that no internal detail leaks to users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return "An internal error occurred."
}

// ErrNotFound is returned by stores for a missing row; the Service wraps it with context.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "Not found."}

// ErrConflict is returned by stores when a compare-and-set write finds the row changed.
var ErrConflict = &Error{Code: ECONFLICT, Message: "The object was changed concurrently; try again."}
