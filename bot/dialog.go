package bot

import (
	"context"
	"fmt"
	"time"
)

// Dialogs keeps short-lived conversation state, such as a staff member's half-built
// order in a guided Telegram dialog, between the messages of one conversation. State
// is opaque bytes (the dialog encodes it) and lives for a TTL, so that an abandoned
// dialog is forgotten without anyone cleaning up. Implementations live in
// bot/dialog/memory (one process) and bot/dialog/redis (shared between replicas, so
// that the next message may reach another replica); both pass the contract suite in
// bot/dialog/dialogtest.
type Dialogs interface {
	// Load returns the state stored under key, ok=false when none or expired.
	Load(ctx context.Context, key string) (state []byte, ok bool, err error)
	// Save stores state under key for ttl (replacing what was there, renewing the TTL).
	Save(ctx context.Context, key string, state []byte, ttl time.Duration) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Bounds on what Dialogs accept. Keys are built from ids and state is a small encoded
// struct: anything larger is a bug that should not grow Redis (or the process) without
// bound. A TTL under a millisecond cannot be kept by Redis, whose PX counts whole
// milliseconds.
const (
	MaxDialogKey   = 256
	MaxDialogState = 64 << 10
	MinDialogTTL   = time.Millisecond
)

// ValidateDialogKey reports why key cannot name a dialog. Implementations call it
// first in Load and Delete, so that every Dialogs refuses the same keys.
func ValidateDialogKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("dialog: empty key")
	case len(key) > MaxDialogKey:
		return fmt.Errorf("dialog: key %.32q… is longer than %d bytes", key, MaxDialogKey)
	}
	return nil
}

// ValidateDialog reports why state cannot be saved under key for ttl. Implementations
// call it first in Save, so that every Dialogs refuses the same mistakes.
func ValidateDialog(key string, state []byte, ttl time.Duration) error {
	if err := ValidateDialogKey(key); err != nil {
		return err
	}
	switch {
	case len(state) > MaxDialogState:
		return fmt.Errorf("dialog: state of %d bytes under %q is over %d bytes", len(state), key, MaxDialogState)
	case ttl < MinDialogTTL:
		return fmt.Errorf("dialog: ttl %s for %q is under %s", ttl, key, MinDialogTTL)
	}
	return nil
}
