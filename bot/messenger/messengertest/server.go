package messengertest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults a Server uses unless an Option says otherwise. The ids are numeric
// strings of the length Meta's ids have.
const (
	DefaultPageID       = "101234567890123"
	DefaultPageName     = "Chatpay Test Shop"
	DefaultPageToken    = "EAAGmessengertestPageAccessToken0123456789"
	DefaultAppID        = "1234567890123456"
	DefaultAppSecret    = "messengertest-app-secret"
	DefaultGraphVersion = "v21.0"
)

// PageInboxAppID is the app id Meta puts on echoes of messages a person typed
// in the Page inbox (Meta Business Suite). It is the id Meta's handover
// documentation gives for the Page inbox as a secondary receiver.
const PageInboxAppID = "263902037430900"

// SendAPI names the Send API endpoint for FailNext.
const SendAPI = "messages"

// maxBodyBytes caps request bodies; the Send API carries text and small JSON
// objects, so anything near this is a mistake in the client.
const maxBodyBytes = 4 << 20

// Option configures a Server.
type Option func(*config)

type config struct {
	pageID       string
	pageName     string
	token        string
	appID        string
	appSecret    string
	version      string
	clock        func() time.Time
	webhook      string
	echoes       bool
	requireProof bool
	templates    []Template
	timeoutDelay time.Duration
	client       *http.Client
}

// WithPageID sets the Page's id (numeric).
func WithPageID(id string) Option { return func(c *config) { c.pageID = id } }

// WithPageName sets the Page's name, which feed webhooks carry in from.name
// for the Page's own comments.
func WithPageName(name string) Option { return func(c *config) { c.pageName = name } }

// WithPageToken sets the Page access token the Send API accepts.
func WithPageToken(token string) Option { return func(c *config) { c.token = token } }

// WithAppID sets chatpay's app id (numeric): echoes of the messages chatpay
// sends carry it in message.app_id.
func WithAppID(id string) Option { return func(c *config) { c.appID = id } }

// WithAppSecret sets the app secret that signs webhooks and checks
// appsecret_proof.
func WithAppSecret(secret string) Option { return func(c *config) { c.appSecret = secret } }

// WithGraphVersion sets the Graph API version in request paths ("v21.0").
func WithGraphVersion(v string) Option { return func(c *config) { c.version = v } }

// WithClock replaces the server's clock. Message timestamps, the 24-hour
// window and the 7-day private reply limit read it; Advance moves it on.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithWebhook sets the URL signed webhooks are POSTed to; SetWebhook changes
// it later.
func WithWebhook(url string) Option { return func(c *config) { c.webhook = url } }

// WithEchoes makes the server deliver a message echo for every message the
// Send API accepts, as a Page subscribed to message_echoes receives.
func WithEchoes(on bool) Option { return func(c *config) { c.echoes = on } }

// WithRequireAppSecretProof makes appsecret_proof mandatory, as the app
// setting "Require App Secret" does.
func WithRequireAppSecretProof(on bool) Option { return func(c *config) { c.requireProof = on } }

// WithTemplates registers approved utility message templates.
func WithTemplates(ts ...Template) Option {
	return func(c *config) { c.templates = append(c.templates, ts...) }
}

// WithTimeoutDelay sets how long a Timeout fault without its own delay holds
// a request when the client does not give up first (default 1 minute).
func WithTimeoutDelay(d time.Duration) Option { return func(c *config) { c.timeoutDelay = d } }

// WithWebhookClient sets the HTTP client webhooks are delivered with
// (default: 10-second timeout).
func WithWebhookClient(c *http.Client) Option { return func(cfg *config) { cfg.client = c } }

// Server is an emulator of the Messenger Platform's Send API and webhooks. All
// methods are safe for concurrent use.
type Server struct {
	t   testing.TB
	srv *httptest.Server
	cfg config

	closing   chan struct{}
	closeOnce sync.Once
	bg        sync.WaitGroup

	mu    sync.Mutex
	shift time.Duration

	webhook string
	echoes  bool

	people    map[string]*person // by PSID
	byName    map[string]*person
	byUserID  map[string]*person
	order     []*person
	templates map[string]Template

	posts        map[string]*post
	comments     map[string]*comment
	commentOrder []string
	sent         []Message
	replies      []PrivateReply
	nextPerson   int64
	nextMID      int64
	nextPost     int64
	nextComment  int64
	nextTrace    int64
	faults       map[string][]Fault
	stats        Stats
	deliveries   []Delivery
	echoQueue    []echoJob
	echoBusy     bool
	echoPending  int
	echoSignal   chan struct{} // closed and replaced when the echo queue drains
	echoWake     chan struct{}
}

