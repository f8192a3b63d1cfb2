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
		{"-_0123456789abcdefghiw", true},
		{"zzzzzzzzzzzzzzzzzzzzzQ", true},
		{"___________________-_g", true},
		{"", false},
		// The last character holds the 16th byte's top two bits and four zero bits,
		// so NewLinkToken ends every token in A, Q, g or w.
		{"abcdefghijklmnopqrstu-", false},
		{"abcdefghijklmnopqrstu_", false},
		{"AAAAAAAAAAAAAAAAAAAAAB", false},
		// Go's base64 decoder skips CR and LF; a token never has them.
		{"0000000\r00000000\r00000", false},
		{"AAAAAAAAAAAAAAAAAAAA\nA", false},
		{"\nAAAAAAAAAAAAAAAAAAAAA", false},
		{"AAAAAAAAAAAAAAAAAAAA\r\n", false},
		{"AAAAAAAAAA AAAAAAAAAAA", false},
		{"AAAAAAAAAA\tAAAAAAAAAAA", false},
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
// it never panics and lets through exactly what NewLinkToken makes, 16 bytes in
// canonical base64url, so that whatever it accepts encodes back to itself (Go's
// decoder alone would also take CR, LF and nonzero trailing bits).
func FuzzValidLinkToken(f *testing.F) {
	f.Add(orders.NewLinkToken())
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAA=")
	f.Add("abcdefghijklmnopqrstu+")
	f.Add("abcdefghijklmnopqrstu-")
	f.Add("0000000\r00000000\r00000")
	f.Add("AAAAAAAAAAAAAAAAAAAA\nA")
	f.Add("AAAAAAAAAAAAAAAAAAAA\r\n")
	f.Add(strings.Repeat("é", 11))
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
		canonical := err == nil && len(raw) == 16 && base64.RawURLEncoding.EncodeToString(raw) == s
		require.Equal(t, canonical, orders.ValidLinkToken(s), "%q", s)
	})
}
