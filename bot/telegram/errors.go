package telegram

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"

	"github.com/chatpay/chatpay/bot"
)

// Error is a failed Bot API call. Its text never holds the bot token: the
// library's errors may carry the request URL, so the text is scrubbed once here
// and every caller can log it as is.
type Error struct {
	// Method is the Bot API method that failed ("sendMessage").
	Method string
	// Code is Telegram's error_code (the HTTP status of the answer); 0 when no
	// answer arrived (timeout, connection refused, cancelled context).
	Code int
	// Description is Telegram's description ("Forbidden: bot was blocked by the
	// user"); "" when no answer arrived.
	Description string

	text string
	err  error
}

func (e *Error) Error() string { return e.text }

// Unwrap returns the library's error, so errors.Is(err, context.DeadlineExceeded)
// and errors.As(err, **tg.TooManyRequestsError) keep working.
func (e *Error) Unwrap() error { return e.err }

// permanentError is a failure retrying cannot fix. It reports itself as a
// *bot.PermanentError to errors.As (so bot.IsPermanent holds) while Unwrap still
// reaches the original *Error for logs and the other predicates here.
type permanentError struct {
	reason string
	err    *Error
}

func (e *permanentError) Error() string { return e.reason + " (" + e.err.Error() + ")" }

func (e *permanentError) Unwrap() error { return e.err }

func (e *permanentError) As(target any) bool {
	if p, ok := target.(**bot.PermanentError); ok {
		*p = &bot.PermanentError{Reason: e.reason}
		return true
	}
	return false
}

// Descriptions Telegram answers with, lower-cased for matching. The business
// ones are MTProto error names the Bot API passes through.
const (
	descNotModified      = "message is not modified"
	descTopicNotModified = "topic_not_modified"
	descThreadNotFound   = "message thread not found"
	descTopicDeleted     = "topic_deleted"
	descTopicIDInvalid   = "topic_id_invalid"
	descBusinessWindow   = "business_peer_usage_missing"
	descChatNotFound     = "chat not found"
	descUserNotFound     = "user not found"
)

// classify turns a library error from method into an *Error, or into a
// permanent error wrapping one when retrying the same call cannot succeed.
func (c *Client) classify(method string, err error) error {
	if err == nil {
		return nil
	}
	c.scrubURL(err)
	code, desc := describe(err)
	e := &Error{Method: method, Code: code, Description: desc, err: err,
		text: c.scrub("telegram " + method + ": " + err.Error())}
	if reason := permanentReason(code, desc, err); reason != "" {
		return &permanentError{reason: reason, err: e}
	}
	return e
}

// scrubURL removes the token from the request URL a *url.Error in err's chain
// carries. Callers may log any error in the chain, and fmt.Errorf fixes its text
// when called, so this must run before the error is wrapped.
func (c *Client) scrubURL(err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = c.scrub(ue.URL)
	}
}

// scrub removes the token (and, to be safe, its secret half on its own) from s.
func (c *Client) scrub(s string) string {
	if c.token == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.token, "<token>")
	if _, secret, ok := strings.Cut(c.token, ":"); ok && len(secret) >= 8 {
		s = strings.ReplaceAll(s, secret, "<token>")
	}
	return s
}

// describe recovers Telegram's error_code and description from the library's
// error: it wraps sentinels such as tg.ErrorForbidden as "forbidden, <description>"
// and formats other statuses as "error response from telegram for method M, <code> <description>".
func describe(err error) (int, string) {
	var tooMany *tg.TooManyRequestsError
	if errors.As(err, &tooMany) {
		_, desc, _ := strings.Cut(tooMany.Message, ", ")
		return http.StatusTooManyRequests, desc
	}
	var migrate *tg.MigrateError
	if errors.As(err, &migrate) {
		_, desc, _ := strings.Cut(migrate.Message, ": ")
		return http.StatusBadRequest, desc
	}
	sentinels := []struct {
		err  error
		code int
	}{
		{tg.ErrorForbidden, http.StatusForbidden},
		{tg.ErrorBadRequest, http.StatusBadRequest},
		{tg.ErrorUnauthorized, http.StatusUnauthorized},
		{tg.ErrorNotFound, http.StatusNotFound},
		{tg.ErrorConflict, http.StatusConflict},
	}
	msg := err.Error()
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			_, desc, _ := strings.Cut(msg, s.err.Error()+", ")
			return s.code, desc
		}
	}
	const prefix = "error response from telegram for method "
	if i := strings.Index(msg, prefix); i >= 0 {
		_, rest, ok := strings.Cut(msg[i+len(prefix):], ", ")
		if !ok {
			return 0, ""
		}
		num, desc, _ := strings.Cut(rest, " ")
		if code, err := strconv.Atoi(num); err == nil {
			return code, desc
		}
	}
	return 0, ""
}

