package messengertest

import (
	"net/http"
	"time"
)

// Fault is a failure FailNext injects into an endpoint's next calls.
type Fault struct {
	// Status is the HTTP status (400 for Graph API errors, 5xx for server
	// failures); Code, Subcode, Type and Message fill the error object.
	Status    int
	Code      int
	Subcode   int
	Type      string
	Message   string
	Transient bool
	// Timeout holds the request until the client gives up, the server
	// closes or Delay (default WithTimeoutDelay) passes; then the connection
	// is dropped without an answer.
	Timeout bool
	Delay   time.Duration
	// Apply performs the call before failing: Meta sent the message but the
	// answer was lost, the case that makes naive retries send twice.
	Apply bool
}

// Throttled is Meta's abuse-prevention rate limit, code 613. Like Meta, it
// carries no Retry-After header and no retry hint in the body.
func Throttled() Fault {
	return Fault{Status: http.StatusBadRequest, Code: 613, Type: "OAuthException",
		Message: "(#613) Calls to this api have exceeded the rate limit."}
}

// AppRateLimited is the application-level rate limit, code 4, which Meta
// marks transient.
func AppRateLimited() Fault {
	return Fault{Status: http.StatusBadRequest, Code: 4, Type: "OAuthException", Transient: true,
		Message: "(#4) Application request limit reached"}
}

// ServerError is a Graph API failure on Meta's side: HTTP status (500, 502,
// 503) with code 2, "An unexpected error has occurred", marked transient.
func ServerError(status int) Fault {
	return Fault{Status: status, Code: 2, Type: "OAuthException", Transient: true,
		Message: "An unexpected error has occurred. Please retry your request later."}
}

// Timeout holds the request without answering until the client gives up or
// delay passes (0: the server's WithTimeoutDelay).
func Timeout(delay time.Duration) Fault { return Fault{Timeout: true, Delay: delay} }

// FailNext makes the next n calls of endpoint (SendAPI) fail with f, after
// any faults already queued for it. The access token is checked first, as
// Meta does.
func (s *Server) FailNext(endpoint string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[endpoint] = append(s.faults[endpoint], f)
	}
}

func (s *Server) takeFault(endpoint string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[endpoint]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0]
	s.faults[endpoint] = q[1:]
	switch {
	case f.Timeout:
		s.stats.Timeouts++
	case f.Code == 4 || f.Code == 613:
		s.stats.Throttled++
	}
	return f, true
}

// handle answers a request with the fault instead of the call's result.
func (f Fault) handle(s *Server, w http.ResponseWriter, r *http.Request, apply func()) {
	if f.Apply {
		apply()
	}
	if f.Timeout {
		d := f.Delay
		if d <= 0 {
			d = s.cfg.timeoutDelay
		}
		s.sleepCtx(r.Context(), d)
		// Dropping the connection is how a proxy in front of the Graph API
		// looks when it gives up; net/http treats this panic as "abort
		// quietly".
		panic(http.ErrAbortHandler)
	}
	status := f.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	e := APIError{Message: f.Message, Type: f.Type, Code: f.Code, Subcode: f.Subcode, Transient: f.Transient}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if e.Type == "" {
		e.Type = "OAuthException"
	}
	s.writeError(w, &graphError{status: status, e: e})
}
