package telegramtest

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// Fault is a failure FailNext injects into a method's next calls.
type Fault struct {
	// Code is the HTTP status and error_code to answer (429, 500, 502, ...);
	// 0 with Timeout set means no answer at all.
	Code        int
	Description string
	// RetryAfter goes into parameters.retry_after (seconds), for 429.
	RetryAfter int
	// Timeout holds the request until the client gives up, the server closes
	// or Delay (default WithTimeoutDelay) passes; then the connection is
	// dropped without an answer.
	Timeout bool
	Delay   time.Duration
	// Apply performs the call before failing: Telegram did the work but the
	// answer was lost, the case that makes naive retries send twice.
	Apply bool
}

// TooManyRequests is a 429 flood-control answer with parameters.retry_after.
func TooManyRequests(retryAfter int) Fault {
	return Fault{Code: http.StatusTooManyRequests, RetryAfter: retryAfter,
		Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)}
}

// ServerError is a 5xx answer such as 500 "Internal Server Error" or 502
// "Bad Gateway"; an empty description uses the status text.
func ServerError(code int, description string) Fault {
	if description == "" {
		description = http.StatusText(code)
	}
	return Fault{Code: code, Description: description}
}

// Timeout holds the request without answering until the client gives up or
// delay passes (0: the server's WithTimeoutDelay).
func Timeout(delay time.Duration) Fault { return Fault{Timeout: true, Delay: delay} }

// FailNext makes the next n calls of method (case-insensitive) fail with f,
// after any faults already queued for it.
func (s *Server) FailNext(method string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(method)
	for range n {
		s.faults[k] = append(s.faults[k], f)
	}
}

func (s *Server) takeFault(method string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[method]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0]
	s.faults[method] = q[1:]
	if f.Code == http.StatusTooManyRequests {
		s.tooMany++
	}
	return f, true
}

// handle answers a request with the fault instead of the method's result.
func (f Fault) handle(s *Server, w http.ResponseWriter, r *http.Request, apply func()) {
	if f.Apply {
		apply()
	}
	if f.Timeout {
		d := f.Delay
		if d <= 0 {
			d = s.cfg.timeoutDelay
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-s.closing:
		case <-t.C:
		}
		// Dropping the connection is how a proxy in front of Telegram looks
		// when it gives up; net/http treats this panic as "abort quietly".
		panic(http.ErrAbortHandler)
	}
	code, desc := f.Code, f.Description
	if code < 400 || code > 599 {
		// A Fault without a usable status is a plain server failure.
		code = http.StatusInternalServerError
	}
	if desc == "" {
		desc = http.StatusText(code)
	}
	writeError(w, &apiError{Code: code, Description: desc, RetryAfter: f.RetryAfter})
}

// Limits are Telegram-like rate limits on sends (sendMessage, copyMessage,
// forwardMessage). Zero fields are off. Telegram documents about one message
// per second per chat, 30 per second overall and 20 per minute per group.
type Limits struct {
	// PerChat is sends per second into one chat.
	PerChat float64
	// Global is sends per second across all chats.
	Global float64
	// PerGroupPerMinute is sends per minute into one group, supergroup or
	// channel.
	PerGroupPerMinute int
}

// TelegramLimits are the limits Telegram's FAQ gives for bots.
func TelegramLimits() Limits { return Limits{PerChat: 1, Global: 30, PerGroupPerMinute: 20} }

// window turns a rate into "n sends per window": rates of one or more per
// second allow floor(rate) sends per floor(rate)/rate seconds; slower rates
// allow one send per 1/rate seconds.
func window(perSecond float64) (int, time.Duration) {
	n := max(1, int(math.Floor(perSecond)))
	return n, time.Duration(float64(n) / perSecond * float64(time.Second))
}

// overLimit returns how long until one more send fits, or 0 if it fits now.
// times are ascending.
func overLimit(times []time.Time, n int, win time.Duration, now time.Time) time.Duration {
	if len(times) < n {
		return 0
	}
	// The n-th most recent send must have left the window.
	t := times[len(times)-n]
	if wait := t.Add(win).Sub(now); wait > 0 {
		return wait
	}
	return 0
}

// checkLimits answers 429 when a send into c would break a limit. The caller
// holds s.mu.
func (s *Server) checkLimits(c *chat, now time.Time) *apiError {
	l := s.cfg.limits
	var wait time.Duration
	times := s.sendTimes[c.key.id]
	if l.PerChat > 0 {
		n, win := window(l.PerChat)
		wait = max(wait, overLimit(times, n, win, now))
	}
	if l.PerGroupPerMinute > 0 && c.isGroup() {
		wait = max(wait, overLimit(times, l.PerGroupPerMinute, time.Minute, now))
	}
	if l.Global > 0 {
		n, win := window(l.Global)
		wait = max(wait, overLimit(s.global, n, win, now))
	}
	if wait == 0 {
		return nil
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	s.tooMany++
	return &apiError{Code: http.StatusTooManyRequests, RetryAfter: secs,
		Description: fmt.Sprintf("Too Many Requests: retry after %d", secs)}
}

// TooManyRequests is how many 429 answers the server gave, injected or from
// the rate limits.
func (s *Server) TooManyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// SendRecord is one successful send.
type SendRecord struct {
	Method               string
	ChatID               int64
	ThreadID             int
	BusinessConnectionID string
	MessageID            int
	At                   time.Time
}

// SendLog returns every successful send in order.
func (s *Server) SendLog() []SendRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SendRecord(nil), s.sendLog...)
}

// Sends returns the times of the successful sends into chatID, in order, so a
// test can check pacing. A business chat shares its id with the customer's
// private chat with the bot, and both count here (and toward PerChat); SendLog
// tells them apart.
func (s *Server) Sends(chatID int64) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.sendTimes[chatID]...)
}
