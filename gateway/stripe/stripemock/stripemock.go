// Package stripemock runs stripe-mock (github.com/stripe/stripe-mock), Stripe's own API
// emulator, for tests: Start launches the binary on free ports and waits until it
// answers, and Recorder is a reverse proxy in front of it that keeps every request, so
// that a test can check what chatpay sent and not only that stripe-mock accepted it.
//
// stripe-mock validates each request against the OpenAPI specification it embeds and
// answers with that specification's fixtures. It keeps no state: a cancelled
// PaymentIntent is not cancelled when read back, and it sends no webhooks, so tests
// that need either play them with signed fixtures.
package stripemock

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Version is the stripe-mock release chatpay's tests are written against; .ci/run
// installs the same one. Bump both together.
const Version = "v0.203.0"

// Binary finds stripe-mock on PATH or where go install puts it.
func Binary() (string, error) {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "stripe-mock")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("stripe-mock not found on PATH or in $(go env GOPATH)/bin; install it with go install github.com/stripe/stripe-mock@%s", Version)
}

// Server is a running stripe-mock.
type Server struct {
	// URL is the base URL of its HTTP port, what a Stripe client's API URL is set to.
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts stripe-mock on free ports and waits up to 30 seconds until it answers.
// Close stops it.
func Start() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	httpPort, err1 := freePort()
	httpsPort, err2 := freePort()
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("stripemock: no free port: %v %v", err1, err2)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-http-port", fmt.Sprint(httpPort), "-https-port", fmt.Sprint(httpsPort))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("stripemock: start %s: %w", bin, err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The readiness probe accepts only stripe-mock's own answer: another process
		// that took the port between freePort and the start is not mistaken for it.
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/balance", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Header.Get("Stripe-Mock-Version") != "" {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("stripemock: stripe-mock exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("stripemock: stripe-mock did not answer on %s within 30s: %s", s.URL, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops stripe-mock and waits for it to exit.
func (s *Server) Close() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// freePort asks the kernel for an unused port. Another process could take it before
// stripe-mock binds it; Start then fails loudly rather than testing the wrong server.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Request is one request as it reached stripe-mock, with its answer.
type Request struct {
	Method, Path   string
	Query          url.Values
	Form           url.Values
	IdempotencyKey string
	Status         int
	// Response is the answer's body (the object stripe-mock made up: a session's id).
	Response []byte
}

// Recorder is a reverse proxy to a stripe-mock that keeps every request. Its URL is
// what the Stripe client under test is pointed at.
type Recorder struct {
	*httptest.Server
	mu  sync.Mutex
	got []Request
}

// NewRecorder starts a recording proxy to the stripe-mock at target; Close it when
// done.
func NewRecorder(target string) (*Recorder, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	r := &Recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		defer r.mu.Unlock()
		if i := resp.Request.Context().Value(requestIndex{}); i != nil {
			r.got[i.(int)].Status, r.got[i.(int)].Response = resp.StatusCode, body
		}
		return nil
	}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		r.mu.Lock()
		r.got = append(r.got, Request{
			Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Form: form,
			IdempotencyKey: req.Header.Get("Idempotency-Key"),
		})
		i := len(r.got) - 1
		r.mu.Unlock()
		proxy.ServeHTTP(w, req.WithContext(contextWithIndex(req, i)))
	}))
	return r, nil
}

// Requests returns the requests so far, oldest first.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Request, len(r.got))
	copy(out, r.got)
	return out
}

// requestIndex keys the index of a recorded request in the proxied request's context,
// so that its answer's status lands on the right entry when requests run concurrently.
type requestIndex struct{}

func contextWithIndex(req *http.Request, i int) context.Context {
	return context.WithValue(req.Context(), requestIndex{}, i)
}
