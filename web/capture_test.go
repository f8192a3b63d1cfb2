package web

import (
	"context"
	"net/http"
	"path"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestCaptureAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyA, orderBody)
	base := "/api/v1/orders/" + o.ID
	requireError(t, b.api(http.MethodPost, base+"/capture", keyA, ""), http.StatusConflict, orders.EPAYMENTREQUIRED, "")

	// The sandbox captures at once; a gateway with manual capture reports the payment
	// as only authorised, which is what this event says.
	session := path.Base(b.startCheckout(o))
	_, err := b.svc.ApplyEvent(context.Background(), &orders.GatewayEvent{
		ShopID: "shop-a", Gateway: "sandbox", EventID: "evt_auth", Type: orders.EventSucceeded,
		SessionID: session, PaymentRef: "pi_auth", Amount: 330000, Currency: "VND",
		Payload: []byte(`{}`), Authorized: true,
	})
	require.NoError(t, err)
	got := b.getOrder(keyA, o.ID)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentAuthorized, got.PaymentStatus)
	requireError(t, b.api(http.MethodPost, base+"/shipments", keyA, `{"carrier": "GHN"}`), http.StatusConflict, orders.EPAYMENTREQUIRED, "")

	requireError(t, b.api(http.MethodPost, base+"/capture", keyA, `{"amount": 330001}`), http.StatusUnprocessableEntity, orders.EINVALID, "amount")
	requireError(t, b.api(http.MethodPost, base+"/capture", keyA, `{"amount": "5"}`), http.StatusBadRequest, orders.EINVALID, "amount")
	requireError(t, b.api(http.MethodPost, base+"/capture", keyB, `{}`), http.StatusNotFound, orders.ENOTFOUND, "")

	rec := b.api(http.MethodPost, base+"/capture", keyA, `{"amount": 300000}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	out := decode[orderJSON](t, rec)
	require.Equal(t, orders.PaymentAuthorized, out.PaymentStatus, "paid once the gateway has answered")
	require.Equal(t, orders.PaymentStatusCapturing, out.Payments[0].Status)
	requireError(t, b.api(http.MethodPost, base+"/capture", keyA, ""), http.StatusConflict, orders.ECONFLICT, "")
}
