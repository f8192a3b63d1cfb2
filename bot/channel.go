// Package bot is chatpay's channel-agnostic conversation layer. A Channel delivers
// outbound messages to one chat platform; adapters live in bot/webchat, and later
// bot/telegram and bot/messenger.
package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// Channel delivers messages to conversations on one platform.
type Channel interface {
	// Name is the channel's name as stored on conversations ("webchat", "telegram").
	Name() string
	// Send delivers one message and returns the platform's id for it. It must be safe
	// to call again for the same message after a failure (the job retries).
	Send(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, m *orders.Message) (externalID string, err error)
}

// Editor is a Channel that can change a message it delivered (Telegram edits it in
// place); channels without it leave delivered messages as they are.
type Editor interface {
	Edit(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, externalID, text string, buttons []orders.Button) error
}

// PermanentError marks a delivery failure that retrying cannot fix (the chat is gone,
// the channel is not configured); the job gives up at once and the message shows failed.
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return e.Reason }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RateLimitedError reports that the platform refused a send for now and said when to
// try again (Telegram's 429 with retry_after). The job waits that long instead of
// counting a failed attempt.
type RateLimitedError struct {
	After time.Duration
	Err   error
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s: %v", e.After, e.Err)
}

func (e *RateLimitedError) Unwrap() error { return e.Err }

// RetryAfter returns how long the platform asked to wait, when err says so.
func RetryAfter(err error) (time.Duration, bool) {
	var r *RateLimitedError
	if errors.As(err, &r) {
		return r.After, true
	}
	return 0, false
}

// Channels maps channel names to adapters.
type Channels map[string]Channel

// Get returns the channel for a conversation, or a PermanentError when none is set up.
func (c Channels) Get(name string) (Channel, error) {
	ch, ok := c[name]
	if !ok {
		return nil, &PermanentError{Reason: "The " + name + " channel is not configured for this shop."}
	}
	return ch, nil
}
