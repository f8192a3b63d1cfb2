package redis_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/ratelimit/limittest"
	"github.com/chatpay/chatpay/bot/ratelimit/redis"
	"github.com/chatpay/chatpay/internal/redistest"
)

func openClient(tb testing.TB) *goredis.Client { return redistest.Client(tb) }

func uniquePrefix(tb testing.TB, client *goredis.Client) string {
	return redistest.Prefix(tb, client, "chatpay:rl")
}

type testBundle struct {
	ctx    context.Context
	client *goredis.Client
	prefix string
	l      *redis.Limiter
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	client := openClient(t)
	prefix := uniquePrefix(t, client)
	return &testBundle{ctx: context.Background(), client: client, prefix: prefix, l: redis.New(client, prefix)}
}

func TestContract(t *testing.T) {
	t.Parallel()
	client := openClient(t)
	limittest.Run(t, func(t *testing.T) bot.Limiter {
		return redis.New(client, uniquePrefix(t, client))
	})
}

func TestKeysCarryPrefixAndExpire(t *testing.T) {
	t.Parallel()
	b := setup(t)

	wait, err := b.l.Reserve(b.ctx, bot.TelegramLimits("42", -100)...)
	require.NoError(t, err)
	require.Zero(t, wait)

	for _, lim := range bot.TelegramLimits("42", -100) {
		key := b.prefix + lim.Key
		require.Equal(t, int64(1), b.client.ZCard(b.ctx, key).Val(), key)
		ttl := b.client.PTTL(b.ctx, key).Val()
		require.Positive(t, ttl, key)
		require.LessOrEqual(t, ttl, lim.Per, "%s lives no longer than its window", key)
	}
}

func TestRefusalAddsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	full := bot.Limit{Key: "full", Events: 1, Per: time.Minute}
	roomy := bot.Limit{Key: "roomy", Events: 5, Per: time.Minute}

	_, err := b.l.Reserve(b.ctx, full)
	require.NoError(t, err)
	wait, err := b.l.Reserve(b.ctx, roomy, full)
	require.NoError(t, err)
	require.Positive(t, wait)

	require.Equal(t, int64(1), b.client.ZCard(b.ctx, b.prefix+"full").Val())
	require.Zero(t, b.client.Exists(b.ctx, b.prefix+"roomy").Val(), "the refused reservation wrote nothing under roomy")
}

func TestReplicasShareLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two limiters on one prefix are two replicas of chatpay.
	other := redis.New(b.client, b.prefix)
	lim := bot.Limit{Key: "tg:{1}", Events: 30, Per: time.Minute}

	// Thirty reservations alternate between replicas, many within one microsecond
	// of Redis's clock: each must be its own entry.
	for i := range 30 {
		l := b.l
		if i%2 == 1 {
			l = other
		}
		wait, err := l.Reserve(b.ctx, lim)
		require.NoError(t, err)
		require.Zero(t, wait, "reservation %d", i+1)
	}
	for _, l := range []*redis.Limiter{b.l, other} {
		wait, err := l.Reserve(b.ctx, lim)
		require.NoError(t, err)
		require.Positive(t, wait, "the 31st is refused on either replica")
	}
	require.Equal(t, int64(30), b.client.ZCard(b.ctx, b.prefix+lim.Key).Val())
}

func TestNeverMoreThanEventsInAnyWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lim := bot.Limit{Key: "group", Events: 3, Per: 200 * time.Millisecond}
	key := b.prefix + lim.Key

	// A sender that sends whenever allowed, for five windows. The times compared are
	// the entries' scores, Redis's own clock, so the check does not depend on how
	// fast this machine is.
	var sent []float64
	for range 5 * lim.Events {
		wait, err := b.l.Reserve(b.ctx, lim)
		require.NoError(t, err)
		if wait > 0 {
			time.Sleep(wait)
			continue
		}
		newest, err := b.client.ZRangeWithScores(b.ctx, key, -1, -1).Result()
		require.NoError(t, err)
		require.Len(t, newest, 1)
		sent = append(sent, newest[0].Score)
	}
	require.GreaterOrEqual(t, len(sent), 2*lim.Events)
	for i := lim.Events; i < len(sent); i++ {
		require.GreaterOrEqual(t, sent[i]-sent[i-lim.Events], float64(lim.Per/time.Microsecond),
			"entries %d and %d are %d apart but less than a window apart", i-lim.Events, i, lim.Events)
	}
}

