// Package memory is the in-process bot.Dialogs, used when chatpay runs without Redis
// (one process then receives every message of a conversation, so its memory is the
// whole truth).
//
// State lives in one map guarded by a mutex. Expiry is checked on every read, so an
// expired entry is never returned, and expired entries are swept when the map has
// doubled since the last sweep, so that abandoned dialogs do not grow memory without
// bound. No goroutine runs in the background: a Dialogs needs no Close.
package memory

import (
	"context"
	"sync"
	"time"

	"github.com/chatpay/chatpay/bot"
)

// minSweep is the size below which the map is never swept: sweeping a few entries
// frees nothing worth the walk.
const minSweep = 1024

// Options configure a Dialogs.
type Options struct {
	// Now returns the current time; nil means time.Now. Tests pass a fake clock.
	Now func() time.Time
}

// Dialogs is a bot.Dialogs for one process. It is safe for concurrent use.
type Dialogs struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry
	// sweepAt is the map size at which the next new key sweeps. It is twice the live
	// entries after the last sweep, so sweeping costs O(1) per key saved and the map
	// holds at most about twice the live dialogs (or minSweep).
	sweepAt int
}

// entry is one key's state and the instant it expires. An entry whose expiry has come
// is gone: one saved for ttl is there for exactly ttl.
type entry struct {
	state   []byte
	expires time.Time
}

var _ bot.Dialogs = (*Dialogs)(nil)

// New returns an empty Dialogs.
func New(opts Options) *Dialogs {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Dialogs{now: now, entries: make(map[string]entry), sweepAt: minSweep}
}

// Load implements bot.Dialogs. The state returned is the caller's own copy.
func (d *Dialogs) Load(ctx context.Context, key string) ([]byte, bool, error) {
	if err := bot.ValidateDialogKey(key); err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[key]
	if !ok {
		return nil, false, nil
	}
	if !d.now().Before(e.expires) {
		delete(d.entries, key)
		return nil, false, nil
	}
	return append([]byte{}, e.state...), true, nil
}

// Save implements bot.Dialogs. It keeps its own copy of state, so the caller may reuse
// the slice.
func (d *Dialogs) Save(ctx context.Context, key string, state []byte, ttl time.Duration) error {
	if err := bot.ValidateDialog(key, state, ttl); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Copied before taking the lock, which every other call waits on.
	e := entry{state: append([]byte{}, state...)}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e.expires = now.Add(ttl)
	if _, ok := d.entries[key]; !ok && len(d.entries) >= d.sweepAt {
		d.sweep(now)
	}
	d.entries[key] = e
	return nil
}

// Delete implements bot.Dialogs.
func (d *Dialogs) Delete(ctx context.Context, key string) error {
	if err := bot.ValidateDialogKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.entries, key)
	return nil
}

// sweep forgets expired entries and sets the size of the next sweep. It moves the live
// entries to a new map rather than deleting from the old one, because a Go map never
// gives back the room it once grew to: after a burst of dialogs, only a new map lets
// the memory go.
func (d *Dialogs) sweep(now time.Time) {
	live := 0
	for _, e := range d.entries {
		if now.Before(e.expires) {
			live++
		}
	}
	entries := make(map[string]entry, live)
	for key, e := range d.entries {
		if now.Before(e.expires) {
			entries[key] = e
		}
	}
	d.entries = entries
	d.sweepAt = max(minSweep, 2*live)
}

// Len returns how many entries the store holds, expired or not, for tests and
// metrics.
func (d *Dialogs) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.entries)
}
