package redis_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/dialog/dialogtest"
	"github.com/chatpay/chatpay/bot/dialog/redis"
	"github.com/chatpay/chatpay/internal/redistest"
)

func openClient(tb testing.TB) *goredis.Client { return redistest.Client(tb) }

func uniquePrefix(tb testing.TB, client *goredis.Client) string {
	return redistest.Prefix(tb, client, "chatpay:dialog")
}

type testBundle struct {
	ctx    context.Context
	client *goredis.Client
	prefix string
	d      *redis.Dialogs
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	client := openClient(t)
	prefix := uniquePrefix(t, client)
	return &testBundle{ctx: context.Background(), client: client, prefix: prefix, d: redis.New(client, prefix)}
}

func TestContract(t *testing.T) {
	t.Parallel()
	client := openClient(t)
	dialogtest.Run(t, func(t *testing.T) bot.Dialogs {
		return redis.New(client, uniquePrefix(t, client))
	})
}

func TestKeyCarriesPrefixAndTTL(t *testing.T) {
	t.Parallel()
	b := setup(t)

	require.NoError(t, b.d.Save(b.ctx, "tg:1:42", []byte("state"), time.Minute))
	key := b.prefix + "tg:1:42"
	require.Equal(t, "state", b.client.Get(b.ctx, key).Val())
	ttl := b.client.PTTL(b.ctx, key).Val()
	require.Positive(t, ttl)
	require.LessOrEqual(t, ttl, time.Minute)
	require.Greater(t, ttl, 50*time.Second, "the TTL is the one asked for")

	// Saving again renews the TTL on the key itself, not only in what Load says.
	require.NoError(t, b.d.Save(b.ctx, "tg:1:42", []byte("state"), time.Hour))
	require.Greater(t, b.client.PTTL(b.ctx, key).Val(), 59*time.Minute)

	require.NoError(t, b.d.Delete(b.ctx, "tg:1:42"))
	require.Zero(t, b.client.Exists(b.ctx, key).Val())
}

func TestTTLRoundsUpToMilliseconds(t *testing.T) {
	t.Parallel()
	// The test reads the SET that is sent, not the key's PTTL, which would be a
	// millisecond less on a machine slow enough to let one pass.
	client := openClient(t)
	hook := &setArgs{}
	client.AddHook(hook)
	d := redis.New(client, uniquePrefix(t, client))

	for _, tt := range []struct {
		ttl  time.Duration
		args []any
	}{
		// Truncated, 1.0005s would be 1,000ms: shorter than asked.
		{time.Second + 500*time.Microsecond, []any{"px", int64(1001)}},
		{time.Millisecond + 1, []any{"px", int64(2)}},
		{1500 * time.Millisecond, []any{"px", int64(1500)}},
		{time.Minute, []any{"ex", int64(60)}},
	} {
		require.NoError(t, d.Save(context.Background(), "k", []byte("x"), tt.ttl))
		args := hook.last()
		require.Len(t, args, 5, "%s", tt.ttl)
		require.Equal(t, tt.args, args[3:], "%s", tt.ttl)
	}
}

// setArgs is a go-redis hook that remembers the arguments of the last SET sent.
type setArgs struct {
	mu   sync.Mutex
	args []any
}

func (h *setArgs) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *setArgs) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (h *setArgs) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if cmd.Name() == "set" {
			h.mu.Lock()
			h.args = cmd.Args()
			h.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

func (h *setArgs) last() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.args
}

func TestPrefixesAreIsolated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two prefixes are two stores: the same key under each holds its own state.
	other := redis.New(b.client, b.prefix+"other:")
	require.NoError(t, b.d.Save(b.ctx, "k", []byte("mine"), time.Minute))
	require.NoError(t, other.Save(b.ctx, "k", []byte("theirs"), time.Minute))

	got, ok, err := b.d.Load(b.ctx, "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "mine", string(got))
	require.NoError(t, other.Delete(b.ctx, "k"))
	got, ok, err = b.d.Load(b.ctx, "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "mine", string(got))
}

func TestReplicasShareState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two stores on one prefix are two replicas of chatpay: a dialog saved on one
	// continues on the other.
	other := redis.New(b.client, b.prefix)
	require.NoError(t, b.d.Save(b.ctx, "tg:1:42", []byte("step one"), time.Minute))
	got, ok, err := other.Load(b.ctx, "tg:1:42")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "step one", string(got))
	require.NoError(t, other.Delete(b.ctx, "tg:1:42"))
	_, ok, err = b.d.Load(b.ctx, "tg:1:42")
	require.NoError(t, err)
	require.False(t, ok)
}

func TestDefaultPrefix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := redis.New(b.client, "")
	// The key itself is unique, since the prefix is shared with everyone.
	key := "test:" + b.prefix
	t.Cleanup(func() { b.client.Del(context.Background(), redis.DefaultPrefix+key) })

	require.NoError(t, d.Save(b.ctx, key, []byte("x"), time.Minute))
	require.Equal(t, "x", b.client.Get(b.ctx, "chatpay:dialog:"+key).Val())
}

func TestRedisErrorIsReturned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.client.RPush(b.ctx, b.prefix+"taken", "not a string").Err())

	_, ok, err := b.d.Load(b.ctx, "taken")
	require.ErrorContains(t, err, "dialog/redis: load taken: WRONGTYPE")
	require.False(t, ok)
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	d := redis.New(client, "")

	_, _, err := d.Load(context.Background(), "k")
	require.ErrorContains(t, err, "dialog/redis: load k: ")
	require.ErrorContains(t, d.Save(context.Background(), "k", []byte("x"), time.Minute), "dialog/redis: save k: ")
	require.ErrorContains(t, d.Delete(context.Background(), "k"), "dialog/redis: delete k: ")
}

func BenchmarkSaveLoad(b *testing.B) {
	client := openClient(b)
	ctx := context.Background()
	state := make([]byte, 512)

	b.Run("OneKey", func(b *testing.B) {
		d := redis.New(client, uniquePrefix(b, client))
		for b.Loop() {
			if err := d.Save(ctx, "tg:1:42", state, time.Minute); err != nil {
				b.Fatal(err)
			}
			if _, _, err := d.Load(ctx, "tg:1:42"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		d := redis.New(client, uniquePrefix(b, client))
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				key := "chat:" + strconv.Itoa(i%1000)
				if err := d.Save(ctx, key, state, time.Minute); err != nil {
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
