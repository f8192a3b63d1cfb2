package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestListOrdersByMetadata(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := func(meta string) string {
		return `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}], "metadata": ` + meta + `}`
	}
	tet1 := b.createOrder(keyB, body(`{"branch": "hcm", "campaign": "tet"}`)).ID
	hcm := b.createOrder(keyB, body(`{"branch": "hcm"}`)).ID
	tet2 := b.createOrder(keyB, body(`{"branch": "hcm", "campaign": "tet", "note": "giao \"sáng\" & tối"}`)).ID
	b.createOrder(keyB, body(`{"branch": "hn", "campaign": "tet"}`))
	// Shop A's order with the same metadata is not shop B's to see.
	b.createOrder(keyA, body(`{"branch": "hcm", "campaign": "tet"}`))

	list := func(query string) []string {
		t.Helper()
		rec := b.api(http.MethodGet, "/api/v1/orders?"+query, keyB, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var ids []string
		for _, o := range decode[listOrdersResponse](t, rec).Orders {
			ids = append(ids, o.ID)
		}
		return ids
	}
	require.Equal(t, []string{tet2, hcm, tet1}, list("metadata[branch]=hcm"))
	require.Equal(t, []string{tet2, tet1}, list("metadata[branch]=hcm&metadata[campaign]=tet"))
	// The brackets may arrive percent-encoded, as clients that escape them send them.
	require.Equal(t, []string{tet2, tet1}, list("metadata%5Bbranch%5D=hcm&metadata%5Bcampaign%5D=tet"))
	require.Equal(t, []string{tet2}, list("metadata[note]="+url.QueryEscape(`giao "sáng" & tối`)))
	require.Empty(t, list("metadata[branch]=nowhere"))

	// The cursor pages within the filter; the caller passes the filter again.
	rec := b.api(http.MethodGet, "/api/v1/orders?limit=1&metadata[campaign]=tet&metadata[branch]=hcm", keyB, "")
	page := decode[listOrdersResponse](t, rec)
	require.Equal(t, tet2, page.Orders[0].ID)
	require.NotEmpty(t, page.NextCursor)
	rec = b.api(http.MethodGet, "/api/v1/orders?limit=1&metadata[campaign]=tet&metadata[branch]=hcm&cursor="+page.NextCursor, keyB, "")
	page = decode[listOrdersResponse](t, rec)
	require.Equal(t, tet1, page.Orders[0].ID)
	require.Empty(t, page.NextCursor)

	tooMany := make([]string, 21)
	for i := range tooMany {
		tooMany[i] = "metadata[k" + strings.Repeat("x", i) + "]=v"
	}
	for _, tc := range []struct{ query, field string }{
		{"metadata[bad%20key]=x", "metadata[bad key]"},
		{"metadata[]=x", "metadata[]"},
		{"metadata[a][b]=x", "metadata[a][b]"},
		{"metadata[" + strings.Repeat("k", 41) + "]=x", "metadata[" + strings.Repeat("k", 41) + "]"},
		{"metadata[branch]=" + url.QueryEscape(strings.Repeat("v", 501)), "metadata[branch]"},
		{"metadata[branch]=%FF", "metadata[branch]"},
		{"metadata[branch=x", "metadata[branch"},
		{"metadata=x", "metadata"},
		{"metadata[branch]=hcm&metadata[branch]=hn", "metadata[branch]"},
		{strings.Join(tooMany, "&"), "metadata"},
	} {
		rec := b.api(http.MethodGet, "/api/v1/orders?"+tc.query, keyB, "")
		requireError(t, rec, http.StatusBadRequest, orders.EINVALID, tc.field)
	}
	// Parameters that merely start with "metadata" are not filters, like any other
	// unknown parameter.
	require.Len(t, list("metadata_x=1"), 4)
}
