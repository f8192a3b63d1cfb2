package omise_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/orders"
)

func TestGatewayAnswersDisputes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})
	d, err := e.srv.OpenDispute(paidCharge(t, e, 5000).ID)
	require.NoError(t, err)

	require.NoError(t, e.gw.AttachEvidence(ctx, d.ID, "receipt.png", "image/png", pngBytes))
	require.NoError(t, e.gw.AttachEvidence(ctx, d.ID, "slip.pdf", "application/pdf", pdfBytes))
	err = e.gw.AttachEvidence(ctx, d.ID, "notes.txt", "text/plain", []byte("plain text"))
	require.Equal(t, orders.EINVALID, orders.ErrorCode(err), "%v", err)
	got, err := e.c.RetrieveDispute(ctx, d.ID)
	require.NoError(t, err)
	require.NotNil(t, got.Documents)
	require.Len(t, got.Documents.Data, 2)

	require.NoError(t, e.gw.Submit(ctx, d.ID), "nothing to send while open")
	require.NoError(t, e.gw.AddMessage(ctx, d.ID, "Delivered on 2026-03-01, tracking TH123."))
	got, err = e.c.RetrieveDispute(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, omise.DisputePending, got.Status, "Omise reviews the dispute once answered")
	err = e.gw.AttachEvidence(ctx, d.ID, "late.png", "image/png", pngBytes)
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err), "%v", err)

	require.NoError(t, e.gw.Accept(ctx, d.ID))
	got, err = e.c.RetrieveDispute(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, omise.DisputeLost, got.Status)
	for _, err := range []error{e.gw.Accept(ctx, d.ID), e.gw.Submit(ctx, d.ID), e.gw.AddMessage(ctx, d.ID, "too late")} {
		require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err), "%v", err)
	}
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(e.gw.Accept(ctx, "dspt_missing")))
}
