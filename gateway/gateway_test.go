package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// fake is a gateway that only has a name; the registry needs nothing else.
type fake struct{ name string }

func (f fake) Name() string { return f.name }
func (fake) CreateSession(context.Context, gateway.SessionRequest) (*gateway.Session, error) {
	return nil, nil
}
func (fake) SessionStatus(context.Context, string) (*gateway.SessionStatus, error) { return nil, nil }
func (fake) Refund(context.Context, gateway.RefundRequest) (*gateway.RefundResult, error) {
	return nil, nil
}
func (fake) ParseWebhook(http.Header, []byte, time.Time) (*orders.GatewayEvent, error) {
	return nil, nil
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := gateway.NewRegistry()
	s1, st1, s2 := fake{"sandbox"}, fake{"stripe"}, fake{"sandbox"}
	r.Add("shop1", st1)
	r.Add("shop1", s1)
	r.Add("shop2", s2)

	g, err := r.Get("shop1", "sandbox")
	require.NoError(t, err)
	require.Equal(t, s1, g)
	g, err = r.Get("shop2", "sandbox")
	require.NoError(t, err)
	require.Equal(t, s2, g)

	// A gateway another shop enabled is not found for this one.
	_, err = r.Get("shop2", "stripe")
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
	_, err = r.Get("nope", "sandbox")
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))

	require.Equal(t, []string{"sandbox", "stripe"}, r.Names("shop1"))
	require.Equal(t, []string{"sandbox"}, r.Names("shop2"))
	require.Empty(t, r.Names("nope"))
}
