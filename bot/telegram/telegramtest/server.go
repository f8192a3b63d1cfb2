package telegramtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// DefaultToken is the token a Server accepts unless WithToken says otherwise.
// Its numeric prefix is the bot's user id, as in real tokens.
const DefaultToken = "7000000001:AAtelegramtest-emulator-token"

// maxBodyBytes caps request bodies. Telegram accepts up to 50 MB for uploads
// but these methods carry text; 20 MB matches its limit for the rest.
const maxBodyBytes = 20 << 20

// Option configures a Server.
type Option func(*config)

type config struct {
	token          string
	username       string
	clock          func() time.Time
	limits         Limits
	webhookBackoff time.Duration
	webhookMaxWait time.Duration
	timeoutDelay   time.Duration
}

// WithToken sets the token the server accepts; the part before the colon must
// be a number, the bot's id.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithBotUsername sets the bot's username (without @).
func WithBotUsername(name string) Option { return func(c *config) { c.username = name } }

// WithClock replaces the server's clock. Message dates, the 24-hour business
// window and the rate limits read it; Advance moves it further.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithLimits turns on Telegram-like rate limits for sends.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithWebhookBackoff sets the first pause between failed webhook deliveries and
// the longest one; the pause doubles after each failure. The defaults (10ms and
// 200ms) keep tests quick, unlike Telegram's minutes.
func WithWebhookBackoff(first, max time.Duration) Option {
	return func(c *config) { c.webhookBackoff, c.webhookMaxWait = first, max }
}

// WithTimeoutDelay sets how long a Timeout fault without its own Delay holds a
// request when the client does not give up first (default 1 minute).
func WithTimeoutDelay(d time.Duration) Option { return func(c *config) { c.timeoutDelay = d } }

// Server is a Telegram Bot API emulator. All methods are safe for concurrent use.
type Server struct {
	t   testing.TB
	srv *httptest.Server
	cfg config
	bot models.User

	// closing is closed when the server shuts down, so long polls, held
	// requests and webhook retries end.
	closing   chan struct{}
	closeOnce sync.Once
	bg        sync.WaitGroup

	mu    sync.Mutex
	shift time.Duration // added to the clock by Advance

	nextUserID  int64
	nextGroupID int64
	nextSuperID int64
	users       map[int64]*user
	chats       map[chatKey]*chat
	usernames   map[string]int64 // lower-case @username → chat id

	business      map[string]*businessConn
	nextBusiness  int
	callbacks     map[string]*callback
	callbackOrder []string
	nextCallback  int

	updates        []queuedUpdate
	nextUpdateID   int64
	updateSignal   chan struct{} // closed and replaced when an update is queued
	allowedUpdates []string
	pollGen        uint64
	pollKick       chan struct{} // closed when a newer getUpdates takes over

	webhook    *webhookState
	deliveries int
	whAttempts int

	faults    map[string][]Fault
	tooMany   int
	sendLog   []SendRecord
	sendTimes map[int64][]time.Time
	global    []time.Time
}

// New starts a Server and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{
		token:          DefaultToken,
		username:       "chatpay_test_bot",
		clock:          time.Now,
		webhookBackoff: 10 * time.Millisecond,
		webhookMaxWait: 200 * time.Millisecond,
		timeoutDelay:   time.Minute,
	}
	for _, o := range opts {
		o(&cfg)
	}
	id, err := strconv.ParseInt(strings.SplitN(cfg.token, ":", 2)[0], 10, 64)
	if err != nil || !strings.Contains(cfg.token, ":") {
		t.Fatalf("telegramtest: token %q must look like <bot id>:<secret>", cfg.token)
	}
	s := &Server{
		t:   t,
		cfg: cfg,
		bot: models.User{
			ID: id, IsBot: true, FirstName: "Chatpay Test", Username: cfg.username,
			CanJoinGroups: true, CanConnectToBusiness: true,
		},
		closing:      make(chan struct{}),
		nextUserID:   100000000,
		nextSuperID:  1000000000000,
		users:        map[int64]*user{},
		chats:        map[chatKey]*chat{},
		usernames:    map[string]int64{},
		business:     map[string]*businessConn{},
		callbacks:    map[string]*callback{},
		nextUpdateID: 500000000,
		updateSignal: make(chan struct{}),
		pollKick:     make(chan struct{}),
		faults:       map[string][]Fault{},
		sendTimes:    map[int64][]time.Time{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, its webhook sender and any held requests. It is
// called by the test's cleanup and is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.mu.Lock()
		s.stopWebhook()
		s.mu.Unlock()
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.bg.Wait()
	})
}

// URL is the server URL to give the client (bot.WithServerURL).
func (s *Server) URL() string { return s.srv.URL }

// Token is the token the server accepts.
func (s *Server) Token() string { return s.cfg.token }

// BotUsername is the bot's username, without @.
func (s *Server) BotUsername() string { return s.bot.Username }