// permanentReason says, for a shop owner, why a call can never succeed as it
// is; "" means it may succeed later (or the caller has a way to recover, as with
// a deleted topic).
func permanentReason(code int, desc string, err error) string {
	d := strings.ToLower(desc)
	switch code {
	case http.StatusForbidden:
		switch {
		case strings.Contains(d, "blocked by the user"):
			return "The customer blocked the bot."
		case strings.Contains(d, "user is deactivated"):
			return "The customer's Telegram account was deleted."
		case strings.Contains(d, "kicked"):
			return "The bot was removed from this chat."
		case strings.Contains(d, "not a member"):
			return "The bot is not a member of this chat."
		case strings.Contains(d, "can't initiate conversation"):
			return "The customer has not started a chat with the bot yet, and Telegram does not let a bot write first."
		}
		return "Telegram does not allow the bot to write to this chat."
	case http.StatusUnauthorized:
		return "Telegram rejected the bot token; it may have been revoked in @BotFather."
	case http.StatusNotFound:
		// Telegram answers 404 to a malformed token (and to unknown methods).
		return "Telegram does not know this bot token."
	case http.StatusBadRequest:
		var migrate *tg.MigrateError
		switch {
		case threadGone(d):
			// The caller recreates the topic and sends again.
			return ""
		case errors.As(err, &migrate):
			return "This group was upgraded to a supergroup and has a new chat id."
		case strings.Contains(d, descChatNotFound):
			return "Telegram does not know this chat."
		case strings.Contains(d, descUserNotFound):
			return "Telegram does not know this user."
		case strings.Contains(d, descBusinessWindow):
			return "The customer has not written to your business account in the last 24 hours, so Telegram does not let the bot reply on your behalf."
		case strings.Contains(d, "business_connection") || strings.Contains(d, "business connection"):
			return "The Telegram Business connection is gone or disabled; connect the bot again in your Telegram Business settings."
		case strings.Contains(d, "business_peer"):
			return "Telegram does not let the bot write to this customer on your business account's behalf."
		case strings.Contains(d, "message to edit not found"):
			return "The message to update no longer exists in the chat."
		case strings.Contains(d, "query is too old"):
			return "The button press is too old to answer."
		case strings.Contains(d, "message text is empty"):
			return "The message is empty."
		case strings.Contains(d, "message is too long"):
			return "The message is longer than Telegram allows (4096 characters)."
		}
		// Telegram answers the same request the same way: text too long, a bad
		// button link, an expired callback query.
		return "Telegram rejected the message: " + desc
	}
	return ""
}

func threadGone(lowerDesc string) bool {
	return strings.Contains(lowerDesc, descThreadNotFound) ||
		strings.Contains(lowerDesc, descTopicDeleted) ||
		strings.Contains(lowerDesc, descTopicIDInvalid)
}

// apiErr finds the *Error in err's chain.
func apiErr(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// RetryAfter reports how long Telegram asked to wait after a 429 "Too Many
// Requests". Telegram always sends retry_after with a 429; if it is missing,
// one second is a safe pause.
func RetryAfter(err error) (time.Duration, bool) {
	var tooMany *tg.TooManyRequestsError
	if !errors.As(err, &tooMany) {
		return 0, false
	}
	return max(time.Second, time.Duration(tooMany.RetryAfter)*time.Second), true
}

// IsThreadNotFound reports whether a call failed because its forum topic is gone
// (deleted by staff). The caller recreates the topic and sends again; it is not
// permanent.
func IsThreadNotFound(err error) bool {
	e, ok := apiErr(err)
	return ok && e.Code == http.StatusBadRequest && threadGone(strings.ToLower(e.Description))
}

// IsBusinessWindowClosed reports whether a send on a business account's behalf
// failed because the customer has not written in the last 24 hours. Such an
// error is also permanent; the caller tells the owner to forward the link by hand.
func IsBusinessWindowClosed(err error) bool {
	e, ok := apiErr(err)
	return ok && e.Code == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Description), descBusinessWindow)
}

// IsConflict reports a 409 Conflict: getUpdates while a webhook is set, or
// another process polling with the same token.
func IsConflict(err error) bool {
	e, ok := apiErr(err)
	return ok && e.Code == http.StatusConflict
}

// isNotModified reports an edit that changed nothing, which callers treat as
// success: the message already shows what they wanted.
func isNotModified(err error) bool {
	e, ok := apiErr(err)
	if !ok || e.Code != http.StatusBadRequest {
		return false
	}
	d := strings.ToLower(e.Description)
	return strings.Contains(d, descNotModified) || strings.Contains(d, descTopicNotModified)
}

// invalid is a permanent error found before any call: the request itself is
// wrong (a button with no link), so sending it can only fail.
func invalid(method, reason string) error {
	e := &Error{Method: method, Description: reason, text: "telegram " + method + ": " + reason,
		err: errors.New(reason)}
	return &permanentError{reason: reason, err: e}
}

// apiFailure builds the error the library would have built for a failed answer
// to a call the library does not make for us (getUpdates), so classify maps
// both alike.
func apiFailure(method string, code int, desc string, retryAfter, migrateTo int) error {
	switch code {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tg.ErrorForbidden, desc)
	case http.StatusBadRequest:
		if migrateTo != 0 {
			return &tg.MigrateError{Message: fmt.Sprintf("%s: %s", tg.ErrorBadRequest, desc), MigrateToChatID: migrateTo}
		}
		return fmt.Errorf("%w, %s", tg.ErrorBadRequest, desc)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tg.ErrorUnauthorized, desc)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tg.ErrorNotFound, desc)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tg.ErrorConflict, desc)
	case http.StatusTooManyRequests:
		return &tg.TooManyRequestsError{Message: fmt.Sprintf("%s, %s", tg.ErrorTooManyRequests, desc), RetryAfter: retryAfter}
	}
	return fmt.Errorf("error response from telegram for method %s, %d %s", method, code, desc)
}
