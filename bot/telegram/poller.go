package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// UpdateSource long-polls a bot's updates; Client is one.
type UpdateSource interface {
	GetUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]RawUpdate, error)
}

// Recorder records updates durably with their processing jobs and moves the polling
// offset, in one transaction; orders.Service is one.
type Recorder interface {
	RecordChatUpdates(ctx context.Context, shopID, source string, ups []*orders.ChatUpdate, next int64) (int, error)
	Store() orders.Store
}

// Poller takes a shop's updates by long polling. Telegram forgets an update once a
// getUpdates call sends an offset above it, so the offset that confirms a batch is
// sent only after the batch is recorded: a crash between the two makes Telegram send
// the batch again, and the store records it once. The offset itself is stored with
// the batch, so a restart resumes where the last recorded batch ended.
type Poller struct {
	Updates  UpdateSource
	Recorder Recorder
	ShopID   string
	// Source names the bot in recorded updates ("telegram:<bot id>").
	Source string
	// Wait is the long-poll timeout (default 25 s); Limit the most updates per call
	// (default 100, Telegram's maximum).
	Wait  time.Duration
	Limit int
	// Backoff bounds the pause after a failure, which doubles from Backoff/32 (default
	// 30 s); a 429's retry_after is honoured instead.
	Backoff time.Duration
	Logger  *slog.Logger
}

// Run polls until ctx ends. It returns nil when ctx ends and an error only when the
// stored offset cannot be read at start.
func (p *Poller) Run(ctx context.Context) error {
	wait, limit, maxBackoff := p.Wait, p.Limit, p.Backoff
	if wait <= 0 {
		wait = 25 * time.Second
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	if maxBackoff <= 0 {
		maxBackoff = 30 * time.Second
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("shop_id", p.ShopID, "source", p.Source)

	offset, err := p.Recorder.Store().ChatOffset(ctx, p.ShopID, p.Source)
	if err != nil {
		return err
	}
	backoff := time.Duration(0)
	pause := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	fail := func(what string, err error) bool {
		if after, ok := RetryAfter(err); ok {
			log.WarnContext(ctx, "telegram: rate limited", "op", what, "retry_after", after)
			return pause(after)
		}
		backoff = min(max(2*backoff, maxBackoff/32), maxBackoff)
		log.ErrorContext(ctx, "telegram: polling failed", "op", what, "err", err, "retry_in", backoff)
		return pause(backoff)
	}

	for ctx.Err() == nil {
		raw, err := p.Updates.GetUpdates(ctx, offset, wait, limit)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !fail("getUpdates", err) {
				return nil
			}
			continue
		}
		if len(raw) == 0 {
			backoff = 0
			continue
		}
		ups := make([]*orders.ChatUpdate, len(raw))
		next := offset
		for i, r := range raw {
			ups[i] = &orders.ChatUpdate{UpdateID: r.ID, Payload: r.JSON}
			next = max(next, r.ID+1)
		}
		// Recording must not be cut short by shutdown half way: a batch is small, and
		// what is recorded is what the next offset confirms.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_, err = p.Recorder.RecordChatUpdates(rctx, p.ShopID, p.Source, ups, next)
		cancel()
		if err != nil {
			// Not recorded, so not confirmed: the same batch comes again.
			if !fail("record", err) {
				return nil
			}
			continue
		}
		offset, backoff = next, 0
	}
	return nil
}

// Source names a bot in recorded updates: "telegram:" and the bot's id, which is the
// part of its token before the colon. Update ids are only unique per bot, so a shop
// that changes its bot starts a new sequence under a new source.
func Source(token string) (string, error) {
	id, _, ok := strings.Cut(token, ":")
	if !ok || id == "" || strings.Trim(id, "0123456789") != "" {
		return "", errors.New("telegram: the bot token must look like 123456:ABC…")
	}
	return "telegram:" + id, nil
}
