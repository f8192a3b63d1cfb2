package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-telegram/bot/models"
)

type queuedUpdate struct {
	id   int64
	kind string
	raw  json.RawMessage
}

// defaultExcluded are the update kinds Telegram leaves out when the bot has not
// listed allowed_updates.
var defaultExcluded = []string{"chat_member", "message_reaction", "message_reaction_count"}

// enqueue stores an update for getUpdates or the webhook. Telegram applies
// allowed_updates when an update is created, so filtered updates are dropped
// here and enqueue returns 0. The caller holds s.mu.
func (s *Server) enqueue(kind string, u *models.Update) int64 {
	if len(s.allowedUpdates) > 0 {
		if !slices.Contains(s.allowedUpdates, kind) {
			return 0
		}
	} else if slices.Contains(defaultExcluded, kind) {
		return 0
	}
	s.nextUpdateID++
	u.ID = s.nextUpdateID
	raw, err := json.Marshal(u)
	if err != nil {
		panic(fmt.Sprintf("telegramtest: encode update: %v", err))
	}
	s.updates = append(s.updates, queuedUpdate{id: u.ID, kind: kind, raw: raw})
	close(s.updateSignal)
	s.updateSignal = make(chan struct{})
	return u.ID
}

// PendingUpdates is the number of updates not yet confirmed (getUpdates) or
// delivered (webhook).
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// WaitPending blocks until no update is pending or ctx ends, for tests that
// need the bot to have consumed everything.
func (s *Server) WaitPending(ctx context.Context) error {
	for {
		s.mu.Lock()
		n := len(s.updates)
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

var (
	errWebhookActive = &apiError{Code: http.StatusConflict,
		Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	errOtherPoll = &apiError{Code: http.StatusConflict,
		Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
)

func getUpdates(s *Server, ctx context.Context, p params) (any, *apiError) {
	offset, err := p.int64("offset")
	if err != nil {
		return nil, err
	}
	limit, err := p.int("limit")
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, err := p.int("timeout")
	if err != nil {
		return nil, err
	}
	allowed, set, err := p.strings("allowed_updates")
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	if s.webhook != nil {
		s.mu.Unlock()
		return nil, errWebhookActive
	}
	if set {
		s.allowedUpdates = allowed
	}
	// Confirming: a positive offset forgets every update before it; a
	// negative one keeps only the last -offset updates.
	switch {
	case offset > 0:
		i := 0
		for i < len(s.updates) && s.updates[i].id < offset {
			i++
		}
		s.updates = slices.Delete(s.updates, 0, i)
	case offset < 0:
		if n := int(-offset); n < len(s.updates) {
			s.updates = slices.Delete(s.updates, 0, len(s.updates)-n)
		}
	}
	// A newer getUpdates ends the one still waiting, as on Telegram.
	close(s.pollKick)
	s.pollKick = make(chan struct{})
	kick := s.pollKick
	s.mu.Unlock()

	var deadline <-chan time.Time
	if timeout > 0 {
		tm := time.NewTimer(time.Duration(timeout) * time.Second)
		defer tm.Stop()
		deadline = tm.C
	}
	for {
		s.mu.Lock()
		if s.webhook != nil {
			s.mu.Unlock()
			return nil, errWebhookActive
		}
		if n := len(s.updates); n > 0 || timeout <= 0 {
			out := make([]json.RawMessage, 0, min(n, limit))
			for _, u := range s.updates[:min(n, limit)] {
				out = append(out, u.raw)
			}
			s.mu.Unlock()
			return out, nil
		}
		sig := s.updateSignal
		s.mu.Unlock()
		select {
		case <-sig:
		case <-kick:
			return nil, errOtherPoll
		case <-deadline:
			return []json.RawMessage{}, nil
		case <-ctx.Done():
			return []json.RawMessage{}, nil
		case <-s.closing:
			return []json.RawMessage{}, nil
		}
	}
}

type webhookState struct {
	url        string
	secret     string
	allowed    []string
	maxConn    int
	cancel     context.CancelFunc
	ctx        context.Context
	lastErr    time.Time
	lastErrMsg string
}

func setWebhook(s *Server, _ context.Context, p params) (any, *apiError) {
	raw := p.str("url")
	allowed, set, aerr := p.strings("allowed_updates")
	if aerr != nil {
		return nil, aerr
	}
	maxConn, aerr := p.int("max_connections")
	if aerr != nil {
		return nil, aerr
	}
	secret := p.str("secret_token")
	if len(secret) > 256 || !validSecret(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	if raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			// Telegram insists on HTTPS; the emulator also takes http so tests
			// can point it at an httptest server.
			return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closing:
		// Close is waiting for the senders; starting one now would hang it.
		return nil, &apiError{Code: http.StatusServiceUnavailable, Description: "Service Unavailable: the emulator is shutting down"}
	default:
	}
	s.stopWebhook()
	if p.bool("drop_pending_updates") {
		s.updates = nil
	}
	if set {
		s.allowedUpdates = allowed
	}
	if raw == "" {
		return true, nil
	}
	if maxConn == 0 {
		maxConn = 40
	}
	ctx, cancel := context.WithCancel(context.Background())
	wh := &webhookState{url: raw, secret: secret, allowed: allowed, maxConn: maxConn, ctx: ctx, cancel: cancel}
	s.webhook = wh
	// Long polls still waiting end with a conflict, as on Telegram.
	close(s.pollKick)
	s.pollKick = make(chan struct{})
	s.bg.Go(func() { s.runWebhook(wh) })
	return true, nil
}

func validSecret(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// stopWebhook ends the delivery loop. The caller holds s.mu.
func (s *Server) stopWebhook() {
	if s.webhook != nil {
		s.webhook.cancel()
		s.webhook = nil
	}
}

func deleteWebhook(s *Server, _ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopWebhook()
	if p.bool("drop_pending_updates") {
		s.updates = nil
	}
	return true, nil
}

func getWebhookInfo(s *Server, _ context.Context, _ params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := &models.WebhookInfo{PendingUpdateCount: len(s.updates)}
	if wh := s.webhook; wh != nil {
		info.URL = wh.url
		info.MaxConnections = wh.maxConn
		info.AllowedUpdates = slices.Clone(wh.allowed)
		if !wh.lastErr.IsZero() {
			info.LastErrorDate = int(wh.lastErr.Unix())
			info.LastErrorMessage = wh.lastErrMsg
		}
	}
	return info, nil
}

// runWebhook posts pending updates to the webhook one at a time, in order,
// and retries each until the receiver answers 2xx.
func (s *Server) runWebhook(wh *webhookState) {
	client := &http.Client{Timeout: 10 * time.Second}
	wait := time.Duration(0)
	for {
		s.mu.Lock()
		if s.webhook != wh {
			s.mu.Unlock()
			return
		}
		if len(s.updates) == 0 {
			sig := s.updateSignal
			s.mu.Unlock()
			select {
			case <-sig:
			case <-wh.ctx.Done():
				return
			}
			continue
		}
		u := s.updates[0]
		s.mu.Unlock()

		errMsg := s.post(client, wh, u.raw)

		s.mu.Lock()
		s.whAttempts++
		if errMsg == "" {
			s.deliveries++
			if len(s.updates) > 0 && s.updates[0].id == u.id {
				s.updates = s.updates[1:]
			}
			wait = 0
		} else {
			wh.lastErr, wh.lastErrMsg = s.now(), errMsg
			wait = min(max(2*wait, s.cfg.webhookBackoff), s.cfg.webhookMaxWait)
		}
		s.mu.Unlock()
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-wh.ctx.Done():
				return
			}
		}
	}
}

// post delivers one update and returns "" on 2xx or the error Telegram would
// show in getWebhookInfo.
func (s *Server) post(client *http.Client, wh *webhookState, body []byte) string {
	req, err := http.NewRequestWithContext(wh.ctx, http.MethodPost, wh.url, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if wh.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", wh.secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "Connection refused"
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Sprintf("Wrong response from the webhook: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return ""
}

// WebhookDeliveries is the number of updates the webhook acknowledged with 2xx.
func (s *Server) WebhookDeliveries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliveries
}

// WebhookAttempts is the number of POSTs made to webhooks, failed ones included.
func (s *Server) WebhookAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.whAttempts
}
