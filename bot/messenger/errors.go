package messenger

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatpay/chatpay/bot"
)

// APIError is a failed Graph API call as Meta described it, or a message this
// package refused to send (Code 0, HTTPStatus 0). Its text never holds the
// page access token.
type APIError struct {
	// Op is the call that failed: "send", "send utility" or "private reply".
	Op string
	// HTTPStatus is the answer's status; 0 when the call was never made.
	HTTPStatus int
	// Code, Subcode, Type, Message and FBTraceID are Meta's error object
	// (code, error_subcode, type, message, fbtrace_id).
	Code      int
	Subcode   int
	Type      string
	Message   string
	FBTraceID string
	// Transient is Meta's is_transient: the same call may succeed later.
	Transient bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("messenger " + e.Op + ": ")
	msg := e.Message
	if e.Code != 0 {
		fmt.Fprintf(&b, "(#%d", e.Code)
		if e.Subcode != 0 {
			fmt.Fprintf(&b, "/%d", e.Subcode)
		}
		b.WriteString(") ")
		// Meta's messages often start with the code already.
		msg = strings.TrimPrefix(msg, fmt.Sprintf("(#%d) ", e.Code))
	}
	b.WriteString(msg)
	if e.Type != "" {
		b.WriteString(" [" + e.Type + "]")
	}
	if e.FBTraceID != "" {
		b.WriteString(" fbtrace_id=" + e.FBTraceID)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	return b.String()
}

// permanentError is a failure retrying cannot fix. It reports itself as a
// *bot.PermanentError to errors.As (so bot.IsPermanent holds) while Unwrap still
// reaches the *APIError for logs and the predicates here.
type permanentError struct {
	reason string
	err    *APIError
}

func (e *permanentError) Error() string {
	if e.err.Code == 0 && e.err.HTTPStatus == 0 {
		return e.reason // refused before calling: the APIError says the same
	}
	return e.reason + " (" + e.err.Error() + ")"
}

func (e *permanentError) Unwrap() error { return e.err }

func (e *permanentError) As(target any) bool {
	if p, ok := target.(**bot.PermanentError); ok {
		*p = &bot.PermanentError{Reason: e.reason}
		return true
	}
	return false
}

// Reasons shown to the shop owner for the permanent failures they can act on.
const (
	ReasonWindowClosed    = "The customer's 24-hour messaging window is closed."
	ReasonUserUnavailable = "This person isn't available on Messenger."
	ReasonTokenExpired    = "The page access token has expired; renew it in the shop's messenger config."
)

// Meta's error codes and subcodes this package tells apart (see the package doc
// for where each is documented).
const (
	codeUnknown          = 1
	codeService          = 2
	codeTooManyCalls     = 4
	codeSession          = 102
	codePermission       = 10
	codeUserTooManyCalls = 17
	codePageTooManyCalls = 32
	codePermissions230   = 230
	codeAppLimit         = 341
	codePolicyBlock      = 368
	codeUnavailable      = 551
	codeRateLimit        = 613
	codeTokenExpired     = 190
	codeAlreadyReplied   = 10900
	codeCannotReply      = 10903
	codeMessengerRate    = 80006

	subcodeOutsideWindow  = 2018278
	subcodeUnavailable    = 1545041
	subcodeNoMatchingUser = 2018001
	subcodeCannotMessage  = 2018108
)

// DefaultThrottleWait is how long a throttled send waits when Meta's answer
// does not say (Meta sends no retry_after; see retryAfter).
const DefaultThrottleWait = time.Minute

// maxThrottleWait caps a wait read from a header: Meta counts some limits over
// 24 hours, and a garbled header must not park a message for longer.
const maxThrottleWait = 24 * time.Hour

// graphErrorBody is Meta's error answer.
type graphErrorBody struct {
	Error *struct {
		Message     string `json:"message"`
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode"`
		FBTraceID   string `json:"fbtrace_id"`
		IsTransient bool   `json:"is_transient"`
	} `json:"error"`
}

// classify turns an answer into nil (success), a *bot.RateLimitedError, a
// permanent error, or a retryable *APIError. scrub removes secrets from Meta's
// text, which could in principle quote the request.
func classify(op string, status int, header http.Header, raw []byte, scrub func(string) string) error {
	var body graphErrorBody
	if err := json.Unmarshal(raw, &body); err != nil || body.Error == nil {
		if status < 300 {
			return nil
		}
		// Not Graph's JSON: a proxy's or load balancer's page.
		e := &APIError{Op: op, HTTPStatus: status, Message: http.StatusText(status)}
		switch {
		case status == http.StatusTooManyRequests:
			return &bot.RateLimitedError{After: retryAfter(header), Err: e}
		case status >= 500 || status == http.StatusRequestTimeout:
			return e
		}
		return &permanentError{reason: fmt.Sprintf("Messenger answered HTTP %d without saying why.", status), err: e}
	}
	g := body.Error
	e := &APIError{Op: op, HTTPStatus: status, Code: g.Code, Subcode: g.Subcode, Type: scrub(g.Type),
		Message: scrub(g.Message), FBTraceID: g.FBTraceID, Transient: g.IsTransient}
	return classifyAPIError(e, header)
}

// classifyAPIError decides what a described failure means for the sender.
func classifyAPIError(e *APIError, header http.Header) error {
	perm := func(reason string) error { return &permanentError{reason: reason, err: e} }
	switch {
	case throttled(e):
		return &bot.RateLimitedError{After: retryAfter(header), Err: e}
	case windowClosed(e):
		return perm(ReasonWindowClosed)
	case userUnavailable(e):
		return perm(ReasonUserUnavailable)
	case tokenExpired(e):
		return perm(ReasonTokenExpired)
	case e.Transient || e.Code == codeUnknown || e.Code == codeService || e.HTTPStatus >= 500:
		return e
	case e.Code == codeAlreadyReplied:
		return perm("This comment already has a private reply; Messenger allows one per comment.")
	case e.Code == codeCannotReply:
		return perm("Messenger does not allow a private reply to this comment; it may be older than 7 days.")
	case e.Code == codePolicyBlock:
		return perm("Meta has blocked the page from sending messages for now, for a policy violation.")
	case e.Code == codePermission || e.Code == codePermissions230 || (e.Code >= 200 && e.Code <= 299):
		return perm("Meta does not allow the page to send this message: " + e.Message)
	}
	return perm("Messenger rejected the message: " + e.Message)
}

func throttled(e *APIError) bool {
	switch e.Code {
	case codeTooManyCalls, codeUserTooManyCalls, codePageTooManyCalls, codeAppLimit, codeRateLimit, codeMessengerRate:
		return true
	}
	return e.Code == 0 && e.HTTPStatus == http.StatusTooManyRequests
}

func windowClosed(e *APIError) bool { return e.Subcode == subcodeOutsideWindow }

func userUnavailable(e *APIError) bool {
	return e.Code == codeUnavailable || e.Subcode == subcodeUnavailable ||
		e.Subcode == subcodeNoMatchingUser || e.Subcode == subcodeCannotMessage
}

func tokenExpired(e *APIError) bool { return e.Code == codeTokenExpired || e.Code == codeSession }

// retryAfter reads how long to wait from the answer's headers. Meta puts no
// retry_after in its errors; for page access tokens it documents Business Use
// Case rate limits, whose X-Business-Use-Case-Usage header carries
// estimated_time_to_regain_access in minutes. A standard Retry-After (seconds)
// is honoured too. Without either, DefaultThrottleWait.
func retryAfter(header http.Header) time.Duration {
	wait := time.Duration(0)
	if v := header.Get("X-Business-Use-Case-Usage"); v != "" {
		var usage map[string][]struct {
			Minutes json.Number `json:"estimated_time_to_regain_access"`
		}
		if json.Unmarshal([]byte(v), &usage) == nil {
			for _, entries := range usage {
				for _, u := range entries {
					if m, err := u.Minutes.Float64(); err == nil && m > 0 {
						wait = max(wait, time.Duration(m*float64(time.Minute)))
					}
				}
			}
		}
	}
	if v := header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
			wait = max(wait, time.Duration(s)*time.Second)
		}
	}
	if wait <= 0 {
		return DefaultThrottleWait
	}
	return min(wait, maxThrottleWait)
}

// apiError finds the *APIError in err's chain.
func apiError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// IsWindowClosed reports whether a send failed because the person last wrote
// more than 24 hours ago (subcode 2018278, usually with code 10). Such a send
// is also permanent; a utility message may still reach the person.
func IsWindowClosed(err error) bool {
	e, ok := apiError(err)
	return ok && windowClosed(e)
}

// IsUserUnavailable reports whether the person cannot receive messages from the
// page: code 551, or subcode 1545041, 2018001 (no matching user) or 2018108.
func IsUserUnavailable(err error) bool {
	e, ok := apiError(err)
	return ok && userUnavailable(e)
}

// IsTokenExpired reports whether Meta refused the page access token (code 190,
// or 102 for an expired session).
func IsTokenExpired(err error) bool {
	e, ok := apiError(err)
	return ok && tokenExpired(e)
}

// IsThrottled reports whether Meta refused the call for its rate limits (codes
// 4, 17, 32, 341, 613, 80006, or a bare HTTP 429). Such an error is a
// *bot.RateLimitedError too.
func IsThrottled(err error) bool {
	e, ok := apiError(err)
	return ok && throttled(e)
}
