package authtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
)

// RunThrottle is the contract every auth.Throttle passes, on the real clock. open
// returns a fresh throttle of max failures per window whose keys no other test sees.
func RunThrottle(t *testing.T, open func(t *testing.T, max int, window time.Duration) auth.Throttle) {
	ctx := context.Background()

	t.Run("Limit", func(t *testing.T) {
		t.Parallel()
		const window = time.Minute
		th := open(t, 3, window)
		for i := range 3 {
			wait, err := th.Check(ctx, "email:x", "ip:1")
			require.NoError(t, err)
			require.Zero(t, wait, "attempt %d is allowed", i)
			require.NoError(t, th.Fail(ctx, "email:x", "ip:1"))
		}
		wait, err := th.Check(ctx, "email:x")
		require.NoError(t, err)
		require.Positive(t, wait, "the fourth attempt waits")
		require.LessOrEqual(t, wait, window)
		wait, err = th.Check(ctx, "email:y", "ip:1")
		require.NoError(t, err)
		require.Positive(t, wait, "any key over its limit blocks")
		wait, err = th.Check(ctx, "email:y", "ip:2")
		require.NoError(t, err)
		require.Zero(t, wait, "other keys are not affected")

		require.NoError(t, th.Reset(ctx, "email:x"))
		wait, err = th.Check(ctx, "email:x")
		require.NoError(t, err)
		require.Zero(t, wait, "a reset forgets the key's failures")
		wait, err = th.Check(ctx, "ip:1")
		require.NoError(t, err)
		require.Positive(t, wait, "resetting the email keeps the IP's count")

		wait, err = th.Check(ctx)
		require.NoError(t, err)
		require.Zero(t, wait, "no keys, no wait")
	})

	t.Run("WindowSlides", func(t *testing.T) {
		t.Parallel()
		const window = 300 * time.Millisecond
		th := open(t, 2, window)
		require.NoError(t, th.Fail(ctx, "k"))
		require.NoError(t, th.Fail(ctx, "k"))
		wait, err := th.Check(ctx, "k")
		require.NoError(t, err)
		require.Positive(t, wait)
		time.Sleep(wait + 20*time.Millisecond)
		wait, err = th.Check(ctx, "k")
		require.NoError(t, err)
		require.Zero(t, wait, "failures leave the window")
	})

	t.Run("ConcurrentFailuresAllCount", func(t *testing.T) {
		t.Parallel()
		th := open(t, 20, time.Minute)
		var wg sync.WaitGroup
		for range 19 {
			wg.Go(func() { require.NoError(t, th.Fail(ctx, "k")) })
		}
		wg.Wait()
		wait, err := th.Check(ctx, "k")
		require.NoError(t, err)
		require.Zero(t, wait, "19 of 20 allowed failures")
		require.NoError(t, th.Fail(ctx, "k"))
		wait, err = th.Check(ctx, "k")
		require.NoError(t, err)
		require.Positive(t, wait, "the 20th failure reaches the limit")
	})
}
