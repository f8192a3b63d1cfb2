package memory_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/ratelimit/limittest"
	"github.com/chatpay/chatpay/bot/ratelimit/memory"
)

type testBundle struct {
	clock *limittest.FakeClock
	l     *memory.Limiter
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	clock := limittest.NewFakeClock()
	return &testBundle{clock: clock, l: memory.New(memory.Options{Now: clock.Now})}
}

func TestContract(t *testing.T) {
	t.Parallel()
	limittest.Run(t, func(t *testing.T) bot.Limiter {
		b := setup(t)
		return &limittest.Controlled{Limiter: b.l, Clock: b.clock}
	})
}

func TestRealClock(t *testing.T) {
	t.Parallel()
	// The default clock is the real one: a fresh key passes and a full one waits at
	// most its window.
	l := memory.New(memory.Options{})
	lim := bot.Limit{Key: "k", Events: 1, Per: time.Minute}
	wait, err := l.Reserve(context.Background(), lim)
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = l.Reserve(context.Background(), lim)
	require.NoError(t, err)
	require.Positive(t, wait)
	require.LessOrEqual(t, wait, time.Minute)
}

func TestForgetsIdleKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	for i := range 100 {
		_, err := b.l.Reserve(ctx, bot.Limit{Key: "chat:" + strconv.Itoa(i), Events: 1, Per: time.Second})
		require.NoError(t, err)
	}
	_, err := b.l.Reserve(ctx, bot.Limit{Key: "group", Events: 20, Per: 5 * time.Minute})
	require.NoError(t, err)
	require.Equal(t, 101, b.l.Len())

	// A minute later the next reservation sweeps: the chats' windows are long over,
	// the group's is not, so only the group and the new key remain.
	b.clock.Advance(time.Minute)
	_, err = b.l.Reserve(ctx, bot.Limit{Key: "chat:new", Events: 1, Per: time.Second})
	require.NoError(t, err)
	require.Equal(t, 2, b.l.Len())

	// Forgetting changed no answer: the group still counts its reservation.
	for range 19 {
		wait, err := b.l.Reserve(ctx, bot.Limit{Key: "group", Events: 20, Per: 5 * time.Minute})
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	wait, err := b.l.Reserve(ctx, bot.Limit{Key: "group", Events: 20, Per: 5 * time.Minute})
	require.NoError(t, err)
	require.Equal(t, 4*time.Minute, wait)

	b.clock.Advance(5 * time.Minute)
	_, err = b.l.Reserve(ctx, bot.Limit{Key: "chat:last", Events: 1, Per: time.Second})
	require.NoError(t, err)
	require.Equal(t, 1, b.l.Len())
}

// TestLogStaysBounded is not parallel: AllocsPerRun refuses to run in parallel tests.
func TestLogStaysBounded(t *testing.T) {
	b := setup(t)
	lim := bot.Limit{Key: "bot", Events: 30, Per: time.Second}

	// A sender that sends as fast as allowed for an hour keeps one key of at most
	// Events entries: trimming reuses the log's array instead of growing it.
	allocs := testing.AllocsPerRun(10_000, func() {
		wait, err := b.l.Reserve(context.Background(), lim)
		if err != nil {
			t.Fatal(err)
		}
		if wait > 0 {
			b.clock.Advance(wait)
		}
	})
	require.Zero(t, allocs)
	require.Equal(t, 1, b.l.Len())
}

func BenchmarkReserve(b *testing.B) {
	ctx := context.Background()
	b.Run("OneKeyAlwaysFull", func(b *testing.B) {
		l := memory.New(memory.Options{})
		lim := bot.Limit{Key: "tg:{1}:chat:1", Events: 1, Per: time.Hour}
		for b.Loop() {
			if _, err := l.Reserve(ctx, lim); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TelegramGroupManyChats", func(b *testing.B) {
		// Every reservation passes: a fake clock moves a second per call, so each of
		// the 1000 chats' windows has passed when it comes round again.
		clock := limittest.NewFakeClock()
		l := memory.New(memory.Options{Now: clock.Now})
		limits := make([][]bot.Limit, 1000)
		for i := range limits {
			limits[i] = bot.TelegramLimits("1", -int64(i)-1)
		}
		i := 0
		for b.Loop() {
			if _, err := l.Reserve(ctx, limits[i%len(limits)]...); err != nil {
				b.Fatal(err)
			}
			clock.Advance(time.Second)
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		l := memory.New(memory.Options{})
		b.RunParallel(func(pb *testing.PB) {
			lim := bot.Limit{Key: "tg:{1}", Events: 30, Per: time.Second}
			for pb.Next() {
				if _, err := l.Reserve(ctx, lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
