// Package redistest gives tests the local Redis: its URL, a connected client, and key
// prefixes of their own. A test that needs Redis skips when it does not answer, unless
// CHATPAY_REQUIRE_SERVICES=1 (as .ci/run sets), where it fails instead.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// URL is the Redis tests use: CHATPAY_TEST_REDIS_URL, or database 15 of the local one.
func URL() string {
	if u := os.Getenv("CHATPAY_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// Client connects to URL and pings it; the client is closed when the test ends.
func Client(tb testing.TB) *goredis.Client {
	tb.Helper()
	opts, err := goredis.ParseURL(URL())
	if err != nil {
		tb.Fatalf("CHATPAY_TEST_REDIS_URL: %v", err)
	}
	client := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		if os.Getenv("CHATPAY_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("redis unreachable and CHATPAY_REQUIRE_SERVICES=1: %v", err)
		}
		tb.Skipf("redis unreachable (set CHATPAY_TEST_REDIS_URL): %v", err)
	}
	tb.Cleanup(func() { _ = client.Close() })
	return client
}

// Prefix returns a key prefix under namespace that no other test uses, and deletes
// its keys when the test ends (they would expire anyway).
func Prefix(tb testing.TB, client *goredis.Client, namespace string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := namespace + ":test:" + hex.EncodeToString(b[:]) + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		if keys, err := client.Keys(ctx, prefix+"*").Result(); err == nil && len(keys) > 0 {
			client.Del(ctx, keys...)
		}
	})
	return prefix
}
