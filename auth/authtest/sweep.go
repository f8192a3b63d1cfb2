package authtest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
)

// sweepFixture is two shops with a user each, and helpers that store sessions and
// sign-in links with chosen times directly, named so that a test can look them up.
type sweepFixture struct {
	t     *testing.T
	st    auth.Store
	ctx   context.Context
	users map[string]*auth.User // by shop
}

func newSweepFixture(t *testing.T, st auth.Store) *sweepFixture {
	svc, _ := NewService(t, st)
	f := &sweepFixture{t: t, st: st, ctx: context.Background(), users: map[string]*auth.User{}}
	for _, shop := range []string{"shop1", "shop2"} {
		u, err := svc.AddUser(f.ctx, shop, "owner@example.com", auth.RoleOwner, Password)
		require.NoError(t, err)
		f.users[shop] = u
	}
	return f
}

func tokenHash(name string) []byte {
	h := sha256.Sum256([]byte(name))
	return h[:]
}

// session stores a session of shop's user that started a day before expires.
func (f *sweepFixture) session(shop, name string, expires time.Time, revoked *time.Time) {
	f.t.Helper()
	started := expires.Add(-24 * time.Hour)
	require.NoError(f.t, f.st.CreateSession(f.ctx, &auth.Session{
		TokenHash: tokenHash(name), ShopID: shop, UserID: f.users[shop].ID,
		CreatedAt: started, LastSeenAt: started, ExpiresAt: expires, RevokedAt: revoked,
	}))
}

// link stores a sign-in link of shop's user issued an hour before expires.
func (f *sweepFixture) link(shop, name string, expires time.Time, used *time.Time) {
	f.t.Helper()
	require.NoError(f.t, f.st.CreateSignInLink(f.ctx, &auth.SignInLink{
		TokenHash: tokenHash(name), ShopID: shop, UserID: f.users[shop].ID,
		CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires, UsedAt: used,
	}))
}

// sessionsLeft reports, for each name, whether its session is still stored.
func (f *sweepFixture) sessionsLeft(names ...string) map[string]bool {
	f.t.Helper()
	left := map[string]bool{}
	for _, name := range names {
		_, err := f.st.SessionByTokenHash(f.ctx, tokenHash(name))
		if orders.ErrorCode(err) == orders.ENOTFOUND {
			left[name] = false
			continue
		}
		require.NoError(f.t, err)
		left[name] = true
	}
	return left
}

