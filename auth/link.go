package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// DefaultSignInLinkTTL is how long a one-time sign-in link works when it is not used.
const DefaultSignInLinkTTL = 24 * time.Hour

// SignInLink is a one-time credential for one user: whoever opens it first is signed
// in, after which it is spent. chatpay prints one for the demo shop's owner at start-up
// so a newcomer signs in without a password. Only the SHA-256 of its token is stored.
type SignInLink struct {
	TokenHash []byte
	ShopID    string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// ErrSignInLinkInvalid is the one answer for a link that is unknown, spent, expired or
// whose user was disabled, so the page cannot be used to tell them apart.
var ErrSignInLinkInvalid = &orders.Error{Code: orders.EUNAUTHORIZED,
	Message: "This sign-in link has already been used or has expired. Restart chatpay for a new one, or sign in with a password."}

// IssueSignInLink creates a one-time sign-in link for u that works for ttl (or
// DefaultSignInLinkTTL when ttl is 0) and returns its token: 43 characters of URL-safe
// base64 carrying 256 random bits.
func (s *Service) IssueSignInLink(ctx context.Context, u *User, ttl time.Duration) (string, error) {
	if u == nil || u.DisabledAt != nil {
		return "", ErrBadCredentials
	}
	if ttl <= 0 {
		ttl = DefaultSignInLinkTTL
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: sign-in link token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	l := &SignInLink{TokenHash: hashToken(token), ShopID: u.ShopID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateSignInLink(ctx, l); err != nil {
		return "", err
	}
	return token, nil
}

// RedeemSignInLink spends the link's token and returns its user, who may then be given
// a session. Of two browsers opening the same link at once exactly one succeeds: the
// store marks the link used only if nobody has.
func (s *Service) RedeemSignInLink(ctx context.Context, token string) (*User, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrSignInLinkInvalid
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	l, err := s.store.UseSignInLink(ctx, hashToken(token), now)
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return nil, ErrSignInLinkInvalid
	} else if err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, l.ShopID, l.UserID)
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return nil, ErrSignInLinkInvalid
	} else if err != nil {
		return nil, err
	}
	if u.DisabledAt != nil {
		return nil, ErrSignInLinkInvalid
	}
	return u, nil
}