// New starts a Server and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{
		pageID:       DefaultPageID,
		pageName:     DefaultPageName,
		token:        DefaultPageToken,
		appID:        DefaultAppID,
		appSecret:    DefaultAppSecret,
		version:      DefaultGraphVersion,
		clock:        time.Now,
		timeoutDelay: time.Minute,
	}
	for _, o := range opts {
		o(&cfg)
	}
	for name, v := range map[string]string{"page id": cfg.pageID, "app id": cfg.appID} {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("messengertest: %s %q must be numeric, as Meta's ids are", name, v)
		}
	}
	if !strings.HasPrefix(cfg.version, "v") {
		t.Fatalf("messengertest: Graph version %q must look like v21.0", cfg.version)
	}
	if cfg.client == nil {
		cfg.client = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Server{
		t:          t,
		cfg:        cfg,
		closing:    make(chan struct{}),
		webhook:    cfg.webhook,
		echoes:     cfg.echoes,
		people:     map[string]*person{},
		byName:     map[string]*person{},
		byUserID:   map[string]*person{},
		templates:  map[string]Template{},
		posts:      map[string]*post{},
		comments:   map[string]*comment{},
		faults:     map[string][]Fault{},
		echoSignal: make(chan struct{}),
		echoWake:   make(chan struct{}, 1),
	}
	for _, tpl := range cfg.templates {
		s.templates[tpl.key()] = tpl
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.bg.Add(1)
	go s.echoLoop()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and its echo sender. It is called by the test's
// cleanup and is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.bg.Wait()
	})
}

// URL is the server's base URL, standing in for https://graph.facebook.com.
func (s *Server) URL() string { return s.srv.URL }

// SendURL is the Send API endpoint for the Page (…/{version}/{page-id}/messages).
func (s *Server) SendURL() string {
	return s.srv.URL + "/" + s.cfg.version + "/" + s.cfg.pageID + "/messages"
}

// PageID is the Page's id.
func (s *Server) PageID() string { return s.cfg.pageID }

// PageName is the Page's name.
func (s *Server) PageName() string { return s.cfg.pageName }

// PageToken is the Page access token the server accepts.
func (s *Server) PageToken() string { return s.cfg.token }

// AppID is chatpay's app id.
func (s *Server) AppID() string { return s.cfg.appID }

// AppSecret is the app secret webhooks are signed with.
func (s *Server) AppSecret() string { return s.cfg.appSecret }

// GraphVersion is the Graph API version the server serves.
func (s *Server) GraphVersion() string { return s.cfg.version }

