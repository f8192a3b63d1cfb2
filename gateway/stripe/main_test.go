package stripe

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
	"testing"
	"time"
)

// StripeMockVersion is the stripe-mock release these tests were written against;
// .ci/run installs the same one. stripe-mock validates requests against the OpenAPI
// spec it embeds and answers with that spec's fixtures.
const StripeMockVersion = "v0.203.0"

// mockURL is the base URL of the stripe-mock started by TestMain, "" when none runs;
// mockErr says why.
var (
	mockURL string
	mockErr error
)

func TestMain(m *testing.M) {
	stop := startStripeMock()
	code := m.Run()
	stop()
	os.Exit(code)
}

// stripeMockBinary finds stripe-mock on PATH or where go install puts it.
func stripeMockBinary() (string, error) {
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
	return "", fmt.Errorf("stripe-mock not found on PATH or in $(go env GOPATH)/bin; install it with go install github.com/stripe/stripe-mock@%s", StripeMockVersion)
}

// freePort asks the kernel for an unused port. Another process could take it before
// stripe-mock binds it; startStripeMock then fails loudly rather than testing the
// wrong server, since the readiness probe only accepts stripe-mock's answer.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startStripeMock starts stripe-mock on free ports and waits until it answers. It sets
// mockURL, or mockErr when it cannot, and returns the function that stops it.
func startStripeMock() (stop func()) {
	bin, err := stripeMockBinary()
	if err != nil {
		mockErr = err
		return func() {}
	}
	httpPort, err1 := freePort()
	httpsPort, err2 := freePort()
	if err1 != nil || err2 != nil {
		mockErr = fmt.Errorf("no free port: %v %v", err1, err2)
		return func() {}
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-http-port", fmt.Sprint(httpPort), "-https-port", fmt.Sprint(httpsPort))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		mockErr = fmt.Errorf("start %s: %w", bin, err)
		return func() {}
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/balance", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Header.Get("Stripe-Mock-Version") != "" {
				mockURL = base
				return stop
			}
		}
		select {
		case <-exited:
			mockErr = fmt.Errorf("stripe-mock exited: %s", out.String())
			return func() {}
		default:
		}
		if time.Now().After(deadline) {
			stop()
			mockErr = fmt.Errorf("stripe-mock did not answer on %s within 30s: %s", base, out.String())
			return func() {}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// requireMock skips a test when stripe-mock is not running, or fails it when
// CHATPAY_REQUIRE_SERVICES=1 (CI), so that a missing binary cannot pass CI silently.
func requireMock(t *testing.T) {
	t.Helper()
	if mockURL != "" {
		return
	}
	if os.Getenv("CHATPAY_REQUIRE_SERVICES") == "1" {
		t.Fatalf("stripe-mock is required: %v", mockErr)
	}
	t.Skipf("stripe-mock unavailable: %v", mockErr)
}

// recorded is one request as it reached stripe-mock.
type recorded struct {
	Method, Path   string
	Query          url.Values
	Form           url.Values
	IdempotencyKey string
	Status         int
}

// recorder is a reverse proxy in front of stripe-mock that keeps every request, so
// that tests can check what the gateway sent and not only that stripe-mock accepted it.
type recorder struct {
	URL string
	mu  sync.Mutex
	got []recorded
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	requireMock(t)
	target, err := url.Parse(mockURL)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		r.mu.Lock()
		r.got[len(r.got)-1].Status = resp.StatusCode
		r.mu.Unlock()
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		r.mu.Lock()
		r.got = append(r.got, recorded{
			Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Form: form,
			IdempotencyKey: req.Header.Get("Idempotency-Key"),
		})
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.got...)
}

// mockGateway returns a gateway whose API requests go through rec to stripe-mock.
func mockGateway(t *testing.T, rec *recorder, cfg Config) *Gateway {
	t.Helper()
	cfg.SecretKey = "sk_test_123"
	if cfg.WebhookSecrets == nil {
		cfg.WebhookSecrets = []string{"whsec_test"}
	}
	cfg.APIURL = rec.URL
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
