package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders/sqlite"
)

// TestUserAdd runs `chatpay user add` in-process against a temporary SQLite database
// and signs in with what it created.
func TestUserAdd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "users.db")
	env := func(k string) (string, bool) {
		if k == "CHATPAY_DATABASE_URL" {
			return "sqlite:" + dbPath, true
		}
		return "", false
	}
	run := func(stdin *string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		// A nil reader, not a nil *strings.Reader, is what stands for a terminal.
		var in io.Reader
		if stdin != nil {
			in = strings.NewReader(*stdin)
		}
		err := RunUser(ctx, append([]string{"add"}, args...), in, &out, &errOut, env)
		return out.String(), err
	}
	piped := "correct horse battery staple\n"

	out, err := run(&piped, "--shop", "demo", "--email", "Owner@Example.com")
	require.NoError(t, err)
	require.Contains(t, out, "Added owner owner@example.com to shop demo.")
	require.NotContains(t, out, "correct horse", "a piped password is never echoed")

	// No stdin stands for a terminal: a password is generated and printed once.
	out, err = run(nil, "--shop", "demo", "--email", "staff@example.com", "--role", "staff")
	require.NoError(t, err)
	m := regexp.MustCompile(`Password \(shown only now\): (\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	generated := m[1]
	require.Len(t, generated, 26)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--shop", "nope", "--email", "a@example.com"}, `unknown shop "nope"`},
		{[]string{"--email", "a@example.com"}, "--shop is required"},
		{[]string{"--shop", "demo", "--email", "not an email"}, "--email"},
		{[]string{"--shop", "demo", "--email", "a@example.com", "--role", "admin"}, "--role"},
		{[]string{"--shop", "demo", "--email", "OWNER@example.com"}, "already has a user"},
	} {
		_, err := run(&piped, c.args...)
		require.ErrorContains(t, err, c.want, "%v", c.args)
	}
	weak := "short\n"
	_, err = run(&weak, "--shop", "demo", "--email", "b@example.com")
	require.ErrorContains(t, err, "at least 12 characters")
	empty := ""
	_, err = run(&empty, "--shop", "demo", "--email", "b@example.com")
	require.ErrorContains(t, err, "no password on stdin")

	// Both users can sign in with their passwords.
	st, err := sqlite.Open(ctx, dbPath)
	require.NoError(t, err)
	defer st.Close()
	svc, err := auth.NewService(auth.Config{Store: st})
	require.NoError(t, err)
	u, err := svc.Authenticate(ctx, "demo", "owner@example.com", "correct horse battery staple", "")
	require.NoError(t, err)
	require.Equal(t, auth.RoleOwner, u.Role)
	u, err = svc.Authenticate(ctx, "demo", "staff@example.com", generated, "")
	require.NoError(t, err)
	require.Equal(t, auth.RoleStaff, u.Role)
	require.False(t, u.Can(auth.ActionRefund))
}
