package auth

import (
	"context"
	"sync"
	"time"
)

// Throttle counts failed sign-ins per key (an email within a shop, a client IP) and
// says when a key has failed too often recently. It is an interface so that replicas
// can share counts (auth/redis); MemoryThrottle serves one process.
type Throttle interface {
	// Check returns how long to wait before keys may try again: 0 when none of them
	// is over its limit, else the longest wait among those that are.
	Check(ctx context.Context, keys ...string) (time.Duration, error)
	// Fail records one failed attempt under each key.
	Fail(ctx context.Context, keys ...string) error
	// Reset forgets the failures recorded under each key.
	Reset(ctx context.Context, keys ...string) error
}

// MemoryThrottle allows Max failures per key in any span of Window (a sliding window
// of failure times), in one process.
type MemoryThrottle struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
	// lastSweep bounds memory: keys whose failures have all aged out are dropped at
	// most once per window, so that a scan of random emails cannot grow the map
	// without bound.
	lastSweep time.Time
}

// NewMemoryThrottle returns a throttle of max failures per window. now may be nil
// (time.Now).
func NewMemoryThrottle(max int, window time.Duration, now func() time.Time) *MemoryThrottle {
	if now == nil {
		now = time.Now
	}
	return &MemoryThrottle{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// trimLocked drops key's failures older than the window and returns the rest.
func (t *MemoryThrottle) trimLocked(key string, now time.Time) []time.Time {
	fs := t.failures[key]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-t.window)) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, key)
	} else {
		t.failures[key] = fs
	}
	return fs
}

func (t *MemoryThrottle) Check(_ context.Context, keys ...string) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range keys {
		fs := t.trimLocked(k, now)
		if len(fs) >= t.max {
			// The key frees up when its oldest counted failure leaves the window.
			wait = max(wait, fs[len(fs)-t.max].Add(t.window).Sub(now))
		}
	}
	return wait, nil
}

func (t *MemoryThrottle) Fail(_ context.Context, keys ...string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if now.Sub(t.lastSweep) > t.window {
		for k := range t.failures {
			t.trimLocked(k, now)
		}
		t.lastSweep = now
	}
	for _, k := range keys {
		fs := t.trimLocked(k, now)
		// Only the last max failures can matter to Check; keeping no more bounds a
		// key hammered by a script.
		if len(fs) >= t.max {
			fs = fs[len(fs)-t.max+1:]
		}
		t.failures[k] = append(fs, now)
	}
	return nil
}

func (t *MemoryThrottle) Reset(_ context.Context, keys ...string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.failures, k)
	}
	return nil
}
