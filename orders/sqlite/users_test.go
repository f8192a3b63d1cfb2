package sqlite_test

import (
	"testing"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
)

// TestAuthStore runs the dashboard accounts' contract on SQLite.
func TestAuthStore(t *testing.T) {
	t.Parallel()
	authtest.Run(t, func(t *testing.T) auth.Store { return setup(t) })
}
