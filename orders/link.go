package orders

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// LinkKeyLen is the length of the key that seals payment-link tokens (AES-256).
const LinkKeyLen = 32

// NewLinkToken returns a fresh 128-bit random token, base64url without padding.
func NewLinkToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashLinkToken returns the lookup hash of a token.
func HashLinkToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ValidLinkToken reports whether s is shaped exactly like a token NewLinkToken makes,
// so that pay pages can answer 404 for junk without a store lookup: 22 characters of
// the base64url alphabet, the last of which holds the 16th byte's top two bits and
// four zero bits. Decoding is not enough, because Go's decoder skips CR and LF and
// ignores nonzero trailing bits, so it takes strings no token ever is.
func ValidLinkToken(s string) bool {
	if len(s) != linkTokenLen {
		return false
	}
	for i := range len(s) {
		if !isBase64URL(s[i]) {
			return false
		}
	}
	switch s[len(s)-1] {
	case 'A', 'Q', 'g', 'w': // 0, 16, 32, 48: the low four bits are zero
		return true
	}
	return false
}

// linkTokenLen is the length of a token: 16 bytes in base64url without padding,
// base64.RawURLEncoding.EncodedLen(16).
const linkTokenLen = 22

// linkSealer seals tokens with AES-256-GCM; the order ID is the associated data, so a
// sealed token copied onto another order does not open. It also holds the key that
// signs web chat tokens, derived from the same secret (see webchat.go).
type linkSealer struct {
	aead    cipher.AEAD
	chatKey []byte
}

func newLinkSealer(key []byte) (*linkSealer, error) {
	if len(key) != LinkKeyLen {
		return nil, fmt.Errorf("link key must be %d bytes, got %d", LinkKeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	chatKey, err := deriveChatKey(key)
	if err != nil {
		return nil, err
	}
	return &linkSealer{aead: aead, chatKey: chatKey}, nil
}

func (s *linkSealer) seal(orderID, token string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return s.aead.Seal(nonce, nonce, []byte(token), []byte(orderID))
}

func (s *linkSealer) open(orderID string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed link token too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(orderID))
	if err != nil {
		return "", fmt.Errorf("open link token: %w", err)
	}
	return string(plain), nil
}
