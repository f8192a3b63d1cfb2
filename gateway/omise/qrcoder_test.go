package omise_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/orders"
)

// TestSessionQRCode: a PromptPay session's QR code reaches the pay page's interface
// with its amount, currency and expiry; a redirect source has none (ENOTFOUND), and a
// settled charge's code is gone (EGONE).
func TestSessionQRCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})
	var qc gateway.QRCoder = e.gw

	s, err := e.gw.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop1", Amount: 12345, Currency: "thb", ReturnURL: "https://chatpay.example/pay/x"})
	require.NoError(t, err)
	qr, err := qc.SessionQRCode(ctx, s.ID)
	require.NoError(t, err)
	require.Equal(t, s.CheckoutURL, qr.ImageURL, "PromptPay's fallback checkout URL is the QR image")
	require.Equal(t, e.srv.URL+"/qr/"+s.ID+".png", qr.ImageURL)
	require.EqualValues(t, 12345, qr.Amount)
	require.Equal(t, "THB", qr.Currency)
	require.False(t, qr.ExpiresAt.IsZero(), "Omise says when a PromptPay code expires")

	require.NoError(t, e.srv.Complete(s.ID, true))
	_, err = qc.SessionQRCode(ctx, s.ID)
	require.Equal(t, orders.EGONE, orders.ErrorCode(err))

	scb, err := omise.New(omise.Config{ShopID: "shop1", Client: e.c, WebhookSecrets: []string{secretA}, SourceType: omise.SourceMobileBankingSCB})
	require.NoError(t, err)
	s2, err := scb.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop1", Amount: 100, Currency: "THB", ReturnURL: "https://chatpay.example/pay/x"})
	require.NoError(t, err)
	_, err = scb.SessionQRCode(ctx, s2.ID)
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
}