// runSweep is the sweep's part of the contract: rows that stopped working before the
// cut-off go, whichever shop they belong to; rows that stopped working at or after it,
// and rows still working, stay; batches smaller than the backlog loop until it is gone.
func runSweep(t *testing.T, open func(t *testing.T) auth.Store) {
	// cutoff is what the sweep is given; now is a week later, as auth.Sweep computes.
	now := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
	cutoff := now.Add(-auth.SweepGrace)
	before := func(d time.Duration) time.Time { return cutoff.Add(-d) }
	after := func(d time.Duration) time.Time { return cutoff.Add(d) }

	t.Run("SweepSessions", func(t *testing.T) {
		t.Parallel()
		f := newSweepFixture(t, open(t))
		gone := []string{"expired-1", "expired-2", "expired-3", "expired-shop2",
			"revoked-early", "revoked-shop2", "expired-and-revoked"}
		f.session("shop1", "expired-1", before(time.Hour), nil)
		f.session("shop1", "expired-2", before(48*time.Hour), nil)
		f.session("shop1", "expired-3", before(time.Microsecond), nil)
		f.session("shop2", "expired-shop2", before(time.Minute), nil)
		// Revoked long ago but still within its absolute lifetime: revocation alone
		// is enough.
		f.session("shop1", "revoked-early", now.Add(24*time.Hour), new(before(time.Minute)))
		f.session("shop2", "revoked-shop2", now.Add(24*time.Hour), new(before(time.Hour)))
		// Both expired and revoked before the cut-off: deleted and counted once.
		f.session("shop1", "expired-and-revoked", before(time.Hour), new(before(2*time.Hour)))

		kept := []string{"expired-at-cutoff", "expired-recently", "revoked-recently", "revoked-at-cutoff", "live", "live-shop2"}
		f.session("shop1", "expired-at-cutoff", cutoff, nil)
		f.session("shop1", "expired-recently", after(time.Hour), nil)
		f.session("shop1", "revoked-recently", now.Add(24*time.Hour), new(after(time.Minute)))
		f.session("shop2", "revoked-at-cutoff", now.Add(24*time.Hour), new(cutoff))
		f.session("shop1", "live", now.Add(time.Hour), nil)
		f.session("shop2", "live-shop2", now.Add(time.Hour), nil)

		// Batches of 2 for 5 expired and 2 more revoked sessions: the expired pass
		// deletes 2, 2, 1 and the revoked pass 2, then an empty batch.
		n, err := f.st.DeleteEndedSessions(f.ctx, cutoff, 2)
		require.NoError(t, err)
		require.Equal(t, len(gone), n)
		for name, left := range f.sessionsLeft(gone...) {
			require.False(t, left, "%s is deleted", name)
		}
		for name, left := range f.sessionsLeft(kept...) {
			require.True(t, left, "%s is kept", name)
		}

		n, err = f.st.DeleteEndedSessions(f.ctx, cutoff, 2)
		require.NoError(t, err)
		require.Zero(t, n, "a second sweep finds nothing")

		// A batch the size of the backlog exactly (expired-at-cutoff and
		// expired-recently, then revoked-recently and revoked-at-cutoff) loops once
		// more to find the backlog empty.
		n, err = f.st.DeleteEndedSessions(f.ctx, after(2*time.Hour), 2)
		require.NoError(t, err)
		require.Equal(t, 4, n)
		require.Equal(t, map[string]bool{"live": true, "live-shop2": true}, f.sessionsLeft("live", "live-shop2"))
	})

	t.Run("SweepSignInLinks", func(t *testing.T) {
		t.Parallel()
		f := newSweepFixture(t, open(t))
		f.link("shop1", "expired-1", before(time.Hour), nil)
		f.link("shop1", "expired-2", before(time.Microsecond), nil)
		f.link("shop2", "expired-shop2", before(time.Minute), nil)
		// Used long ago, and still within a long TTL: being spent is enough.
		f.link("shop1", "used-early", now.Add(24*time.Hour), new(before(time.Minute)))
		f.link("shop2", "used-shop2", now.Add(24*time.Hour), new(before(time.Hour)))
		f.link("shop1", "used-and-expired", before(time.Minute), new(before(time.Hour)))
		const gone = 6

		f.link("shop1", "expired-at-cutoff", cutoff, nil)
		f.link("shop1", "expired-recently", after(time.Hour), nil)
		f.link("shop2", "used-recently", now.Add(24*time.Hour), new(after(time.Minute)))
		f.link("shop1", "live", now.Add(time.Hour), nil)
		f.link("shop2", "live-shop2", now.Add(time.Hour), nil)

		n, err := f.st.DeleteSpentSignInLinks(f.ctx, cutoff, 2)
		require.NoError(t, err)
		require.Equal(t, gone, n)
		n, err = f.st.DeleteSpentSignInLinks(f.ctx, cutoff, 2)
		require.NoError(t, err)
		require.Zero(t, n, "a second sweep finds nothing")

		// Links cannot be read without spending them, so the three kept ones that no
		// longer work are counted by a later sweep, and the live ones still work.
		n, err = f.st.DeleteSpentSignInLinks(f.ctx, after(2*time.Hour), 2)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		for _, name := range []string{"live", "live-shop2"} {
			l, err := f.st.UseSignInLink(f.ctx, tokenHash(name), now)
			require.NoError(t, err, name)
			require.Equal(t, tokenHash(name), l.TokenHash)
		}
	})

	t.Run("SweepGrace", func(t *testing.T) {
		t.Parallel()
		f := newSweepFixture(t, open(t))
		day := 24 * time.Hour
		f.session("shop1", "ended-8-days-ago", now.Add(-8*day), nil)
		f.session("shop1", "signed-out-8-days-ago", now.Add(day), new(now.Add(-8*day)))
		f.session("shop1", "ended-6-days-ago", now.Add(-6*day), nil)
		f.session("shop1", "signed-out-6-days-ago", now.Add(day), new(now.Add(-6*day)))
		f.session("shop2", "live", now.Add(day), nil)
		f.link("shop1", "used-8-days-ago", now.Add(day), new(now.Add(-8*day)))
		f.link("shop1", "expired-8-days-ago", now.Add(-8*day), nil)
		f.link("shop1", "used-6-days-ago", now.Add(day), new(now.Add(-6*day)))
		f.link("shop2", "live", now.Add(day), nil)

		res, err := auth.Sweep(f.ctx, f.st, now)
		require.NoError(t, err)
		require.Equal(t, auth.SweepResult{Sessions: 2, SignInLinks: 2}, res)
		require.Equal(t, map[string]bool{
			"ended-8-days-ago": false, "signed-out-8-days-ago": false,
			"ended-6-days-ago": true, "signed-out-6-days-ago": true, "live": true,
		}, f.sessionsLeft("ended-8-days-ago", "signed-out-8-days-ago", "ended-6-days-ago", "signed-out-6-days-ago", "live"))
		_, err = f.st.UseSignInLink(f.ctx, tokenHash("live"), now)
		require.NoError(t, err)

		// Two days on, the rows that ended 6 days before go as well.
		res, err = auth.Sweep(f.ctx, f.st, now.Add(2*day))
		require.NoError(t, err)
		require.Equal(t, auth.SweepResult{Sessions: 2, SignInLinks: 1}, res)
	})
}
