package stripe

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chatpay/chatpay/gateway/stripe/stripemock"
)

// StripeMockVersion is the stripe-mock release these tests were written against;
// .ci/run installs the same one. stripe-mock validates requests against the OpenAPI
// spec it embeds and answers with that spec's fixtures.
const StripeMockVersion = stripemock.Version

// mockURL is the base URL of the stripe-mock started by TestMain, "" when none runs;
// mockErr says why.
var (
	mockURL string
	mockErr error
)

func TestMain(m *testing.M) {
	srv, err := stripemock.Start()
	if err == nil {
		mockURL = srv.URL
	}
	mockErr = err
	code := m.Run()
	if srv != nil {
		srv.Close()
	}
	os.Exit(code)
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

// recorder is a reverse proxy in front of stripe-mock that keeps every request, so
// that tests can check what the gateway sent and not only that stripe-mock accepted it.
type recorder struct{ *stripemock.Recorder }

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	requireMock(t)
	r, err := stripemock.NewRecorder(mockURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return &recorder{r}
}

func (r *recorder) requests() []stripemock.Request { return r.Requests() }

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