// AppSecretProof is the appsecret_proof for token: the hex HMAC-SHA256 of the
// token keyed with the app secret.
func (s *Server) AppSecretProof(token string) string {
	m := hmac.New(sha256.New, []byte(s.cfg.appSecret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// SetWebhook changes where webhooks go ("" stops deliveries).
func (s *Server) SetWebhook(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = url
}

// SetEchoes turns echoes of the messages chatpay sends on or off.
func (s *Server) SetEchoes(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echoes = on
}

// Now is the server's current time: its clock plus everything Advance added.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) now() time.Time { return s.cfg.clock().Add(s.shift) }

// Advance moves the server's clock forward by d, for example past the 24-hour
// window.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shift += d
}

// APIError is the object Graph API errors carry under "error"; the field
// order follows Meta's example error response.
type APIError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Transient bool   `json:"is_transient,omitempty"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode,omitempty"`
	FBTraceID string `json:"fbtrace_id"`
}

// ErrorResponse is the body of a failed Graph API call.
type ErrorResponse struct {
	Error APIError `json:"error"`
}

// graphError is a failed call: an HTTP status and the error object.
type graphError struct {
	status int
	e      APIError
}

func (g *graphError) Error() string { return fmt.Sprintf("%d %s", g.status, g.e.Message) }

func oauthError(code, subcode int, msg string) *graphError {
	return &graphError{status: http.StatusBadRequest, e: APIError{
		Message: fmt.Sprintf("(#%d) %s", code, msg), Type: "OAuthException", Code: code, Subcode: subcode,
	}}
}

// invalidParam is Meta's code 100 for a request it cannot accept as written.
func invalidParam(format string, args ...any) *graphError {
	return oauthError(100, 0, fmt.Sprintf(format, args...))
}

// unsupported answers a request for a Messenger feature the emulator does not
// model. The message says so, so a test never mistakes it for Meta's answer.
func unsupported(format string, args ...any) *graphError {
	return oauthError(100, 0, "messengertest: "+fmt.Sprintf(format, args...)+" is not emulated")
}

var errUnknownPath = &graphError{status: http.StatusBadRequest, e: APIError{
	Message: "Unknown path components", Type: "OAuthException", Code: 2500,
}}

func (s *Server) traceID() string {
	s.mu.Lock()
	s.nextTrace++
	n := s.nextTrace
	s.mu.Unlock()
	sum := sha256.Sum256([]byte("trace:" + strconv.FormatInt(n, 10)))
	return "A" + base64.RawURLEncoding.EncodeToString(sum[:])[:22]
}

func (s *Server) writeError(w http.ResponseWriter, g *graphError) {
	e := g.e
	if e.FBTraceID == "" {
		e.FBTraceID = s.traceID()
	}
	// Graph API repeats OAuth errors in WWW-Authenticate, as RFC 6750 asks.
	if e.Type == "OAuthException" {
		reason := "invalid_request"
		if e.Code == 190 {
			reason = "invalid_token"
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`OAuth "Facebook Platform" %q %q`, reason, e.Message))
	}
	s.count(g.status)
	writeJSON(w, g.status, ErrorResponse{Error: e})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"messengertest: cannot encode answer","type":"OAuthException","code":1}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func (s *Server) count(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case status >= 500:
		s.stats.Status5xx++
	case status >= 400:
		s.stats.Status4xx++
	default:
		s.stats.OK++
	}
}

// serveHTTP routes /{version}/me/messages and /{version}/{page-id}/messages.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != s.cfg.version || parts[2] != "messages" {
		s.writeError(w, errUnknownPath)
		return
	}
	if node := parts[1]; node != "me" && node != s.cfg.pageID {
		s.writeError(w, &graphError{status: http.StatusBadRequest, e: APIError{
			Message: fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", node),
			Type:    "GraphMethodException", Code: 100, Subcode: 33,
		}})
		return
	}
	if r.Method != http.MethodPost {
		// GET on /me/messages is the Conversations API, which is not
		// emulated.
		s.writeError(w, unsupported("%s %s", r.Method, r.URL.Path))
		return
	}
	fields, perr := parseRequest(w, r)
	if perr != nil {
		s.writeError(w, perr)
		return
	}
	if aerr := s.authorize(fields); aerr != nil {
		s.writeError(w, aerr)
		return
	}
	if f, ok := s.takeFault(SendAPI); ok {
		f.handle(s, w, r, func() { _, _ = s.send(fields) })
		return
	}
	res, gerr := s.send(fields)
	if gerr != nil {
		s.writeError(w, gerr)
		return
	}
	s.count(http.StatusOK)
	writeJSON(w, http.StatusOK, res)
}

// authorize checks the access token and, when given or required, the
// appsecret_proof.
func (s *Server) authorize(f fields) *graphError {
	token := f["access_token"]
	if token == "" {
		return &graphError{status: http.StatusBadRequest, e: APIError{
			Message: "An access token is required to request this resource.", Type: "OAuthException", Code: 104,
		}}
	}
	if !hmac.Equal([]byte(token), []byte(s.cfg.token)) {
		return &graphError{status: http.StatusBadRequest, e: APIError{
			Message: "Invalid OAuth access token.", Type: "OAuthException", Code: 190,
		}}
	}
	proof, given := f["appsecret_proof"]
	if !given || proof == "" {
		if s.cfg.requireProof {
			return &graphError{status: http.StatusBadRequest, e: APIError{
				Message: "API calls from the server require an appsecret_proof argument", Type: "GraphMethodException", Code: 100,
			}}
		}
		return nil
	}
	if !hmac.Equal([]byte(strings.ToLower(proof)), []byte(s.AppSecretProof(token))) {
		return &graphError{status: http.StatusBadRequest, e: APIError{
			Message: "Invalid appsecret_proof provided in the API argument", Type: "GraphMethodException", Code: 100,
		}}
	}
	return nil
}

// sleepCtx waits d or until ctx ends or the server closes.
func (s *Server) sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.closing:
	case <-t.C:
	}
}
