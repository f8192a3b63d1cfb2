package web

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGatewaysAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	type list struct {
		Gateways []map[string]any `json:"gateways"`
	}
	get := func(key string) list {
		t.Helper()
		rec := b.api(http.MethodGet, "/api/v1/gateways", key, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return decode[list](t, rec)
	}

	require.Equal(t, []map[string]any{{
		"name": "sandbox", "partial_refund": true, "max_refunds_per_payment": float64(0),
		"refund_window_seconds": float64(0), "capture": false, "partial_capture": false,
		"disputes": false, "qr": false, "methods": []any{"card"},
	}}, get(keyA).Gateways)
	// A gateway that declares nothing is listed as promising nothing.
	require.Equal(t, []map[string]any{{
		"name": "broken", "partial_refund": false, "max_refunds_per_payment": float64(0),
		"refund_window_seconds": float64(0), "capture": false, "partial_capture": false,
		"disputes": false, "qr": false, "methods": []any{},
	}}, get(keyC).Gateways)

	requireError(t, b.api(http.MethodGet, "/api/v1/gateways", "", ""), http.StatusUnauthorized, "unauthorized", "")
}
