// Package dialogtest is the contract every bot.Dialogs passes: bot/dialog/memory with a
// fake clock and with the real one, and bot/dialog/redis against a real Redis.
package dialogtest

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
)

// Controlled is a store together with the fake clock it reads. When newDialogs returns
// one, the suite moves the clock instead of sleeping and checks expiry to the
// nanosecond; other stores run on real time, where the suite waits for expiry with
// short TTLs.
type Controlled struct {
	bot.Dialogs
	Clock *FakeClock
}

// FakeClock is a clock that moves only when told to. It is safe for concurrent use.
// It repeats limittest's rather than importing it, so that the dialog packages do not
// depend on the rate limiter's.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a clock standing at a fixed instant.
func NewFakeClock() *FakeClock {
	return &FakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TTLs used by the suite. Tests in which time must not matter use long, so that a slow
// machine cannot let state expire between two calls. Tests that wait for expiry use
// short, so that they take a fraction of a second on real time; they never assert that
// short-lived state is still there, which a busy machine could make false.
const (
	long  = time.Minute
	short = 50 * time.Millisecond
	// expiryDeadline is how long real-time tests wait for short-lived state to go:
	// generous, because Redis expires keys lazily or in a background cycle and the
	// machine may be busy, yet failing is still possible.
	expiryDeadline = 5 * time.Second
)

// Run runs the contract suite. newDialogs returns a fresh store for one subtest;
// subtests run in parallel and use the same key names, so stores must not share state
// (for Redis: a unique key prefix per call).
func Run(t *testing.T, newDialogs func(t *testing.T) bot.Dialogs) {
	t.Helper()

	type bundle struct {
		ctx context.Context
		d   bot.Dialogs
		// clock is the store's fake clock, nil when it runs on real time.
		clock *FakeClock
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		d := newDialogs(t)
		b := &bundle{ctx: context.Background(), d: d}
		if c, ok := d.(*Controlled); ok {
			b.clock = c.Clock
		}
		return b
	}
	save := func(t *testing.T, b *bundle, key, state string, ttl time.Duration) {
		t.Helper()
		require.NoError(t, b.d.Save(b.ctx, key, []byte(state), ttl))
	}
	requireState := func(t *testing.T, b *bundle, key, want string) {
		t.Helper()
		got, ok, err := b.d.Load(b.ctx, key)
		require.NoError(t, err)
		require.True(t, ok, "%q has state", key)
		require.Equal(t, want, string(got), key)
	}
	requireNone := func(t *testing.T, b *bundle, key string) {
		t.Helper()
		got, ok, err := b.d.Load(b.ctx, key)
		require.NoError(t, err)
		require.False(t, ok, "%q has no state", key)
		require.Nil(t, got, "%q returns no bytes without state", key)
	}
	// requireExpires checks that key, saved for ttl at the current instant, is gone
	// once ttl has passed. On the fake clock it is there until the very last
	// nanosecond; on real time it is gone within expiryDeadline.
	requireExpires := func(t *testing.T, b *bundle, key string, ttl time.Duration) {
		t.Helper()
		if b.clock != nil {
			b.clock.Advance(ttl - 1)
			_, ok, err := b.d.Load(b.ctx, key)
			require.NoError(t, err)
			require.True(t, ok, "%q is there a nanosecond before its TTL ends", key)
			b.clock.Advance(1)
			requireNone(t, b, key)
			return
		}
		require.Eventually(t, func() bool {
			_, ok, err := b.d.Load(b.ctx, key)
			return err == nil && !ok
		}, expiryDeadline, 10*time.Millisecond, "%q expires after %s", key, ttl)
		requireNone(t, b, key)
	}
	// sleep lets d pass on the store's clock.
	sleep := func(b *bundle, d time.Duration) {
		if b.clock != nil {
			b.clock.Advance(d)
			return
		}
		time.Sleep(d)
	}

	t.Run("MissingKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		requireNone(t, b, "nobody")
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Binary state survives as it is: the store must not treat it as text.
		state := []byte{0, 1, 0xff, '\n', 0xc3, 0x28}
		require.NoError(t, b.d.Save(b.ctx, "order", state, long))
		got, ok, err := b.d.Load(b.ctx, "order")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, state, got)
	})

	t.Run("EmptyState", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Empty state is state: a dialog that has begun but asked nothing yet.
		require.NoError(t, b.d.Save(b.ctx, "fresh", nil, long))
		got, ok, err := b.d.Load(b.ctx, "fresh")
		require.NoError(t, err)
		require.True(t, ok, "empty state is not the same as none")
		require.Empty(t, got)
	})

	t.Run("Overwrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		save(t, b, "order", "step one, a long first state", long)
		save(t, b, "order", "step two", long)
		// The shorter state replaces the longer whole: nothing of the first is left.
		requireState(t, b, "order", "step two")
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		save(t, b, "order", "x", long)
		require.NoError(t, b.d.Delete(b.ctx, "order"))
		requireNone(t, b, "order")
		// A key deleted can be saved again.
		save(t, b, "order", "y", long)
		requireState(t, b, "order", "y")
	})

	t.Run("DeleteMissing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.d.Delete(b.ctx, "nobody"))
		save(t, b, "order", "x", long)
		require.NoError(t, b.d.Delete(b.ctx, "order"))
		require.NoError(t, b.d.Delete(b.ctx, "order"), "deleting twice is not an error")
	})

	t.Run("Expires", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		save(t, b, "order", "x", short)
		save(t, b, "other", "y", long)
		requireExpires(t, b, "order", short)
		requireState(t, b, "other", "y")
		// Expired state can be saved again, with a fresh TTL.
		save(t, b, "order", "z", long)
		requireState(t, b, "order", "z")
	})

	t.Run("SaveRenewsTTL", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Saved first for short, then again for long: once short has passed (twice
		// over, for a real clock's sake), the state is still there. Only the long TTL
		// has to hold between calls, so a slow machine cannot fail this.
		save(t, b, "order", "step one", short)
		save(t, b, "order", "step two", long)
		sleep(b, 2*short)
		requireState(t, b, "order", "step two")
	})

	t.Run("SaveShortensTTL", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// The TTL is replaced, not extended to the longer of the two: a dialog that
		// asks for a short TTL gets it.
		save(t, b, "order", "step one", long)
		save(t, b, "order", "step two", short)
		requireExpires(t, b, "order", short)
	})

	t.Run("CopySemantics", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		state := []byte("original")
		require.NoError(t, b.d.Save(b.ctx, "order", state, long))
		copy(state, "mutated!")
		requireState(t, b, "order", "original")

		got, ok, err := b.d.Load(b.ctx, "order")
		require.NoError(t, err)
		require.True(t, ok)
		copy(got, "mutated!")
		requireState(t, b, "order", "original")

		// Appending to one load's bytes does not show through another's either.
		first, _, err := b.d.Load(b.ctx, "order")
		require.NoError(t, err)
		second, _, err := b.d.Load(b.ctx, "order")
		require.NoError(t, err)
		_ = append(first[:1], "XXXX"...)
		require.Equal(t, "original", string(second))
	})

	t.Run("KeyIsolation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Keys that are prefixes of one another, or differ only in case or trailing
		// bytes, are different keys.
		keys := []string{"tg:1:42", "tg:1:4", "tg:1:42:", "TG:1:42", "tg:1:42 ", "tg:1:42\x00"}
		for i, k := range keys {
			save(t, b, k, "state "+strconv.Itoa(i), long)
		}
		for i, k := range keys {
			requireState(t, b, k, "state "+strconv.Itoa(i))
		}
		require.NoError(t, b.d.Delete(b.ctx, keys[0]))
		requireNone(t, b, keys[0])
		for i, k := range keys[1:] {
			requireState(t, b, k, "state "+strconv.Itoa(i+1))
		}
	})

	t.Run("Bounds", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// The largest key and state and the shortest TTL are accepted.
		key := strings.Repeat("k", bot.MaxDialogKey)
		state := bytes.Repeat([]byte{0xab}, bot.MaxDialogState)
		require.NoError(t, b.d.Save(b.ctx, key, state, long))
		got, ok, err := b.d.Load(b.ctx, key)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, state, got)
		require.NoError(t, b.d.Delete(b.ctx, key))

		save(t, b, "brief", "x", bot.MinDialogTTL)
		requireExpires(t, b, "brief", bot.MinDialogTTL)
	})

	t.Run("InvalidCalls", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		save(t, b, "order", "kept", long)
		longKey := strings.Repeat("k", bot.MaxDialogKey+1)
		for _, tt := range []struct {
			name  string
			key   string
			state []byte
			ttl   time.Duration
			err   string
		}{
			{"empty key", "", nil, long, "empty key"},
			{"long key", longKey, nil, long, "longer than 256 bytes"},
			{"big state", "order", make([]byte, bot.MaxDialogState+1), long, "over 65536 bytes"},
			{"short ttl", "order", []byte("x"), time.Millisecond - 1, "under 1ms"},
			{"zero ttl", "order", []byte("x"), 0, "under 1ms"},
			{"negative ttl", "order", []byte("x"), -time.Second, "under 1ms"},
		} {
			// Every store refuses with ValidateDialog's own error, word for word.
			want := bot.ValidateDialog(tt.key, tt.state, tt.ttl)
			require.ErrorContains(t, want, tt.err, tt.name)
			err := b.d.Save(b.ctx, tt.key, tt.state, tt.ttl)
			require.EqualError(t, err, want.Error(), tt.name)
		}
		for _, key := range []string{"", longKey} {
			want := bot.ValidateDialogKey(key)
			require.Error(t, want)
			_, ok, err := b.d.Load(b.ctx, key)
			require.EqualError(t, err, want.Error(), "load %.8q", key)
			require.False(t, ok)
			require.EqualError(t, b.d.Delete(b.ctx, key), want.Error(), "delete %.8q", key)
		}
		// The refused saves left the state they would have replaced.
		requireState(t, b, "order", "kept")
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		save(t, b, "order", "kept", long)
		ctx, cancel := context.WithCancel(b.ctx)
		cancel()

		require.ErrorIs(t, b.d.Save(ctx, "order", []byte("lost"), long), context.Canceled)
		require.ErrorIs(t, b.d.Delete(ctx, "order"), context.Canceled)
		_, ok, err := b.d.Load(ctx, "order")
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, ok)
		requireState(t, b, "order", "kept")
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 20
		// Every goroutine writes its own key and a shared one, and reads both back.
		// Its own key must read back exactly; the shared one must always be some
		// goroutine's whole state, never a mix or an error.
		states := make(map[string]bool, n)
		for i := range n {
			states[sharedState(i)] = true
		}
		var (
			start = make(chan struct{})
			wg    sync.WaitGroup
			mu    sync.Mutex
			errs  []error
		)
		fail := func(err error) {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		}
		for i := range n {
			wg.Go(func() {
				<-start
				own := "own:" + strconv.Itoa(i)
				for j := range 20 {
					want := fmt.Sprintf("goroutine %d write %d", i, j)
					if err := b.d.Save(b.ctx, own, []byte(want), long); err != nil {
						fail(err)
						return
					}
					if err := b.d.Save(b.ctx, "shared", []byte(sharedState(i)), long); err != nil {
						fail(err)
						return
					}
					got, ok, err := b.d.Load(b.ctx, own)
					if err != nil || !ok || string(got) != want {
						fail(fmt.Errorf("goroutine %d: own key read %q, %t, %v; want %q", i, got, ok, err, want))
						return
					}
					got, ok, err = b.d.Load(b.ctx, "shared")
					if err != nil || !ok || !states[string(got)] {
						fail(fmt.Errorf("goroutine %d: shared key read %.40q, %t, %v", i, got, ok, err))
						return
					}
				}
				if err := b.d.Delete(b.ctx, own); err != nil {
					fail(err)
				}
			})
		}
		close(start)
		wg.Wait()
		require.Empty(t, errs)
		for i := range n {
			requireNone(t, b, "own:"+strconv.Itoa(i))
		}
		got, ok, err := b.d.Load(b.ctx, "shared")
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, states[string(got)], "the shared key holds one goroutine's whole state")
	})
}

// sharedState is goroutine i's state for the shared key: long enough, and different
// enough between goroutines, that a torn write would not be any goroutine's state.
func sharedState(i int) string {
	return strings.Repeat(strconv.Itoa(i)+"|", 200+i)
}
