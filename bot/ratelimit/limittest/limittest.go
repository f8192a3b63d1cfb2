// Package limittest is the contract every bot.Limiter passes: bot/ratelimit/memory
// with a fake clock, and bot/ratelimit/redis against a real Redis.
package limittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
)

// Controlled is a limiter together with the fake clock it reads. When newLimiter
// returns one, the suite moves the clock instead of sleeping and checks waits exactly;
// other limiters run on real time, where the suite only checks bounds.
type Controlled struct {
	bot.Limiter
	Clock *FakeClock
}

// FakeClock is a clock that moves only when told to. It is safe for concurrent use.
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

// Windows used by the suite. Tests in which time must not matter use long, so that a
// slow machine cannot let a window pass between two calls. Tests that wait for a
// window to pass use short, so that they take a fraction of a second on real time.
const (
	long  = time.Minute
	short = 300 * time.Millisecond
)

// Run runs the contract suite. newLimiter returns a fresh limiter for one subtest;
// subtests run in parallel and use the same key names, so limiters must not share
// state (for Redis: a unique key prefix per call).
func Run(t *testing.T, newLimiter func(t *testing.T) bot.Limiter) {
	t.Helper()

	type bundle struct {
		ctx context.Context
		l   bot.Limiter
		// exact reports that the limiter runs on a fake clock, so waits are known to
		// the nanosecond.
		exact bool
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		l := newLimiter(t)
		_, exact := l.(*Controlled)
		return &bundle{ctx: context.Background(), l: l, exact: exact}
	}
	// sleep lets d pass on the limiter's clock.
	sleep := func(b *bundle, d time.Duration) {
		if c, ok := b.l.(*Controlled); ok {
			c.Clock.Advance(d)
			return
		}
		time.Sleep(d)
	}
	reserve := func(t *testing.T, b *bundle, limits ...bot.Limit) time.Duration {
		t.Helper()
		wait, err := b.l.Reserve(b.ctx, limits...)
		require.NoError(t, err)
		return wait
	}
	// requireWait checks a refused reservation's wait: positive, at most max, and when
	// the clock stood still since the slots were taken, exactly max.
	requireWait := func(t *testing.T, b *bundle, wait, max time.Duration) {
		t.Helper()
		require.Positive(t, wait)
		require.LessOrEqual(t, wait, max)
		if b.exact {
			require.Equal(t, max, wait)
		}
	}

	t.Run("FirstEventPasses", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Zero(t, reserve(t, b, bot.Limit{Key: "k", Events: 1, Per: long}))
	})

	t.Run("NoLimitsPass", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for range 3 {
			require.Zero(t, reserve(t, b))
		}
	})

	t.Run("SecondWaitsForTheWindowThenPasses", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lim := bot.Limit{Key: "k", Events: 1, Per: short}

		require.Zero(t, reserve(t, b, lim))
		wait := reserve(t, b, lim)
		requireWait(t, b, wait, short)

		// Asking again while full changes nothing: the refusal took no slot.
		requireWait(t, b, reserve(t, b, lim), wait)

		sleep(b, wait)
		require.Zero(t, reserve(t, b, lim), "after waiting as told the slot is free")
		requireWait(t, b, reserve(t, b, lim), short)
	})

	t.Run("BurstUpToEvents", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lim := bot.Limit{Key: "k", Events: 3, Per: long}

		for i := range 3 {
			require.Zero(t, reserve(t, b, lim), "event %d of the burst", i+1)
		}
		requireWait(t, b, reserve(t, b, lim), long)
	})

	t.Run("WindowSlides", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lim := bot.Limit{Key: "k", Events: 2, Per: short}

		require.Zero(t, reserve(t, b, lim))
		sleep(b, short/2)
		require.Zero(t, reserve(t, b, lim))

		// The window is full until the first event leaves it, at most half a window
		// from now: a fixed window or a refilling bucket would answer differently.
		wait := reserve(t, b, lim)
		requireWait(t, b, wait, short/2)
		sleep(b, wait)
		require.Zero(t, reserve(t, b, lim))
		if b.exact {
			// The second event is still inside the window: only one slot freed.
			requireWait(t, b, reserve(t, b, lim), short/2)
		}
	})

	t.Run("NeverMoreThanEventsInAnyWindow", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c, ok := b.l.(*Controlled)
		if !ok {
			t.Skip("needs a fake clock: it walks through many windows")
		}
		lim := bot.Limit{Key: "group", Events: 20, Per: time.Minute}

		// A sender that sends whenever allowed, for five minutes. A burst-then-rate
		// limiter would let 39 through in some minute; the log must never let 21.
		var sent []time.Time
		end := c.Clock.Now().Add(5 * time.Minute)
		for c.Clock.Now().Before(end) {
			wait := reserve(t, b, lim)
			if wait == 0 {
				sent = append(sent, c.Clock.Now())
				continue
			}
			c.Clock.Advance(wait)
		}
		require.Len(t, sent, 5*20, "the limit is used fully")
		for i := 20; i < len(sent); i++ {
			require.GreaterOrEqual(t, sent[i].Sub(sent[i-20]), time.Minute,
				"events %d and %d are 20 apart but less than a minute apart", i-20, i)
		}
	})

	t.Run("IndependentKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a := bot.Limit{Key: "a", Events: 1, Per: long}
		c := bot.Limit{Key: "c", Events: 1, Per: long}

		require.Zero(t, reserve(t, b, a))
		require.Zero(t, reserve(t, b, c), "a full key does not hold back another")
		requireWait(t, b, reserve(t, b, a), long)
		requireWait(t, b, reserve(t, b, c), long)
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		full := bot.Limit{Key: "full", Events: 1, Per: long}
		roomy := bot.Limit{Key: "roomy", Events: 2, Per: long}

		require.Zero(t, reserve(t, b, full))
		for _, order := range [][]bot.Limit{{full, roomy}, {roomy, full}} {
			requireWait(t, b, reserve(t, b, order...), long)
		}

		// The refusals took nothing from roomy: both its slots are still there.
		require.Zero(t, reserve(t, b, roomy))
		require.Zero(t, reserve(t, b, roomy))
		requireWait(t, b, reserve(t, b, roomy), long)

		// And a full roomy holds back a fresh key reserved with it.
		fresh := bot.Limit{Key: "fresh", Events: 1, Per: long}
		requireWait(t, b, reserve(t, b, fresh, roomy), long)
		require.Zero(t, reserve(t, b, fresh))
	})

	t.Run("WaitIsTheLongestOfTheFullLimits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		minute := bot.Limit{Key: "minute", Events: 1, Per: long}
		twoMinutes := bot.Limit{Key: "two-minutes", Events: 1, Per: 2 * long}

		require.Zero(t, reserve(t, b, minute, twoMinutes))
		wait := reserve(t, b, minute, twoMinutes)
		require.Greater(t, wait, long, "waiting only for the shorter limit would be refused again")
		requireWait(t, b, wait, 2*long)
	})

	t.Run("ConcurrentReservationsTakeOneSlotEach", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lim := bot.Limit{Key: "chat", Events: 1, Per: long}

		passed := reserveConcurrently(t, b.l, 20, lim)
		require.Equal(t, 1, passed, "exactly one of 20 simultaneous senders goes now")
	})

	t.Run("ConcurrentReservationsAreAtomicAcrossLimits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		chat := bot.Limit{Key: "chat", Events: 5, Per: long}
		bot3 := bot.Limit{Key: "bot", Events: 3, Per: long}

		passed := reserveConcurrently(t, b.l, 20, chat, bot3)
		require.Equal(t, 3, passed, "the tighter limit decides")
		// Only the three that passed took slots under chat: two remain.
		require.Zero(t, reserve(t, b, chat))
		require.Zero(t, reserve(t, b, chat))
		requireWait(t, b, reserve(t, b, chat), long)
	})

	t.Run("InvalidLimits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ok := bot.Limit{Key: "k", Events: 1, Per: long}
		for _, tt := range []struct {
			name   string
			limits []bot.Limit
			err    string
		}{
			{"empty key", []bot.Limit{{Events: 1, Per: long}}, "empty key"},
			{"no events", []bot.Limit{{Key: "k", Per: long}}, "at least 1 event"},
			{"no span", []bot.Limit{{Key: "k", Events: 1}}, "at least 1ms"},
			{"key twice", []bot.Limit{ok, {Key: "k", Events: 2, Per: long}}, `"k" is given twice`},
		} {
			_, err := b.l.Reserve(b.ctx, tt.limits...)
			require.ErrorContains(t, err, tt.err, tt.name)
		}
		// The invalid calls took nothing.
		require.Zero(t, reserve(t, b, ok))
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lim := bot.Limit{Key: "k", Events: 1, Per: long}
		ctx, cancel := context.WithCancel(b.ctx)
		cancel()

		_, err := b.l.Reserve(ctx, lim)
		require.ErrorIs(t, err, context.Canceled)
		require.Zero(t, reserve(t, b, lim), "the cancelled call took nothing")
	})
}

// reserveConcurrently has n goroutines reserve limits at the same moment and returns
// how many were told to send now.
func reserveConcurrently(t *testing.T, l bot.Limiter, n int, limits ...bot.Limit) int {
	t.Helper()
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		zero  int
	)
	var maxPer time.Duration
	for _, lim := range limits {
		maxPer = max(maxPer, lim.Per)
	}
	for i := range n {
		wg.Go(func() {
			<-start
			wait, err := l.Reserve(context.Background(), limits...)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("goroutine %d: %w", i, err))
			case wait == 0:
				zero++
			case wait < 0 || wait > maxPer:
				errs = append(errs, fmt.Errorf("goroutine %d: wait %s out of bounds", i, wait))
			}
		})
	}
	close(start)
	wg.Wait()
	require.Empty(t, errs)
	return zero
}
