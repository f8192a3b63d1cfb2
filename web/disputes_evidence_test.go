package web

import (
	"bytes"
	"context"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// responderGateway is shop-a's sandbox gateway that also answers disputes, recording
// what it was asked. acceptErr, when set, is what Accept answers.
type responderGateway struct {
	gateway.Gateway
	mu        sync.Mutex
	calls     []string
	files     map[string][]byte
	acceptErr error
}

var _ gateway.DisputeResponder = (*responderGateway)(nil)

func (g *responderGateway) record(call string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, call)
}

func (g *responderGateway) Calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.calls)
}

func (g *responderGateway) AttachEvidence(_ context.Context, id, filename, contentType string, data []byte) error {
	g.mu.Lock()
	g.files[filename] = data
	g.mu.Unlock()
	g.record("evidence " + id + " " + filename + " " + contentType)
	return nil
}

func (g *responderGateway) AddMessage(_ context.Context, id, text string) error {
	g.record("message " + id + " " + text)
	return nil
}

func (g *responderGateway) Submit(_ context.Context, id string) error {
	g.record("submit " + id)
	return nil
}

func (g *responderGateway) Accept(_ context.Context, id string) error {
	g.record("accept " + id)
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.acceptErr
}

// upload posts one file as multipart/form-data in the field "file".
func (b *bundle) upload(path, key, filename string, data []byte) *httptest.ResponseRecorder {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, err := mw.CreateFormFile("file", filename)
	require.NoError(b.t, err)
	_, err = w.Write(data)
	require.NoError(b.t, err)
	require.NoError(b.t, mw.Close())
	return b.request(http.MethodPost, path, &body, http.Header{
		"Content-Type": {mw.FormDataContentType()}, "Authorization": {"Bearer " + key},
	})
}

