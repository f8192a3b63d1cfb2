package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// disputed pays an order of shop A through the sandbox and opens (and, with closeAs,
// closes) a dispute on its payment, as a gateway's events would.
func (b *bundle) disputed(t *testing.T, gid, closeAs string, due *time.Time) orderJSON {
	t.Helper()
	o := b.createOrder(keyA, orderBody)
	b.checkout(o, "success")
	full, err := b.svc.Order(context.Background(), "shop-a", o.ID)
	require.NoError(t, err)
	require.Len(t, full.Payments, 1)
	ev := func(id, typ, status string) *orders.GatewayEvent {
		return &orders.GatewayEvent{ShopID: "shop-a", Gateway: "sandbox", EventID: id, Type: typ,
			PaymentRef: full.Payments[0].GatewayRef, Amount: 330000, Currency: "VND",
			Dispute: &orders.DisputeDetails{ID: gid, Status: status, Reason: "fraudulent", EvidenceDueAt: due}}
	}
	_, err = b.svc.ApplyEvent(context.Background(), ev(gid+"_open", orders.EventDisputeOpened, orders.DisputeOpen))
	require.NoError(t, err)
	if closeAs != "" {
		_, err = b.svc.ApplyEvent(context.Background(), ev(gid+"_close", orders.EventDisputeClosed, closeAs))
		require.NoError(t, err)
	}
	return o
}

func TestDisputesAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	due := time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC)
	open := b.disputed(t, "du_open", "", &due)
	lost := b.disputed(t, "du_lost", orders.DisputeLost, nil)
	require.Equal(t, orders.PaymentDisputed, b.getOrder(keyA, open.ID).PaymentStatus)

	type list struct {
		Disputes   []disputeJSON `json:"disputes"`
		NextCursor string        `json:"next_cursor"`
	}
	get := func(query, key string) list {
		t.Helper()
		rec := b.api(http.MethodGet, "/api/v1/disputes"+query, key, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return decode[list](t, rec)
	}
	all := get("", keyA)
	require.Len(t, all.Disputes, 2)
	require.Equal(t, lost.ID, all.Disputes[0].OrderID, "newest first")
	d := all.Disputes[1]
	require.Equal(t, open.ID, d.OrderID)
	require.Equal(t, "du_open", d.GatewayDisputeID)
	require.Equal(t, orders.DisputeOpen, d.Status)
	require.Equal(t, "fraudulent", d.Reason)
	require.Equal(t, int64(330000), d.Amount)
	require.Equal(t, "VND", d.Currency)
	require.Equal(t, &due, d.EvidenceDueAt)
	require.Nil(t, d.ClosedAt)

	for status, want := range map[string][]string{
		"open": {open.ID}, "pending": nil, "won": nil, "lost": {lost.ID}, "closed": {lost.ID},
	} {
		var got []string
		for _, x := range get("?status="+status, keyA).Disputes {
			got = append(got, x.OrderID)
		}
		require.Equal(t, want, got, status)
	}
	requireError(t, b.api(http.MethodGet, "/api/v1/disputes?status=bogus", keyA, ""), http.StatusBadRequest, orders.EINVALID, "status")

	page := get("?limit=1", keyA)
	require.Len(t, page.Disputes, 1)
	require.NotEmpty(t, page.NextCursor)
	rest := get("?limit=1&cursor="+page.NextCursor, keyA)
	require.Equal(t, []disputeJSON{d}, rest.Disputes)
	require.Empty(t, rest.NextCursor)

	rec := b.api(http.MethodGet, "/api/v1/disputes/"+d.ID, keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, d, decode[disputeJSON](t, rec))

	// Another shop sees none of them.
	require.Empty(t, get("", keyB).Disputes)
	requireError(t, b.api(http.MethodGet, "/api/v1/disputes/"+d.ID, keyB, ""), http.StatusNotFound, orders.ENOTFOUND, "")
	requireError(t, b.api(http.MethodGet, "/api/v1/disputes/not-a-uuid", keyA, ""), http.StatusNotFound, orders.ENOTFOUND, "")
	requireError(t, b.api(http.MethodGet, "/api/v1/disputes/"+orders.NewID(), keyA, ""), http.StatusNotFound, orders.ENOTFOUND, "")
	require.Equal(t, http.StatusUnauthorized, b.api(http.MethodGet, "/api/v1/disputes", "", "").Code)
}
