// Package redis is the bot.Dialogs shared between chatpay's replicas, kept in Redis:
// one string key per dialog, written with SET and a TTL (PX, or EX for whole seconds)
// so that Redis itself forgets an abandoned dialog when its TTL ends. Any replica may receive a conversation's next
// message, and it finds the state the last one saved.
package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chatpay/chatpay/bot"
)

// DefaultPrefix is put before every dialog key when New is given none.
const DefaultPrefix = "chatpay:dialog:"

// Dialogs is a bot.Dialogs kept in Redis. It is safe for concurrent use.
type Dialogs struct {
	client goredis.UniversalClient
	prefix string
}

var _ bot.Dialogs = (*Dialogs)(nil)

// New returns a Dialogs keeping its keys in client under prefix (DefaultPrefix when
// empty). The client may be the one the rate limiter uses; the prefixes keep them
// apart.
func New(client goredis.UniversalClient, prefix string) *Dialogs {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Dialogs{client: client, prefix: prefix}
}

// Load implements bot.Dialogs.
func (d *Dialogs) Load(ctx context.Context, key string) ([]byte, bool, error) {
	if err := bot.ValidateDialogKey(key); err != nil {
		return nil, false, err
	}
	state, err := d.client.Get(ctx, d.prefix+key).Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("dialog/redis: load %s: %w", key, err)
	}
	return state, true, nil
}

// Save implements bot.Dialogs. The TTL is rounded up to whole milliseconds, so that
// state never lives shorter in Redis than asked.
func (d *Dialogs) Save(ctx context.Context, key string, state []byte, ttl time.Duration) error {
	if err := bot.ValidateDialog(key, state, ttl); err != nil {
		return err
	}
	// go-redis sends any TTL that is not whole seconds as PX, truncated to whole
	// milliseconds: rounding up first keeps it from being shortened.
	ttl = (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
	if err := d.client.Set(ctx, d.prefix+key, state, ttl).Err(); err != nil {
		return fmt.Errorf("dialog/redis: save %s: %w", key, err)
	}
	return nil
}

// Delete implements bot.Dialogs.
func (d *Dialogs) Delete(ctx context.Context, key string) error {
	if err := bot.ValidateDialogKey(key); err != nil {
		return err
	}
	if err := d.client.Del(ctx, d.prefix+key).Err(); err != nil {
		return fmt.Errorf("dialog/redis: delete %s: %w", key, err)
	}
	return nil
}