// disputeIDs returns shop A's chatpay dispute ids by gateway dispute id.
func (b *bundle) disputeIDs(t *testing.T) map[string]string {
	t.Helper()
	rec := b.api(http.MethodGet, "/api/v1/disputes", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	out := map[string]string{}
	for _, d := range decode[struct {
		Disputes []disputeJSON `json:"disputes"`
	}](t, rec).Disputes {
		out[d.GatewayDisputeID] = d.ID
	}
	return out
}

// pngOf returns a PNG signature padded to n bytes: http.DetectContentType judges by
// the first bytes only.
func pngOf(n int) []byte {
	b := make([]byte, n)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

func TestDisputeAnswers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := &responderGateway{Gateway: b.sandbox.Gateway("shop-a", "secret-a"), files: map[string][]byte{}}
	b.gateways.Add("shop-a", g) // replaces the plain sandbox gateway before any request
	due := time.Now().Add(10 * 24 * time.Hour).UTC().Truncate(time.Second)
	open := b.disputed(t, "du_open", "", &due)
	b.disputed(t, "du_lost", orders.DisputeLost, nil)
	ids := b.disputeIDs(t)
	base, lost := "/api/v1/disputes/"+ids["du_open"], "/api/v1/disputes/"+ids["du_lost"]

	t.Run("evidence", func(t *testing.T) {
		rec := b.upload(base+"/evidence", keyA, "receipt.png", pngOf(100))
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		got := decode[map[string]any](t, rec)
		require.Equal(t, "image/png", got["content_type"])
		require.EqualValues(t, 100, got["size"])
		pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 50)...)
		require.Equal(t, http.StatusCreated, b.upload(base+"/evidence", keyA, "invoice.pdf", pdf).Code)
		// Exactly 10 MB is accepted; one byte more is refused before the gateway.
		require.Equal(t, http.StatusCreated, b.upload(base+"/evidence", keyA, "big.png", pngOf(10<<20)).Code)
		require.Len(t, g.files["big.png"], 10<<20)
		requireError(t, b.upload(base+"/evidence", keyA, "huge.png", pngOf(10<<20+1)), http.StatusRequestEntityTooLarge, orders.EINVALID, "file")
		requireError(t, b.upload(base+"/evidence", keyA, "much-too-big.png", pngOf(11<<20)), http.StatusRequestEntityTooLarge, orders.EINVALID, "file")
		// The type is sniffed from the content, not taken from the name.
		requireError(t, b.upload(base+"/evidence", keyA, "fake.png", []byte("just some text, not a picture")), http.StatusBadRequest, orders.EINVALID, "file")
		requireError(t, b.upload(base+"/evidence", keyA, "empty.png", nil), http.StatusBadRequest, orders.EINVALID, "file")
		requireError(t, b.api(http.MethodPost, base+"/evidence", keyA, `{}`), http.StatusBadRequest, orders.EINVALID, "file")
		require.Equal(t, []string{
			"evidence du_open receipt.png image/png", "evidence du_open invoice.pdf application/pdf", "evidence du_open big.png image/png",
		}, g.Calls())
	})

	t.Run("message and submit", func(t *testing.T) {
		rec := b.api(http.MethodPost, base+"/message", keyA, `{"text": "  Delivered on 3 Nov, signed by the customer.  "}`)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, orders.DisputeOpen, decode[disputeJSON](t, rec).Status)
		requireError(t, b.api(http.MethodPost, base+"/message", keyA, `{"text": " "}`), http.StatusBadRequest, orders.EINVALID, "text")
		requireError(t, b.api(http.MethodPost, base+"/message", keyA, `{"text": "`+strings.Repeat("a", 20001)+`"}`), http.StatusBadRequest, orders.EINVALID, "text")
		rec = b.api(http.MethodPost, base+"/submit", keyA, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		calls := g.Calls()
		require.Equal(t, []string{"message du_open Delivered on 3 Nov, signed by the customer.", "submit du_open"}, calls[len(calls)-2:])
	})

	t.Run("closed dispute and other shop", func(t *testing.T) {
		before := len(g.Calls())
		for _, path := range []string{"/message", "/submit", "/accept"} {
			requireError(t, b.api(http.MethodPost, lost+path, keyA, `{"text": "x"}`), http.StatusConflict, orders.ECONFLICT, "")
			requireError(t, b.api(http.MethodPost, base+path, keyB, `{"text": "x"}`), http.StatusNotFound, orders.ENOTFOUND, "")
		}
		requireError(t, b.upload(lost+"/evidence", keyA, "a.png", pngOf(10)), http.StatusConflict, orders.ECONFLICT, "")
		requireError(t, b.upload(base+"/evidence", keyB, "a.png", pngOf(10)), http.StatusNotFound, orders.ENOTFOUND, "")
		requireError(t, b.api(http.MethodGet, base+"/suggested-evidence", keyB, ""), http.StatusNotFound, orders.ENOTFOUND, "")
		requireError(t, b.api(http.MethodPost, "/api/v1/disputes/nope/submit", keyA, ""), http.StatusNotFound, orders.ENOTFOUND, "")
		require.Len(t, g.Calls(), before, "the gateway was never asked")
	})

	t.Run("suggested evidence", func(t *testing.T) {
		rec := b.api(http.MethodPost, "/api/v1/orders/"+open.ID+"/shipments", keyA, `{"carrier": "GHN", "tracking_number": "GHN123"}`)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		rec = b.api(http.MethodGet, base+"/suggested-evidence", keyA, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		ev := decode[suggestedEvidenceJSON](t, rec)
		require.Equal(t, ids["du_open"], ev.Dispute.ID)
		require.Equal(t, open.ID, ev.Order.ID)
		require.Equal(t, []itemJSON{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000, Amount: 300000}}, ev.Order.Items)
		require.Equal(t, int64(330000), ev.Order.Total)
		require.Len(t, ev.Shipments, 1)
		require.Equal(t, "GHN123", ev.Shipments[0].TrackingNumber)
		msgs, err := b.svc.Store().OrderMessages(context.Background(), "shop-a", open.ID)
		require.NoError(t, err)
		require.NotEmpty(t, msgs, "the order card and confirmations are the chat transcript")
		require.Len(t, ev.Messages, len(msgs))
		for _, m := range ev.Messages {
			require.NotEmpty(t, m.Direction)
			require.False(t, m.CreatedAt.IsZero())
		}
	})

	t.Run("accept", func(t *testing.T) {
		// A gateway that fails leaves the dispute open: nothing was conceded.
		g.mu.Lock()
		g.acceptErr = orders.Errorf(orders.ECONFLICT, "Stripe: dispute already under review")
		g.mu.Unlock()
		requireError(t, b.api(http.MethodPost, base+"/accept", keyA, ""), http.StatusConflict, orders.ECONFLICT, "")
		g.mu.Lock()
		g.acceptErr = errors.New("dial tcp: connection refused")
		g.mu.Unlock()
		requireError(t, b.api(http.MethodPost, base+"/accept", keyA, ""), http.StatusInternalServerError, orders.EINTERNAL, "")
		require.Equal(t, orders.DisputeOpen, decode[disputeJSON](t, b.api(http.MethodGet, base, keyA, "")).Status)
		require.Equal(t, orders.PaymentDisputed, b.getOrder(keyA, open.ID).PaymentStatus)

		g.mu.Lock()
		g.acceptErr = nil
		g.mu.Unlock()
		rec := b.api(http.MethodPost, base+"/accept", keyA, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		d := decode[disputeJSON](t, rec)
		require.Equal(t, orders.DisputeLost, d.Status)
		require.NotNil(t, d.ClosedAt)
		require.NotEqual(t, orders.PaymentDisputed, b.getOrder(keyA, open.ID).PaymentStatus)
		// Now closed: a second accept is a conflict and does not reach the gateway.
		n := len(g.Calls())
		requireError(t, b.api(http.MethodPost, base+"/accept", keyA, ""), http.StatusConflict, orders.ECONFLICT, "")
		require.Len(t, g.Calls(), n)
	})
}

func TestDisputeAnswersGatewayWithout(t *testing.T) {
	t.Parallel()
	b := setup(t) // shop-a's plain sandbox gateway cannot answer disputes
	b.disputed(t, "du_plain", "", nil)
	base := "/api/v1/disputes/" + b.disputeIDs(t)["du_plain"]
	for _, path := range []string{"/message", "/submit", "/accept"} {
		e := requireError(t, b.api(http.MethodPost, base+path, keyA, `{"text": "x"}`), http.StatusConflict, orders.ECONFLICT, "")
		require.Contains(t, e.Message, `"sandbox"`)
	}
	e := requireError(t, b.upload(base+"/evidence", keyA, "a.png", pngOf(10)), http.StatusConflict, orders.ECONFLICT, "")
	require.Contains(t, e.Message, `"sandbox"`)
	// Suggested evidence needs no gateway.
	require.Equal(t, http.StatusOK, b.api(http.MethodGet, base+"/suggested-evidence", keyA, "").Code)
}