// BotID is the bot's user id, as getMe reports it.
func (s *Server) BotID() int64 { return s.bot.ID }

// Now is the server's current time: its clock plus everything Advance added.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) now() time.Time { return s.cfg.clock().Add(s.shift) }

// Advance moves the server's clock forward by d, for example past the 24-hour
// business window.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shift += d
}

// apiError is a failed call: its JSON is Telegram's error envelope.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Description) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusBadRequest, Description: "Bad Request: " + fmt.Sprintf(format, args...)}
}

func forbidden(desc string) *apiError {
	return &apiError{Code: http.StatusForbidden, Description: "Forbidden: " + desc}
}

var errNotFound = &apiError{Code: http.StatusNotFound, Description: "Not Found"}

type envelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *respParams     `json:"parameters,omitempty"`
}

type respParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	env := envelope{ErrorCode: e.Code, Description: e.Description}
	if e.RetryAfter > 0 {
		env.Parameters = &respParams{RetryAfter: e.RetryAfter}
	}
	writeJSON(w, e.Code, env)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: ` + strings.ReplaceAll(err.Error(), `"`, `'`) + `"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// handler runs one method. It returns the result to encode or an apiError.
type handler func(s *Server, ctx context.Context, p params) (any, *apiError)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	token, method, ok := strings.Cut(rest, "/")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if token != s.cfg.token {
		writeError(w, &apiError{Code: http.StatusUnauthorized, Description: "Unauthorized"})
		return
	}
	// Telegram treats method names case-insensitively.
	name := strings.ToLower(method)
	h, ok := methods[name]
	if !ok {
		writeError(w, errNotFound)
		return
	}
	p, perr := parseParams(w, r)
	if perr != nil {
		writeError(w, perr)
		return
	}
	if f, ok := s.takeFault(name); ok {
		f.handle(s, w, r, func() { _, _ = h(s, r.Context(), p) })
		return
	}
	res, aerr := h(s, r.Context(), p)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	raw, err := json.Marshal(res)
	if err != nil {
		writeError(w, &apiError{Code: 500, Description: "Internal Server Error: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, envelope{OK: true, Result: raw})
}

// params holds a request's parameters as Telegram sees them: every value is a
// string, and objects or arrays are JSON text.
type params map[string]string

func parseParams(w http.ResponseWriter, r *http.Request) (params, *apiError) {
	p := params{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p[k] = v[0]
		}
	}
	if r.Method == http.MethodGet || r.Body == nil {
		return p, nil
	}
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	defer body.Close()
	ct := r.Header.Get("Content-Type")
	mt, mp, _ := mime.ParseMediaType(ct)
	tooBig := func(err error) *apiError {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{Code: http.StatusRequestEntityTooLarge, Description: "Request Entity Too Large"}
		}
		return badRequest("can't parse request body: %v", err)
	}
	switch mt {
	case "multipart/form-data":
		// The client sends parameterless calls (getMe) as an empty body
		// with a multipart Content-Type; Telegram takes that as no fields.
		br := bufio.NewReader(body)
		if _, err := br.Peek(1); err == io.EOF {
			return p, nil
		}
		mr := multipart.NewReader(br, mp["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, tooBig(err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, tooBig(err)
			}
			// File parts are read (so the client's pipe drains) and reduced
			// to their name: the emulator keeps no media.
			if part.FileName() != "" {
				p[part.FormName()] = "attach://" + part.FileName()
				continue
			}
			p[part.FormName()] = string(data)
		}
	case "application/x-www-form-urlencoded":
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, tooBig(err)
		}
		vals, err := url.ParseQuery(string(data))
		if err != nil {
			return nil, badRequest("can't parse request body: %v", err)
		}
		for k, v := range vals {
			p[k] = v[0]
		}
	case "application/json":
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, tooBig(err)
		}
		if len(strings.TrimSpace(string(data))) == 0 {
			return p, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, badRequest("can't parse JSON object")
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				p[k] = str
				continue
			}
			if string(v) == "null" {
				continue
			}
			p[k] = string(v)
		}
	default:
		// Telegram ignores bodies it cannot read; drain it so keep-alive works.
		_, _ = io.Copy(io.Discard, body)
	}
	return p, nil
}

func (p params) str(name string) string { return p[name] }

func (p params) has(name string) bool { return p[name] != "" }

// int64 reads an integer parameter; absent means 0.
func (p params) int64(name string) (int64, *apiError) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("invalid %s specified", name)
	}
	return n, nil
}

func (p params) int(name string) (int, *apiError) {
	n, err := p.int64(name)
	return int(n), err
}

func (p params) bool(name string) bool {
	v := strings.ToLower(strings.TrimSpace(p[name]))
	return v == "true" || v == "1"
}

// strings reads a JSON array of strings such as allowed_updates.
func (p params) strings(name string) ([]string, bool, *apiError) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return nil, false, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, false, badRequest("can't parse %s JSON array", name)
	}
	return out, true, nil
}
