package stripe

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestDisputeAnswersAgainstStripeMock(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	g := mockGateway(t, rec, Config{})
	ctx := testContext(t)

	require.NoError(t, g.AddMessage(ctx, "du_123", "Delivered on 3 Nov, tracking GHN123."))
	require.NoError(t, g.AttachEvidence(ctx, "du_123", "receipt.pdf", "application/pdf", []byte("%PDF-1.7\n")))
	require.NoError(t, g.Submit(ctx, "du_123"))
	// stripe-mock keeps no state: its closed dispute keeps the fixture's status, which
	// is not lost, so the acceptance is not taken as confirmed.
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(g.Accept(ctx, "du_123")))

	type call struct{ method, path, submit, text, file string }
	var got []call
	for _, r := range rec.requests() {
		require.Equal(t, http.StatusOK, r.Status, r.Path)
		got = append(got, call{r.Method, r.Path, r.Form.Get("submit"), r.Form.Get("evidence[uncategorized_text]"), r.Form.Get("evidence[uncategorized_file]")})
	}
	require.Len(t, got, 7)
	require.Equal(t, call{"POST", "/v1/disputes/du_123", "false", "Delivered on 3 Nov, tracking GHN123.", ""}, got[1])
	require.Equal(t, "POST /v1/files", got[3].method+" "+got[3].path)
	require.Equal(t, "false", got[4].submit)
	require.NotEmpty(t, got[4].file, "the uploaded file is staged as evidence")
	require.Equal(t, call{"POST", "/v1/disputes/du_123", "true", "", ""}, got[5])
	require.Equal(t, "POST /v1/disputes/du_123/close", got[6].method+" "+got[6].path)
}

// A stand-in plays the states stripe-mock cannot: a dispute that is closed, one that
// already has its evidence file, and a close that Stripe confirms as lost.
func TestDisputeAnswersStates(t *testing.T) {
	t.Parallel()
	dispute := map[string]any{"id": "du_1", "object": "dispute", "status": "lost"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(dispute)
	}))
	t.Cleanup(srv.Close)
	g, err := New(Config{SecretKey: "sk_test_1", WebhookSecrets: []string{"whsec_1"}, APIURL: srv.URL})
	require.NoError(t, err)
	ctx := testContext(t)

	require.NoError(t, g.Accept(ctx, "du_1"), "closed as lost: confirmed")
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(g.AddMessage(ctx, "du_1", "late")))
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(g.AttachEvidence(ctx, "du_1", "a.pdf", "application/pdf", []byte("%PDF-"))))

	dispute = map[string]any{"id": "du_1", "object": "dispute", "status": "needs_response",
		"evidence": map[string]any{"uncategorized_file": map[string]any{"id": "file_1", "object": "file"}}}
	err = g.AttachEvidence(ctx, "du_1", "b.pdf", "application/pdf", []byte("%PDF-"))
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err))
	require.Contains(t, err.Error(), "one PDF")
}
