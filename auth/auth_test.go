package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/orders"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		" Lan@Example.COM ":      "lan@example.com",
		"a.b+tag@mail.shop.vn":   "a.b+tag@mail.shop.vn",
		"x@xn--p1ai.xn--p1ai":    "x@xn--p1ai.xn--p1ai",
		"o'brien@example.co.uk":  "o'brien@example.co.uk",
		"first_last@ex-ample.io": "first_last@ex-ample.io",
	} {
		got, err := auth.NormalizeEmail(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{
		"", "   ", "lan", "lan@", "@example.com", "lan@example", "a@@example.com", "a@b@example.com",
		".lan@example.com", "lan.@example.com", "l..an@example.com", "lan@-example.com",
		"lan@example-.com", "lan@example..com", "lan@1.2.3.4", "lân@example.com", "lan@exämple.com",
		"lan @example.com", "\"lan\"@example.com", "lan@[127.0.0.1]", strings.Repeat("a", 65) + "@example.com",
		"a@" + strings.Repeat("b", 64) + ".com", "Lan <lan@example.com>",
	} {
		_, err := auth.NormalizeEmail(in)
		var e *orders.Error
		require.ErrorAs(t, err, &e, "%q", in)
		require.Equal(t, orders.EINVALID, e.Code)
		require.Equal(t, "email", e.Field)
	}
}

// FuzzNormalizeEmail checks that whatever is accepted is lower-case ASCII in the
// allowed shape, bounded, and normalises to itself.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"Lan@Example.com", " a.b+c@d.e ", "a@b", "a@@b.c", ".a@b.c", "a@b..c", "a@1.2", "ß@ex.com",
		"A@B.C", "a@b-.c", "\"q\"@x.y", "a@xn--80ak6aa92e.com", strings.Repeat("x", 300) + "@y.z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := auth.NormalizeEmail(in)
		if err != nil {
			require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
			return
		}
		require.LessOrEqual(t, len(got), 254)
		require.Equal(t, strings.ToLower(got), got)
		require.Equal(t, 1, strings.Count(got, "@"))
		for i := range len(got) {
			require.Less(t, got[i], byte(0x80), "ASCII only: %q", got)
			require.Greater(t, got[i], byte(' '), "no spaces or controls: %q", got)
		}
		again, err := auth.NormalizeEmail(got)
		require.NoError(t, err)
		require.Equal(t, got, again, "idempotent")
	})
}

var fast = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	h1, err := auth.HashPassword("correct horse battery staple", fast)
	require.NoError(t, err)
	h2, err := auth.HashPassword("correct horse battery staple", fast)
	require.NoError(t, err)
	require.NotEqual(t, h1, h2, "fresh salt each time")
	require.True(t, strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$"), h1)

	ok, err := auth.VerifyPassword("correct horse battery staple", h1)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = auth.VerifyPassword("correct horse battery stapler", h1)
	require.NoError(t, err)
	require.False(t, ok)

	require.False(t, auth.NeedsRehash(h1, fast))
	require.True(t, auth.NeedsRehash(h1, auth.DefaultParams))
	require.True(t, auth.NeedsRehash("garbage", fast))

	for _, bad := range []string{
		"", "garbage", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		strings.Replace(h1, "v=19", "v=16", 1),
		strings.Replace(h1, "m=64", "m=99999999", 1), // would allocate ~100 GB
		strings.Replace(h1, "p=1", "p=0", 1),
		h1 + "$extra",
	} {
		ok, err := auth.VerifyPassword("x", bad)
		require.Error(t, err, bad)
		require.False(t, ok)
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	require.NoError(t, auth.CheckPassword("correct horse battery staple", "lan@example.com"))
	require.NoError(t, auth.CheckPassword(auth.GeneratePassword(), "lan@example.com"))
	for _, bad := range []string{
		"short", "elevenchars", "aaaaaaaaaaaaaaaa", "abababababab", "Password1234", "123456789012",
		"my-lan.nguyen-pass", strings.Repeat("abcdefghij", 13), "bad\xffutf8-password",
	} {
		err := auth.CheckPassword(bad, "lan.nguyen@example.com")
		var e *orders.Error
		require.ErrorAs(t, err, &e, bad)
		require.Equal(t, "password", e.Field, bad)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	owner := &auth.User{Role: auth.RoleOwner}
	staff := &auth.User{Role: auth.RoleStaff}
	for _, a := range []auth.Action{auth.ActionViewOrders, auth.ActionCreateOrder, auth.ActionShip} {
		require.True(t, owner.Can(a), a)
		require.True(t, staff.Can(a), a)
	}
	for _, a := range []auth.Action{auth.ActionRefund, auth.ActionChangeSettings, auth.ActionManageUsers} {
		require.True(t, owner.Can(a), a)
		require.False(t, staff.Can(a), a)
	}
	require.False(t, owner.Can("launch_rockets"), "unknown actions are refused")
	now := time.Now()
	require.False(t, (&auth.User{Role: auth.RoleOwner, DisabledAt: &now}).Can(auth.ActionViewOrders))
	require.False(t, (*auth.User)(nil).Can(auth.ActionViewOrders))
	_, err := auth.ParseRole("admin")
	require.Error(t, err)
}

func TestMemoryThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := auth.NewMemoryThrottle(5, 15*time.Minute, func() time.Time { return now })
	for i := range 5 {
		wait, err := th.Check(ctx, "email:x", "ip:1")
		require.NoError(t, err)
		require.Zero(t, wait, "attempt %d", i)
		require.NoError(t, th.Fail(ctx, "email:x", "ip:1"))
		now = now.Add(time.Minute)
	}
	// Failures at minutes 0..4; the first leaves the window at minute 15.
	wait, err := th.Check(ctx, "email:y", "ip:1")
	require.NoError(t, err)
	require.Equal(t, 10*time.Minute, wait)
	wait, _ = th.Check(ctx, "email:y", "ip:2")
	require.Zero(t, wait, "other keys are not affected")

	require.NoError(t, th.Reset(ctx, "email:x"))
	wait, _ = th.Check(ctx, "email:x")
	require.Zero(t, wait)
	wait, _ = th.Check(ctx, "ip:1")
	require.Positive(t, wait, "resetting the email keeps the IP's count")

	now = now.Add(10 * time.Minute)
	wait, _ = th.Check(ctx, "ip:1")
	require.Zero(t, wait, "the window slides")
}

func TestMemoryThrottleContract(t *testing.T) {
	t.Parallel()
	authtest.RunThrottle(t, func(t *testing.T, max int, window time.Duration) auth.Throttle {
		return auth.NewMemoryThrottle(max, window, nil)
	})
}
