package omise

import (
	"context"

	"github.com/chatpay/chatpay/gateway"
)

var _ gateway.QRCoder = (*Gateway)(nil)

// SessionQRCode implements gateway.QRCoder on top of QRCode. QRCode keeps its own type
// (it reports the charge id, and callers in this package use it), so the pay page's
// interface gets this adapter under another name rather than a second QRCode method.
func (g *Gateway) SessionQRCode(ctx context.Context, sessionID string) (*gateway.QRCode, error) {
	qr, err := g.QRCode(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	out := &gateway.QRCode{ImageURL: qr.ImageURL, Amount: qr.Amount, Currency: qr.Currency}
	if qr.ExpiresAt != nil {
		out.ExpiresAt = *qr.ExpiresAt
	}
	return out, nil
}
