// Package memory is the in-process bot.Limiter, used when chatpay runs without Redis
// (one process is then the only sender, so its memory is the whole truth).
//
// It keeps a sliding window log per key: the times of the reservations that are still
// inside the key's window, at most Events of them. A reservation passes when every
// key has fewer than Events entries left after dropping those older than Per; when one
// is full, the wait is until its oldest relevant entry leaves the window.
package memory

import (
	"context"
	"sync"
	"time"

	"github.com/chatpay/chatpay/bot"
)

// sweepEvery is how often the limiter forgets idle keys. A key is idle once its newest
// entry has left its window, so forgetting it changes no answer; sweeping only bounds
// memory by the keys used within about a minute.
const sweepEvery = time.Minute

// Options configure a Limiter.
type Options struct {
	// Now returns the current time; nil means time.Now. Tests pass a fake clock.
	Now func() time.Time
}

// Limiter is a bot.Limiter for one process. It is safe for concurrent use. One mutex
// guards every key, which is what makes a reservation under several keys atomic; a
// reservation holds it for well under a microsecond.
type Limiter struct {
	now   func() time.Time
	epoch time.Time

	mu      sync.Mutex
	keys    map[string]*window
	sweepAt time.Duration
}

// window is one key's log, as offsets from the limiter's epoch so that the arithmetic
// is on integers and keeps the monotonic clock's guarantees.
type window struct {
	times []time.Duration // reservations still inside the window, oldest first
	per   time.Duration   // the longest span the key was reserved under
}

var _ bot.Limiter = (*Limiter)(nil)

// New returns an empty Limiter.
func New(opts Options) *Limiter {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		now:     now,
		epoch:   now(),
		keys:    make(map[string]*window),
		sweepAt: sweepEvery,
	}
}

// Reserve implements bot.Limiter.
func (l *Limiter) Reserve(ctx context.Context, limits ...bot.Limit) (time.Duration, error) {
	if err := bot.ValidateLimits(limits); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().Sub(l.epoch)
	if now >= l.sweepAt {
		l.sweep(now)
	}

	// First check every limit, so that a full one leaves the others untouched.
	var wait time.Duration
	for _, lim := range limits {
		w := l.keys[lim.Key]
		if w == nil {
			continue
		}
		w.trim(now - lim.Per)
		if n := len(w.times); n >= lim.Events {
			// The slot frees when the entry Events places from the newest leaves the
			// window; an entry exactly Per old no longer counts.
			if d := w.times[n-lim.Events] + lim.Per - now; d > wait {
				wait = d
			}
		}
	}
	if wait > 0 {
		return wait, nil
	}

	for _, lim := range limits {
		w := l.keys[lim.Key]
		if w == nil {
			w = &window{times: make([]time.Duration, 0, lim.Events)}
			l.keys[lim.Key] = w
		}
		w.times = append(w.times, now)
		w.per = max(w.per, lim.Per)
	}
	return 0, nil
}

// trim drops the entries at or before cutoff, moving the rest to the front so that the
// log never grows past the most entries one window held.
func (w *window) trim(cutoff time.Duration) {
	i := 0
	for i < len(w.times) && w.times[i] <= cutoff {
		i++
	}
	if i > 0 {
		w.times = w.times[:copy(w.times, w.times[i:])]
	}
}

// sweep forgets the keys whose every entry has left the window.
func (l *Limiter) sweep(now time.Duration) {
	for key, w := range l.keys {
		if n := len(w.times); n == 0 || w.times[n-1]+w.per <= now {
			delete(l.keys, key)
		}
	}
	l.sweepAt = now + sweepEvery
}

// Len returns how many keys the limiter remembers, for tests and metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