func TestDefaultPrefix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l := redis.New(b.client, "")
	// The key itself is unique, since the prefix is shared with everyone.
	key := "test:" + b.prefix
	t.Cleanup(func() { b.client.Del(context.Background(), redis.DefaultPrefix+key) })

	_, err := l.Reserve(b.ctx, bot.Limit{Key: key, Events: 1, Per: time.Minute})
	require.NoError(t, err)
	require.Equal(t, int64(1), b.client.Exists(b.ctx, "chatpay:rl:"+key).Val())
}

func TestReloadsFlushedScript(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lim := bot.Limit{Key: "k", Events: 2, Per: time.Minute}

	_, err := b.l.Reserve(b.ctx, lim)
	require.NoError(t, err)
	// A restarted or failed-over Redis has no scripts: EVALSHA fails with NOSCRIPT
	// and the script is sent again.
	require.NoError(t, b.client.ScriptFlush(b.ctx).Err())
	wait, err := b.l.Reserve(b.ctx, lim)
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = b.l.Reserve(b.ctx, lim)
	require.NoError(t, err)
	require.Positive(t, wait)
}

func TestRedisErrorIsReturned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.client.Set(b.ctx, b.prefix+"taken", "not a sorted set", time.Minute).Err())

	_, err := b.l.Reserve(b.ctx, bot.Limit{Key: "taken", Events: 1, Per: time.Second})
	require.ErrorContains(t, err, "ratelimit/redis: reserve taken: WRONGTYPE")
}

func TestOpen(t *testing.T) {
	t.Parallel()

	t.Run("Answers", func(t *testing.T) {
		t.Parallel()
		client := openClient(t)
		require.NoError(t, client.Ping(context.Background()).Err())
	})

	t.Run("InvalidURLHidesPassword", func(t *testing.T) {
		t.Parallel()
		for _, u := range []string{"redis://:hunter2@127.0.0.1:bad/0", "http://:hunter2@127.0.0.1/0", "redis://:hunter2@127.0.0.1/x"} {
			_, err := redis.Open(u)
			require.ErrorContains(t, err, "ratelimit/redis: redis_url: ", u)
			require.NotContains(t, err.Error(), "hunter2", u)
		}
	})

	t.Run("Unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := redis.Open("redis://:hunter2@127.0.0.1:1/0")
		require.ErrorContains(t, err, "ratelimit/redis: ping 127.0.0.1:1: ")
		require.NotContains(t, err.Error(), "hunter2")
	})
}

func BenchmarkReserve(b *testing.B) {
	client := openClient(b)
	ctx := context.Background()

	b.Run("OneKeyAlwaysFull", func(b *testing.B) {
		l := redis.New(client, uniquePrefix(b, client))
		lim := bot.Limit{Key: "tg:{1}:chat:1", Events: 1, Per: time.Hour}
		for b.Loop() {
			if _, err := l.Reserve(ctx, lim); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TelegramGroup", func(b *testing.B) {
		// Three keys per reservation, spread over many groups so most pass.
		l := redis.New(client, uniquePrefix(b, client))
		i := 0
		for b.Loop() {
			if _, err := l.Reserve(ctx, bot.TelegramLimits("1", -int64(i%100_000)-1)...); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		l := redis.New(client, uniquePrefix(b, client))
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := l.Reserve(ctx, bot.Limit{Key: "chat:" + strconv.Itoa(i%1000), Events: 1, Per: time.Second}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}
