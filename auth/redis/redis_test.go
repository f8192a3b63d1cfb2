package redis_test

import (
	"testing"
	"time"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/auth/redis"
	"github.com/chatpay/chatpay/internal/redistest"
)

func TestThrottleContract(t *testing.T) {
	t.Parallel()
	client := redistest.Client(t)
	authtest.RunThrottle(t, func(t *testing.T, max int, window time.Duration) auth.Throttle {
		return redis.New(client, redistest.Prefix(t, client, "chatpay:signin"), max, window)
	})
}
