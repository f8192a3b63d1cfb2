package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/chatpay/chatpay/orders"
)

// Defaults for Config's zero fields.
const (
	DefaultIdleTimeout     = 12 * time.Hour
	DefaultAbsoluteTimeout = 7 * 24 * time.Hour
	DefaultMaxFailures     = 5
	DefaultFailureWindow   = 15 * time.Minute
	// touchEvery limits writes: a session's LastSeenAt is stored again only when it
	// is at least this old, not on every request.
	touchEvery = time.Minute
	// maxConcurrentHashes bounds the memory argon2id takes when many sign-ins arrive
	// at once (19 MiB each by default); the rest wait their turn.
	maxConcurrentHashes = 4
)

// Config configures a Service. Store is required; the rest have defaults.
type Config struct {
	Store Store
	// Throttle defaults to a MemoryThrottle of DefaultMaxFailures per
	// DefaultFailureWindow.
	Throttle Throttle
	// Params defaults to DefaultParams. Tests use cheap ones.
	Params *Params
	// IdleTimeout ends a session unused for this long; AbsoluteTimeout ends any
	// session this long after it started.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	Now             func() time.Time
	Logger          *slog.Logger
}

// Service manages users and sessions.
type Service struct {
	store    Store
	throttle Throttle
	params   Params
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
	logger   *slog.Logger
	hashing  chan struct{}
	// dummyHash is verified against when the email is unknown, so that a sign-in
	// takes as long whether or not the account exists.
	dummyHash string
}

// NewService returns a Service for cfg.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: Config.Store is required")
	}
	s := &Service{
		store:    cfg.Store,
		throttle: cfg.Throttle,
		params:   DefaultParams,
		idle:     cmp(cfg.IdleTimeout, DefaultIdleTimeout),
		absolute: cmp(cfg.AbsoluteTimeout, DefaultAbsoluteTimeout),
		now:      cfg.Now,
		logger:   cfg.Logger,
		hashing:  make(chan struct{}, maxConcurrentHashes),
	}
	if cfg.Params != nil {
		s.params = *cfg.Params
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.throttle == nil {
		s.throttle = NewMemoryThrottle(DefaultMaxFailures, DefaultFailureWindow, s.now)
	}
	var err error
	if s.dummyHash, err = HashPassword(rand.Text(), s.params); err != nil {
		return nil, err
	}
	return s, nil
}

func cmp(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// hash and verify run argon2id under the concurrency bound.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return HashPassword(password, s.params)
}

func (s *Service) verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashing }()
	return VerifyPassword(password, encoded)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AddUser creates a user of shopID. It refuses a bad email or role, a weak password
// (EINVALID naming the field) and an email the shop already has (ECONFLICT). The
// caller checks that shopID is a configured shop.
func (s *Service) AddUser(ctx context.Context, shopID, email string, role Role, password string) (*User, error) {
	if shopID == "" {
		return nil, orders.Invalidf("shop", "Shop is required.")
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	if err := CheckPassword(password, email); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("auth: user id: %w", err)
	}
	u := &User{
		ID: id.String(), ShopID: shopID, Email: email, Role: role, PasswordHash: hash,
		CreatedAt: s.now().UTC().Truncate(time.Microsecond),
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if orders.ErrorCode(err) == orders.ECONFLICT {
			return nil, &orders.Error{Code: orders.ECONFLICT, Field: "email",
				Message: fmt.Sprintf("Shop %s already has a user with email %s.", shopID, email)}
		}
		return nil, err
	}
	return u, nil
}

// ErrBadCredentials is Authenticate's one answer for an unknown email, a wrong
// password and a disabled user alike, so that it reveals nothing about accounts.
var ErrBadCredentials = &orders.Error{Code: orders.EUNAUTHORIZED, Message: "Wrong email or password."}

// ThrottledError says that sign-in is refused for a while after too many failures. Its
// chain holds an EUNAUTHORIZED *orders.Error; web may answer 429 with RetryAfter.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string { return e.Unwrap().Error() }

func (e *ThrottledError) Unwrap() error {
	mins := int(math.Ceil(e.RetryAfter.Minutes()))
	return orders.Errorf(orders.EUNAUTHORIZED,
		"Too many failed sign-ins. Try again in %d minute(s).", max(mins, 1))
}

// throttleKeys are the keys a sign-in is counted under. Unknown emails count like
// known ones, so that the throttle's answer reveals nothing either.
func throttleKeys(shopID, email, ip string) []string {
	keys := []string{"email:" + shopID + ":" + email}
	if ip != "" {
		keys = append(keys, "ip:"+ip)
	}
	return keys
}

