// Package redis is the sign-in throttle shared between chatpay's replicas, kept in
// Redis. Without it each replica counts failed sign-ins on its own, so an attacker
// spreading guesses over N replicas gets N times the attempts.
//
// It is the same sliding window log as auth.MemoryThrottle: one sorted set per key
// whose scores are the failures' times in microseconds. Each operation is one Lua
// script over all its keys, which Redis runs without interleaving other commands, and
// the scripts read Redis's own clock (TIME), so replicas whose clocks disagree still
// count in one timeline. A key expires once its window has passed without a failure.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix is put before every throttle key when New is given none.
const DefaultPrefix = "chatpay:signin:"

// checkScript returns the microseconds until every key in KEYS is under ARGV[1]
// failures per ARGV[2] microseconds, 0 when all already are.
var checkScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local wait = 0
for _, key in ipairs(KEYS) do
  local n = redis.call('ZCOUNT', key, '(' .. (now - window), '+inf')
  if n >= max then
    local oldest = redis.call('ZRANGE', key, -max, -max, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
return wait
`)

// failScript records one failure under every key in KEYS. ARGV[1] and ARGV[2] are as
// in checkScript; ARGV[3] makes this failure's entry unique, because two failures in
// the same microsecond must be two entries of the set, not one.
var failScript = goredis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  redis.call('ZADD', key, now, now .. ':' .. ARGV[3])
  -- Only the last max failures can matter to a check; keeping no more bounds a key
  -- hammered by a script.
  redis.call('ZREMRANGEBYRANK', key, 0, -(max + 1))
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
end
return 0
`)

// Throttle is an auth.Throttle in Redis.
type Throttle struct {
	client *goredis.Client
	prefix string
	max    int
	window time.Duration
}

// New returns a throttle of max failures per window on client. prefix is put before
// every key ("" is DefaultPrefix), so that deployments and tests can share a Redis.
func New(client *goredis.Client, prefix string, max int, window time.Duration) *Throttle {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Throttle{client: client, prefix: prefix, max: max, window: window}
}

func (t *Throttle) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = t.prefix + k
	}
	return out
}

func (t *Throttle) args(extra ...any) []any {
	return append([]any{t.max, t.window.Microseconds()}, extra...)
}

// Check implements auth.Throttle.
func (t *Throttle) Check(ctx context.Context, keys ...string) (time.Duration, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	us, err := checkScript.Run(ctx, t.client, t.keys(keys), t.args()...).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis throttle: check: %w", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Fail implements auth.Throttle.
func (t *Throttle) Fail(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	if err := failScript.Run(ctx, t.client, t.keys(keys), t.args(hex.EncodeToString(nonce[:]))...).Err(); err != nil {
		return fmt.Errorf("redis throttle: fail: %w", err)
	}
	return nil
}

// Reset implements auth.Throttle.
func (t *Throttle) Reset(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := t.client.Del(ctx, t.keys(keys)...).Err(); err != nil {
		return fmt.Errorf("redis throttle: reset: %w", err)
	}
	return nil
}

// String names the throttle in logs.
func (t *Throttle) String() string {
	return "redis throttle (" + strconv.Itoa(t.max) + " per " + t.window.String() + ")"
}
