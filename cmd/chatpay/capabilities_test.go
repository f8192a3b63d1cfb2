package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGatewayCapabilitiesWired: the API lists the shop's configured gateways with the
// capabilities each declares.
func TestGatewayCapabilitiesWired(t *testing.T) {
	t.Parallel()
	a := setupWith(t, "sqlite", options{shopAExtra: `      stripe:
        secret_key: sk_test_chatpay
        webhook_secrets: [whsec_chatpay_test]
        api_url: "http://127.0.0.1:1"`})
	code, got := a.call(http.MethodGet, "/api/v1/gateways", keyA, nil)
	require.Equal(t, http.StatusOK, code, got)
	byName := map[string]map[string]any{}
	for _, g := range got["gateways"].([]any) {
		g := g.(map[string]any)
		byName[g["name"].(string)] = g
	}
	require.Contains(t, byName, "sandbox")
	require.Equal(t, true, byName["sandbox"]["partial_refund"])
	require.Equal(t, true, byName["stripe"]["disputes"])
	require.Equal(t, false, byName["sandbox"]["disputes"])
}