// Authenticate returns the enabled user of shopID with this email and password. Every
// failure is ErrBadCredentials, after the same argon2id work whether or not the email
// exists; after too many failures for the email or the client IP it returns a
// *ThrottledError without checking the password at all.
func (s *Service) Authenticate(ctx context.Context, shopID, email, password, ip string) (*User, error) {
	// An email that cannot be normalised cannot exist; it still costs a verify and
	// counts against the IP, so that it is no faster a probe than any other.
	norm, normErr := NormalizeEmail(email)
	if normErr != nil {
		norm = strings.ToLower(strings.TrimSpace(email))
	}
	keys := throttleKeys(shopID, norm, ip)
	wait, err := s.throttle.Check(ctx, keys...)
	if err != nil {
		return nil, fmt.Errorf("auth: throttle: %w", err)
	}
	if wait > 0 {
		return nil, &ThrottledError{RetryAfter: wait}
	}

	var u *User
	if normErr == nil && len(password) <= 4*MaxPasswordLen {
		u, err = s.store.UserByEmail(ctx, shopID, norm)
		if err != nil && orders.ErrorCode(err) != orders.ENOTFOUND {
			return nil, err
		}
	}
	encoded := s.dummyHash
	if u != nil {
		encoded = u.PasswordHash
	}
	ok, err := s.verify(ctx, password, encoded)
	if err != nil {
		if !errors.Is(err, errMalformedHash) {
			return nil, err
		}
		s.logger.Error("auth: unreadable password hash", "shop", shopID, "user", u.ID)
		ok = false
	}
	if !ok || u == nil || u.DisabledAt != nil {
		if err := s.throttle.Fail(ctx, keys...); err != nil {
			return nil, fmt.Errorf("auth: throttle: %w", err)
		}
		return nil, ErrBadCredentials
	}
	// The IP's count is kept: an attacker holding one valid account must not be able
	// to clear their address's failures by signing in to it between guesses.
	if err := s.throttle.Reset(ctx, keys[0]); err != nil {
		return nil, fmt.Errorf("auth: throttle: %w", err)
	}
	if NeedsRehash(u.PasswordHash, s.params) {
		// Failing to upgrade the hash must not fail the sign-in; the next one retries.
		if h, err := s.hash(ctx, password); err == nil {
			if err := s.store.UpdatePasswordHash(ctx, shopID, u.ID, h); err != nil {
				s.logger.Warn("auth: rehash password", "shop", shopID, "user", u.ID, "err", err)
			} else {
				u.PasswordHash = h
			}
		}
	}
	return u, nil
}

// hashToken is what the store keeps of a session token.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// StartSession starts a session for u and returns the token for the browser (43
// characters of URL-safe base64 carrying 256 random bits) and the stored session.
func (s *Service) StartSession(ctx context.Context, u *User) (string, *Session, error) {
	if u == nil || u.DisabledAt != nil {
		return "", nil, ErrBadCredentials
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("auth: session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	sess := &Session{
		TokenHash: hashToken(token), ShopID: u.ShopID, UserID: u.ID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.absolute),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// ErrNoSession is SessionUser's answer for a token that is unknown, expired, revoked
// or belongs to a disabled user: the browser must sign in again.
var ErrNoSession = &orders.Error{Code: orders.EUNAUTHORIZED, Message: "Please sign in."}

// SessionUser returns the user and session of a browser's token, and records that the
// session was used. It checks the absolute and idle expiries, revocation and whether
// the user is still enabled.
func (s *Service) SessionUser(ctx context.Context, token string) (*User, *Session, error) {
	return s.sessionUser(ctx, token, true)
}

// sessionUser is SessionUser; touch false leaves the session's last use as it was
// (CheckSession).
func (s *Service) sessionUser(ctx context.Context, token string, touch bool) (*User, *Session, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, ErrNoSession
	}
	sess, err := s.store.SessionByTokenHash(ctx, hashToken(token))
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return nil, nil, ErrNoSession
	} else if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.idle {
		return nil, nil, ErrNoSession
	}
	u, err := s.store.User(ctx, sess.ShopID, sess.UserID)
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return nil, nil, ErrNoSession
	} else if err != nil {
		return nil, nil, err
	}
	if u.DisabledAt != nil {
		return nil, nil, ErrNoSession
	}
	if touch && now.Sub(sess.LastSeenAt) >= touchEvery {
		seen := now.Truncate(time.Microsecond)
		if err := s.store.TouchSession(ctx, sess.ShopID, sess.TokenHash, seen); err != nil {
			return nil, nil, err
		}
		sess.LastSeenAt = seen
	}
	return u, sess, nil
}

// EndSession revokes the token's session (sign out). An unknown token is not an
// error: signing out twice is fine.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if token == "" || len(token) > 128 {
		return nil
	}
	sess, err := s.store.SessionByTokenHash(ctx, hashToken(token))
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	return s.store.RevokeSession(ctx, sess.ShopID, sess.TokenHash, s.now().UTC().Truncate(time.Microsecond))
}

// DisableUser stops a user signing in and ends their sessions.
func (s *Service) DisableUser(ctx context.Context, shopID, id string) error {
	return s.store.DisableUser(ctx, shopID, id, s.now().UTC().Truncate(time.Microsecond))
}

// UserByEmail returns the shop's user with that email, or a not-found error.
func (s *Service) UserByEmail(ctx context.Context, shopID, email string) (*User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	return s.store.UserByEmail(ctx, shopID, email)
}
