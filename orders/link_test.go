package orders_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestNewLinkToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		tok := orders.NewLinkToken()
		require.Len(t, tok, 22)
		require.True(t, orders.ValidLinkToken(tok), tok)
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		require.NoError(t, err)
		require.Len(t, raw, 16, "128 bits")
		require.False(t, seen[tok], "token repeated: %s", tok)
		seen[tok] = true
	}
}

func TestHashLinkToken(t *testing.T) {
	t.Parallel()
	tok := orders.NewLinkToken()
	h := orders.HashLinkToken(tok)
	require.Len(t, h, 32)
	require.Equal(t, h, orders.HashLinkToken(tok), "lookups hash the same way")
	require.NotEqual(t, h, orders.HashLinkToken(orders.NewLinkToken()))
	require.False(t, bytes.Contains(h, []byte(tok)))
}

func TestValidLinkToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		token string
		valid bool
	}{
		{"AAAAAAAAAAAAAAAAAAAAAA", true},
		{"abcdefghijklmnopqrstu-", true},
		{"abcdefghijklmnopqrstu_", true},
		{"", false},
		{"AAAAAAAAAAAAAAAAAAAAA", false},   // 21
		{"AAAAAAAAAAAAAAAAAAAAAAA", false}, // 23
		{"abcdefghijklmnopqrstu+", false},  // standard, not URL, alphabet
		{"abcdefghijklmnopqrstu/", false},
		{"abcdefghijklmnopqrst==", false}, // padding
		{"abcdefghijklmnopqrst.u", false},
		{"abcdefghijklmnopqrstuü", false},
		{strings.Repeat("A", 21) + "\x00", false},
	} {
		require.Equal(t, tc.valid, orders.ValidLinkToken(tc.token), "%q", tc.token)
	}
}

// FuzzValidLinkToken checks the pay pages' first filter of a token taken from a URL:
// it never panics and lets through only 22 bytes that decode as base64url. It is a
// filter, not the check: Go's decoder skips CR and LF, so "0000000\r00000000\r00000"
// passes it, and only the store lookup (no stored token has such a hash) rejects it.
func FuzzValidLinkToken(f *testing.F) {
	f.Add(orders.NewLinkToken())
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAA=")
	f.Add("abcdefghijklmnopqrstu+")
	f.Add("0000000\r00000000\r00000")
	f.Add(strings.Repeat("é", 11))
	f.Fuzz(func(t *testing.T, s string) {
		if !orders.ValidLinkToken(s) {
			return
		}
		require.Len(t, s, 22)
		_, err := base64.RawURLEncoding.DecodeString(s)
		require.NoError(t, err)
	})
}
