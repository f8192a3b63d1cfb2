package postgres_test

import (
	"testing"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
)

// TestAuthStore runs the dashboard accounts' contract on Postgres, each subtest in its
// own schema.
func TestAuthStore(t *testing.T) {
	t.Parallel()
	authtest.Run(t, func(t *testing.T) auth.Store { return postgrestest.Open(t) })
}
