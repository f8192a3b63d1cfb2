// Package authtest is the contract every auth.Store passes, run through auth.Service
// so that it also covers the service's rules on a real database. orders/sqlite and
// orders/postgres run it from their tests.
package authtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
)

// FastParams keep argon2id cheap in tests; production uses auth.DefaultParams.
var FastParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Password is a password that passes auth.CheckPassword.
const Password = "correct horse battery staple"

// Clock is a settable clock for the service under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// NewService returns a service on st with fast hashing, a 1 h idle and 24 h absolute
// timeout, and a clock the test moves.
func NewService(t testing.TB, st auth.Store) (*auth.Service, *Clock) {
	clock := &Clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	svc, err := auth.NewService(auth.Config{
		Store: st, Params: &FastParams, Now: clock.Now,
		IdleTimeout: time.Hour, AbsoluteTimeout: 24 * time.Hour,
	})
	require.NoError(t, err)
	return svc, clock
}

// Run runs the contract; open returns a fresh, migrated, empty store per subtest.
func Run(t *testing.T, open func(t *testing.T) auth.Store) {
	t.Run("AddUserAndRead", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, _ := NewService(t, st)
		ctx := context.Background()
		u, err := svc.AddUser(ctx, "shop1", "  Lan@Example.COM ", auth.RoleStaff, Password)
		require.NoError(t, err)
		require.Equal(t, "lan@example.com", u.Email)

		got, err := st.User(ctx, "shop1", u.ID)
		require.NoError(t, err)
		require.Equal(t, u, got)
		got, err = st.UserByEmail(ctx, "shop1", "lan@example.com")
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)
		ok, err := auth.VerifyPassword(Password, got.PasswordHash)
		require.NoError(t, err)
		require.True(t, ok)
		require.NotContains(t, got.PasswordHash, Password)
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, _ := NewService(t, st)
		ctx := context.Background()
		a, err := svc.AddUser(ctx, "shop1", "lan@example.com", auth.RoleOwner, Password)
		require.NoError(t, err)
		// The same email in another shop is another account.
		b, err := svc.AddUser(ctx, "shop2", "lan@example.com", auth.RoleOwner, Password+"!")
		require.NoError(t, err)
		require.NotEqual(t, a.ID, b.ID)

		_, err = st.User(ctx, "shop2", a.ID)
		require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
		require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(st.UpdatePasswordHash(ctx, "shop2", a.ID, "x")))
		require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(st.DisableUser(ctx, "shop2", a.ID, time.Now())))
		_, err = svc.Authenticate(ctx, "shop2", "lan@example.com", Password, "")
		require.ErrorIs(t, err, auth.ErrBadCredentials, "shop1's password does not open shop2's account")

		tok, sess, err := svc.StartSession(ctx, a)
		require.NoError(t, err)
		require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(st.RevokeSession(ctx, "shop2", sess.TokenHash, time.Now())))
		require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(st.TouchSession(ctx, "shop2", sess.TokenHash, time.Now())))
		u, _, err := svc.SessionUser(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, "shop1", u.ShopID)
		require.Equal(t, a.ID, u.ID)
	})

	t.Run("AddUserRefusals", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, _ := NewService(t, st)
		ctx := context.Background()
		_, err := svc.AddUser(ctx, "shop1", "lan@example.com", auth.RoleOwner, Password)
		require.NoError(t, err)
		for _, c := range []struct {
			email, role, password, code, field string
		}{
			{"LAN@example.com", "owner", Password, orders.ECONFLICT, "email"},
			{"not-an-email", "owner", Password, orders.EINVALID, "email"},
			{"b@example.com", "admin", Password, orders.EINVALID, "role"},
			{"b@example.com", "staff", "short", orders.EINVALID, "password"},
			{"b@example.com", "staff", "aaaaaaaaaaaaaaaa", orders.EINVALID, "password"},
			{"bobby@example.com", "staff", "bobby-1234-5678", orders.EINVALID, "password"},
		} {
			_, err := svc.AddUser(ctx, "shop1", c.email, auth.Role(c.role), c.password)
			var e *orders.Error
			require.ErrorAs(t, err, &e, "%+v", c)
			require.Equal(t, c.code, e.Code, "%+v: %v", c, err)
			require.Equal(t, c.field, e.Field, "%+v: %v", c, err)
		}
	})

	t.Run("AddUserRace", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, _ := NewService(t, st)
		ctx := context.Background()
		const n = 20
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				_, err := svc.AddUser(ctx, "shop1", "race@example.com", auth.RoleStaff, Password)
				switch orders.ErrorCode(err) {
				case "":
					wins.Add(1)
				case orders.ECONFLICT:
					conflicts.Add(1)
				default:
					errs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, int32(1), wins.Load())
		require.Equal(t, int32(n-1), conflicts.Load())
	})

	t.Run("Authenticate", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, clock := NewService(t, st)
		ctx := context.Background()
		u, err := svc.AddUser(ctx, "shop1", "lan@example.com", auth.RoleOwner, Password)
		require.NoError(t, err)

		got, err := svc.Authenticate(ctx, "shop1", "LAN@example.com", Password, "10.0.0.1")
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)

		_, errWrong := svc.Authenticate(ctx, "shop1", "lan@example.com", "wrong password!", "10.0.0.1")
		_, errUnknown := svc.Authenticate(ctx, "shop1", "nobody@example.com", Password, "10.0.0.1")
		require.ErrorIs(t, errWrong, auth.ErrBadCredentials)
		require.ErrorIs(t, errUnknown, auth.ErrBadCredentials)
		require.Equal(t, errWrong.Error(), errUnknown.Error(), "the same answer either way")

		// Five failures for the email lock it, even with the right password and
		// from another address, until the window passes.
		for range 4 {
			_, err := svc.Authenticate(ctx, "shop1", "lan@example.com", "wrong password!", "10.0.0.2")
			require.ErrorIs(t, err, auth.ErrBadCredentials)
		}
		_, err = svc.Authenticate(ctx, "shop1", "lan@example.com", Password, "10.0.0.3")
		var th *auth.ThrottledError
		require.ErrorAs(t, err, &th)
		require.Equal(t, orders.EUNAUTHORIZED, orders.ErrorCode(err))
		require.Positive(t, th.RetryAfter)
		clock.Advance(auth.DefaultFailureWindow)
		_, err = svc.Authenticate(ctx, "shop1", "lan@example.com", Password, "10.0.0.3")
		require.NoError(t, err)

		// A disabled user cannot sign in, with the same generic answer.
		require.NoError(t, svc.DisableUser(ctx, "shop1", u.ID))
		_, err = svc.Authenticate(ctx, "shop1", "lan@example.com", Password, "10.0.0.4")
		require.ErrorIs(t, err, auth.ErrBadCredentials)
	})

	t.Run("RehashOnSignIn", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		ctx := context.Background()
		old := auth.Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
		oldSvc, err := auth.NewService(auth.Config{Store: st, Params: &old})
		require.NoError(t, err)
		u, err := oldSvc.AddUser(ctx, "shop1", "lan@example.com", auth.RoleOwner, Password)
		require.NoError(t, err)
		require.True(t, auth.NeedsRehash(u.PasswordHash, FastParams))

		svc, _ := NewService(t, st)
		_, err = svc.Authenticate(ctx, "shop1", "lan@example.com", Password, "")
		require.NoError(t, err)
		got, err := st.User(ctx, "shop1", u.ID)
		require.NoError(t, err)
		require.False(t, auth.NeedsRehash(got.PasswordHash, FastParams))
		_, err = svc.Authenticate(ctx, "shop1", "lan@example.com", Password, "")
		require.NoError(t, err, "the new hash verifies")
	})

	t.Run("SessionExpiry", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, clock := NewService(t, st)
		ctx := context.Background()
		u, err := svc.AddUser(ctx, "shop1", "lan@example.com", auth.RoleStaff, Password)
		require.NoError(t, err)

		tok, sess, err := svc.StartSession(ctx, u)
		require.NoError(t, err)
		require.Len(t, sess.TokenHash, 32)
		stored, err := st.SessionByTokenHash(ctx, sess.TokenHash)
		require.NoError(t, err)
		require.Equal(t, sess, stored)

		// Used every 50 minutes, the session outlives the 1 h idle timeout...
		for range 20 {
			clock.Advance(50 * time.Minute)
			got, s, err := svc.SessionUser(ctx, tok)
			require.NoError(t, err)
			require.Equal(t, u.ID, got.ID)
			require.Equal(t, clock.Now(), s.LastSeenAt)
		}
		// ...but not the 24 h absolute one (20 × 50 min is 16 h 40 min).
		clock.Advance(50 * time.Minute) // 17 h 30
		_, _, err = svc.SessionUser(ctx, tok)
		require.NoError(t, err)
		for range 8 {
			clock.Advance(50 * time.Minute)
			_, _, err = svc.SessionUser(ctx, tok)
		}
		require.ErrorIs(t, err, auth.ErrNoSession, "past 24 h")

		// Idle: a fresh session left alone for an hour ends.
		tok2, _, err := svc.StartSession(ctx, u)
		require.NoError(t, err)
		clock.Advance(59 * time.Minute)
		_, _, err = svc.SessionUser(ctx, tok2)
		require.NoError(t, err)
		clock.Advance(time.Hour)
		_, _, err = svc.SessionUser(ctx, tok2)
		require.ErrorIs(t, err, auth.ErrNoSession)

		_, _, err = svc.SessionUser(ctx, "no-such-token")
		require.ErrorIs(t, err, auth.ErrNoSession)
	})

	t.Run("SessionRevocation", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, _ := NewService(t, st)
		ctx := context.Background()
		u, err := svc.AddUser(ctx, "shop1", "lan@example.com", auth.RoleOwner, Password)
		require.NoError(t, err)
		tok1, _, err := svc.StartSession(ctx, u)
		require.NoError(t, err)
		tok2, _, err := svc.StartSession(ctx, u)
		require.NoError(t, err)
		require.NotEqual(t, tok1, tok2)

		require.NoError(t, svc.EndSession(ctx, tok1))
		require.NoError(t, svc.EndSession(ctx, tok1), "signing out twice is fine")
		_, _, err = svc.SessionUser(ctx, tok1)
		require.ErrorIs(t, err, auth.ErrNoSession)
		_, _, err = svc.SessionUser(ctx, tok2)
		require.NoError(t, err, "other sessions go on")

		require.NoError(t, svc.DisableUser(ctx, "shop1", u.ID))
		_, _, err = svc.SessionUser(ctx, tok2)
		require.ErrorIs(t, err, auth.ErrNoSession, "disabling a user ends their sessions")
		_, _, err = svc.StartSession(ctx, &auth.User{ID: u.ID, ShopID: "shop1", DisabledAt: new(time.Now())})
		require.Error(t, err)
	})

	t.Run("SignInLinkOnce", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, clock := NewService(t, st)
		ctx := context.Background()
		u, err := svc.AddUser(ctx, "shop1", "owner@example.com", auth.RoleOwner, Password)
		require.NoError(t, err)

		tok, err := svc.IssueSignInLink(ctx, u, time.Hour)
		require.NoError(t, err)
		require.Len(t, tok, 43, "256 random bits, URL-safe base64")
		got, err := svc.RedeemSignInLink(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)
		require.Equal(t, "shop1", got.ShopID)
		_, err = svc.RedeemSignInLink(ctx, tok)
		require.ErrorIs(t, err, auth.ErrSignInLinkInvalid, "a link is spent once used")

		_, err = svc.RedeemSignInLink(ctx, "not-a-token")
		require.ErrorIs(t, err, auth.ErrSignInLinkInvalid)
		_, err = svc.RedeemSignInLink(ctx, "")
		require.ErrorIs(t, err, auth.ErrSignInLinkInvalid)

		expiring, err := svc.IssueSignInLink(ctx, u, time.Hour)
		require.NoError(t, err)
		clock.Advance(time.Hour)
		_, err = svc.RedeemSignInLink(ctx, expiring)
		require.ErrorIs(t, err, auth.ErrSignInLinkInvalid, "a link stops working when it expires")

		disabled, err := svc.IssueSignInLink(ctx, u, time.Hour)
		require.NoError(t, err)
		require.NoError(t, svc.DisableUser(ctx, "shop1", u.ID))
		_, err = svc.RedeemSignInLink(ctx, disabled)
		require.ErrorIs(t, err, auth.ErrSignInLinkInvalid, "a disabled user's links stop working")
	})

	t.Run("SignInLinkRace", func(t *testing.T) {
		t.Parallel()
		st := open(t)
		svc, _ := NewService(t, st)
		ctx := context.Background()
		u, err := svc.AddUser(ctx, "shop1", "owner@example.com", auth.RoleOwner, Password)
		require.NoError(t, err)
		tok, err := svc.IssueSignInLink(ctx, u, 0)
		require.NoError(t, err)

		var wins, losses atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, err := svc.RedeemSignInLink(ctx, tok)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, auth.ErrSignInLinkInvalid):
					losses.Add(1)
				default:
					t.Errorf("redeem: %v", err)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), wins.Load(), "exactly one browser is signed in")
		require.Equal(t, int32(19), losses.Load())
	})

	runSweep(t, open)
}
