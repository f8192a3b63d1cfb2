package memory_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/dialog/dialogtest"
	"github.com/chatpay/chatpay/bot/dialog/memory"
)

type testBundle struct {
	ctx   context.Context
	clock *dialogtest.FakeClock
	d     *memory.Dialogs
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	clock := dialogtest.NewFakeClock()
	return &testBundle{ctx: context.Background(), clock: clock, d: memory.New(memory.Options{Now: clock.Now})}
}

func TestContract(t *testing.T) {
	t.Parallel()
	dialogtest.Run(t, func(t *testing.T) bot.Dialogs {
		b := setup(t)
		return &dialogtest.Controlled{Dialogs: b.d, Clock: b.clock}
	})
}

// TestContractRealClock runs the suite on the default clock too, as Redis's runs: it
// checks the suite's real-time waits without needing a Redis.
func TestContractRealClock(t *testing.T) {
	t.Parallel()
	dialogtest.Run(t, func(t *testing.T) bot.Dialogs {
		return memory.New(memory.Options{})
	})
}

func TestLoadForgetsExpired(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.d.Save(b.ctx, "order", []byte("x"), time.Second))
	require.Equal(t, 1, b.d.Len())

	b.clock.Advance(time.Second)
	_, ok, err := b.d.Load(b.ctx, "order")
	require.NoError(t, err)
	require.False(t, ok)
	require.Zero(t, b.d.Len(), "the read that found the entry expired dropped it")
}

func TestSweepBoundsMemory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		keys  = 100_000
		every = 10 * time.Millisecond
		ttl   = time.Second
	)

	// Dialogs begin every 10ms and are abandoned, each living a second: about 100
	// are live at any time. Without sweeping the map would end with 100,000 entries;
	// with it, it never holds more than the sweep's floor of about a thousand.
	most := 0
	for i := range keys {
		require.NoError(t, b.d.Save(b.ctx, "chat:"+strconv.Itoa(i), []byte("state"), ttl))
		most = max(most, b.d.Len())
		b.clock.Advance(every)
	}
	require.LessOrEqual(t, most, 2048)

	// Sweeping dropped only expired entries: the last second's dialogs are all there.
	b.clock.Advance(-every)
	for i := keys - int(ttl/every) + 1; i < keys; i++ {
		_, ok, err := b.d.Load(b.ctx, "chat:"+strconv.Itoa(i))
		require.NoError(t, err)
		require.True(t, ok, "chat:%d", i)
	}
}

func TestSweepKeepsManyLiveDialogs(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// 5,000 dialogs that last an hour survive every sweep their own saves cause.
	for i := range 5000 {
		require.NoError(t, b.d.Save(b.ctx, "live:"+strconv.Itoa(i), []byte("x"), time.Hour))
	}
	require.Equal(t, 5000, b.d.Len())

	// Once they have expired, new keys sweep them away within one doubling.
	b.clock.Advance(time.Hour)
	for i := range 5000 {
		require.NoError(t, b.d.Save(b.ctx, "new:"+strconv.Itoa(i), []byte("x"), time.Hour))
	}
	require.Equal(t, 5000, b.d.Len(), "only the new dialogs remain")
}

func TestRealClock(t *testing.T) {
	t.Parallel()
	// The default clock is the real one: state saved for a minute is there.
	d := memory.New(memory.Options{})
	require.NoError(t, d.Save(context.Background(), "k", []byte("v"), time.Minute))
	got, ok, err := d.Load(context.Background(), "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v", string(got))
}

func BenchmarkSaveLoad(b *testing.B) {
	ctx := context.Background()
	state := make([]byte, 512)
	b.Run("OneKey", func(b *testing.B) {
		d := memory.New(memory.Options{})
		for b.Loop() {
			if err := d.Save(ctx, "tg:1:42", state, time.Hour); err != nil {
				b.Fatal(err)
			}
			if _, _, err := d.Load(ctx, "tg:1:42"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		d := memory.New(memory.Options{})
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				key := "chat:" + strconv.Itoa(i%1000)
				if err := d.Save(ctx, key, state, time.Hour); err != nil {
					b.Fatal(err)
				}
				if _, _, err := d.Load(ctx, key); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}
