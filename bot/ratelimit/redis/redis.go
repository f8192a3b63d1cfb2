// Package redis is the bot.Limiter shared between chatpay's replicas, kept in Redis.
//
// It is the same sliding window log as bot/ratelimit/memory, one sorted set per key
// (score: the reservation's time in microseconds), checked and updated by one Lua
// script over all of a reservation's keys. Redis runs a script without interleaving
// other commands, which makes a reservation under several keys atomic; the script
// reads Redis's own clock (TIME), so replicas whose clocks disagree still count in one
// timeline. Every key expires once its window has passed without a reservation.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chatpay/chatpay/bot"
)

// DefaultPrefix is put before every limit key when New is given none.
const DefaultPrefix = "chatpay:rl:"

// reserveScript reserves one slot under every key in KEYS, or none.
//
// ARGV[1] names this reservation's entry; it is unique per call, because two
// reservations in the same microsecond must be two entries of the set, not one.
// ARGV[2i] and ARGV[2i+1] are the events and the window in microseconds of KEYS[i].
//
// It returns 0 when the slots were taken, or else the microseconds until every full
// key has a free slot.
var reserveScript = goredis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local events = tonumber(ARGV[2 * i])
  local per = tonumber(ARGV[2 * i + 1])
  -- An entry exactly a window old no longer counts.
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - per)
  local n = redis.call('ZCARD', key)
  if n >= events then
    -- The slot frees when the entry events places from the newest leaves the window.
    local entry = redis.call('ZRANGE', key, n - events, n - events, 'WITHSCORES')
    local w = tonumber(entry[2]) + per - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local per = tonumber(ARGV[2 * i + 1])
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, math.ceil(per / 1000))
end
return 0
`)

// Limiter is a bot.Limiter kept in Redis. It is safe for concurrent use.
type Limiter struct {
	client goredis.UniversalClient
	prefix string
	// id and seq make each reservation's entry name unique across replicas.
	id  string
	seq atomic.Uint64
}

var _ bot.Limiter = (*Limiter)(nil)

// New returns a Limiter keeping its keys in client under prefix (DefaultPrefix when
// empty). On Redis Cluster all keys of one reservation must hash to one slot; the
// limits from bot.TelegramLimits and bot.MessengerLimits share a {hash tag} for that.
func New(client goredis.UniversalClient, prefix string) *Limiter {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails.
	return &Limiter{client: client, prefix: prefix, id: hex.EncodeToString(id[:])}
}

// Reserve implements bot.Limiter.
func (l *Limiter) Reserve(ctx context.Context, limits ...bot.Limit) (time.Duration, error) {
	if err := bot.ValidateLimits(limits); err != nil {
		return 0, err
	}
	if len(limits) == 0 {
		return 0, nil
	}
	keys := make([]string, len(limits))
	args := make([]any, 1+2*len(limits))
	args[0] = l.id + ":" + strconv.FormatUint(l.seq.Add(1), 10)
	for i, lim := range limits {
		keys[i] = l.prefix + lim.Key
		args[1+2*i] = lim.Events
		// Rounded up, so that a window is never shorter in Redis than asked.
		args[2+2*i] = int64((lim.Per + time.Microsecond - 1) / time.Microsecond)
	}
	wait, err := reserveScript.Run(ctx, l.client, keys, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("ratelimit/redis: reserve %s: %w", limits[0].Key, err)
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// Open connects to a redis:// or rediss:// URL and checks that Redis answers, so that
// a wrong URL stops start-up instead of surfacing on the first message. Errors name
// the address, never the password.
func Open(rawURL string) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, password included; its cause does not.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("ratelimit/redis: redis_url: %w", err)
	}
	client := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("ratelimit/redis: ping %s: %w", opts.Addr, err)
	}
	return client, nil
}
