package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// orderWait is how long a message waits for an earlier one of its chat to go out.
const orderWait = 250 * time.Millisecond

// messageWorker delivers one queued outbound message through its conversation's
// channel and records the outcome.
type messageWorker struct {
	river.WorkerDefaults[orders.DeliverMessage]
	j *Jobs
}

func (w *messageWorker) Work(ctx context.Context, job *river.Job[orders.DeliverMessage]) error {
	svc := w.j.cfg.Service
	args := job.Args
	m, err := svc.Store().Message(ctx, args.ShopID, args.MessageID)
	if errors.Is(err, orders.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("message %s of shop %s no longer exists", args.MessageID, args.ShopID))
	} else if err != nil {
		return err
	}
	if m.Status != orders.MessageQueued {
		// A retry after the delivery was recorded: sending again would show the
		// customer the same message twice. The run that recorded it may have failed
		// at its last step, the look at the order after the record (see below).
		if m.Status == orders.MessageSent {
			return svc.RefreshStale(ctx, args.ShopID, m)
		}
		return nil
	}
	shop, err := svc.Shop(args.ShopID)
	if err != nil {
		return river.JobCancel(err)
	}
	conv, err := svc.Store().Conversation(ctx, args.ShopID, m.ConversationID)
	if err != nil {
		return err
	}
	// Messages of a chat go out in the order they were queued: while an earlier one
	// is still waiting (for a rate limit, or a retry), this one waits too.
	if earlier, err := svc.Store().QueuedBefore(ctx, m); err != nil {
		return err
	} else if earlier {
		return river.JobSnooze(orderWait)
	}
	var externalID string
	channel := conv.Channel
	if m.Direction == orders.DirectionStaff {
		// Staff work in the shop's Telegram operator group, whatever channel the
		// customer writes on.
		channel = orders.ChannelTelegram
	}
	ch, err := w.j.cfg.Channels.Get(channel)
	if err == nil {
		var wait time.Duration
		if wait, err = w.j.reserveFor(ctx, shop, conv, m.Direction); err == nil && wait > 0 {
			// The platform's rate limit is full: try again when a slot frees,
			// without counting this as a failed attempt.
			return river.JobSnooze(wait)
		}
	}
	if err == nil {
		if serr := settle(ctx, svc, args.ShopID, m); serr != nil {
			return serr
		}
		externalID, err = ch.Send(ctx, shop, conv, m)
	}
	// The delivery is recorded even if the job's context ran out meanwhile: a message
	// sent but not recorded would be sent again by the retry.
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if wait, ok := bot.RetryAfter(err); ok {
		// The platform said when to come back; that is not a failed attempt, and the
		// message stays queued.
		return river.JobSnooze(max(wait, time.Second))
	}
	if err != nil {
		final := bot.IsPermanent(err) || lastAttempt(job.JobRow)
		if rerr := svc.RecordDelivery(recordCtx, args.ShopID, m.ID, orders.MessageDelivery{Reason: err.Error()}, final); rerr != nil {
			return errors.Join(err, rerr)
		}
		if bot.IsPermanent(err) {
			return river.JobCancel(err)
		}
		return err
	}
	if err := svc.RecordDelivery(recordCtx, args.ShopID, m.ID, orders.MessageDelivery{Sent: true, ExternalID: externalID}, true); err != nil {
		return err
	}
	return svc.RefreshStale(recordCtx, args.ShopID, m)
}

// settle brings m, when it is an order card or Pay again message whose order changed
// while m was queued, up to date before it is sent: m is drawn when it is queued, and
// the RefreshCard job the change enqueued edits only messages already delivered.
// Without this, a customer whose order was paid or cancelled meanwhile would get a
// button that no longer works, and one whose hold was released at the gateway (the
// order payable again) would get a card that says paid. The settled text is stored before the send, so the dashboard and
// the web chat show what the customer got, and a retried delivery sends the same
// (settling again changes nothing). The store keeps one message, so the send and its
// record are deduplicated as for any message.
//
// That leaves an order paid after this look and before the delivery is recorded: its
// RefreshCard may run in between and find nothing delivered to edit. The job looks
// again once the delivery is recorded (Service.RefreshStale) and enqueues another
// RefreshCard if what it sent is stale. Making RefreshCard wait while a card is queued
// would tie it to the delivery, which may be held for a long time (a chat waiting on
// an earlier message's retries) or fail for good.
func settle(ctx context.Context, svc *orders.Service, shopID string, m *orders.Message) error {
	text, buttons, ok, err := svc.SettledText(ctx, shopID, m)
	if err != nil || !ok {
		return err
	}
	if err := svc.EditMessage(ctx, shopID, m.ConversationID, m.ID, text, buttons); err != nil {
		return err
	}
	m.Text, m.Buttons = text, buttons
	return nil
}

// reserveFor takes a slot for a message in direction: a staff message goes to the
// shop's operator group and counts against that group's limits.
func (j *Jobs) reserveFor(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, direction string) (time.Duration, error) {
	if direction == orders.DirectionStaff && j.cfg.OperatorChat != nil {
		if group := j.cfg.OperatorChat(shop.ID); group != 0 {
			staff := &orders.Conversation{ID: conv.ID, Channel: orders.ChannelTelegram, ExternalID: strconv.FormatInt(group, 10)}
			return j.reserve(ctx, shop, staff)
		}
	}
	return j.reserve(ctx, shop, conv)
}

// reserveEdit takes a slot for editing a delivered message: the chat's limit only
// (see bot.EditLimits).
func (j *Jobs) reserveEdit(ctx context.Context, shop *orders.Shop, conv *orders.Conversation) (time.Duration, error) {
	if j.cfg.Limiter == nil {
		return 0, nil
	}
	var account string
	if j.cfg.Account != nil {
		account = j.cfg.Account(shop, conv.Channel)
	}
	limits, err := bot.EditLimits(account, conv)
	if err != nil || len(limits) == 0 {
		return 0, err
	}
	return j.cfg.Limiter.Reserve(ctx, limits...)
}

// reserve takes a slot under the platform's limits for a conversation (per chat, per
// bot, per group) and returns how long to wait when there is none.
func (j *Jobs) reserve(ctx context.Context, shop *orders.Shop, conv *orders.Conversation) (time.Duration, error) {
	if j.cfg.Limiter == nil {
		return 0, nil
	}
	var account string
	if j.cfg.Account != nil {
		account = j.cfg.Account(shop, conv.Channel)
	}
	limits, err := bot.ConversationLimits(account, conv)
	if err != nil || len(limits) == 0 {
		return 0, err
	}
	return j.cfg.Limiter.Reserve(ctx, limits...)
}

// noticeWorker delivers a notice to the shop's staff.
type noticeWorker struct {
	river.WorkerDefaults[orders.DeliverNotice]
	j *Jobs
}

func (w *noticeWorker) Work(ctx context.Context, job *river.Job[orders.DeliverNotice]) error {
	svc := w.j.cfg.Service
	n, err := svc.Store().Notice(ctx, job.Args.ShopID, job.Args.NoticeID)
	if errors.Is(err, orders.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("notice %s of shop %s no longer exists", job.Args.NoticeID, job.Args.ShopID))
	} else if err != nil {
		return err
	}
	shop, err := svc.Shop(n.ShopID)
	if err != nil {
		return river.JobCancel(err)
	}
	if w.j.cfg.Notifier == nil {
		// No operator chat is configured: the notice stays listed in the API, and the
		// log carries it for whoever runs chatpay.
		w.j.log.Info("notice for shop staff", "shop", n.ShopID, "kind", n.Kind, "order_id", n.OrderID, "text", n.Text)
		return nil
	}
	// The operator group's limits (20 messages a minute) are shared with the staff
	// messages of every customer's topic.
	if wait, err := w.j.reserveFor(ctx, shop, &orders.Conversation{ID: "notices"}, orders.DirectionStaff); err != nil {
		return err
	} else if wait > 0 {
		return river.JobSnooze(wait)
	}
	if err := w.j.cfg.Notifier.Notify(ctx, shop, n); err != nil {
		var limited *bot.RateLimitedError
		switch {
		case errors.As(err, &limited):
			return river.JobSnooze(limited.After)
		case bot.IsPermanent(err):
			return river.JobCancel(err)
		}
		return err
	}
	return nil
}

// refundWorker asks the gateway to refund and records its answer. The refund's
// idempotency key is deterministic, so a retry after a lost answer cannot refund twice.
type refundWorker struct {
	river.WorkerDefaults[orders.ProcessRefund]
	j *Jobs
}

func (w *refundWorker) Work(ctx context.Context, job *river.Job[orders.ProcessRefund]) error {
	svc := w.j.cfg.Service
	args := job.Args
	r, err := svc.Store().Refund(ctx, args.ShopID, args.RefundID)
	if errors.Is(err, orders.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("refund %s of shop %s no longer exists", args.RefundID, args.ShopID))
	} else if err != nil {
		return err
	}
	if r.Status != orders.RefundPending {
		return nil
	}
	p, err := svc.Store().Payment(ctx, args.ShopID, r.PaymentID)
	if err != nil {
		return err
	}
	var sessionID string
	if p.AttemptID != "" {
		a, err := svc.Store().Attempt(ctx, args.ShopID, p.AttemptID)
		if err != nil && !errors.Is(err, orders.ErrNotFound) {
			return err
		}
		if a != nil {
			sessionID = a.SessionID
		}
	}
	gw, err := w.j.cfg.Gateways.Get(args.ShopID, p.Gateway)
	if err != nil {
		// The gateway was disabled since the payment: nobody can refund automatically.
		return svc.CompleteRefund(ctx, args.ShopID, r.ID, orders.RefundResult{Reason: orders.ErrorMessage(err)})
	}
	res, err := gw.Refund(ctx, gateway.RefundRequest{
		PaymentRef:     p.GatewayRef,
		SessionID:      sessionID,
		Amount:         r.Amount,
		Currency:       r.Currency,
		IdempotencyKey: r.IdempotencyKey,
	})
	if err != nil {
		// A gateway that says the request itself is wrong will say so again; anything
		// else (timeouts, 5xx) is worth retrying until the attempts run out.
		// When the retries run out on an unknown outcome the refund stays pending:
		// marking it failed would make the amount refundable again although the
		// gateway may have paid it back.
		if orders.ErrorCode(err) == orders.EINVALID || orders.ErrorCode(err) == orders.ECONFLICT {
			return svc.CompleteRefund(ctx, args.ShopID, r.ID, orders.RefundResult{Reason: orders.ErrorMessage(err)})
		}
		return err
	}
	return svc.CompleteRefund(ctx, args.ShopID, r.ID, orders.RefundResult{Succeeded: true, GatewayRef: res.ID})
}

// reconcileWorker asks gateways about attempts left unconfirmed and applies what they
// say, as if the webhook had arrived. Its event IDs are deterministic per session and
// status, so running twice, or alongside the real webhook, changes nothing twice.
type reconcileWorker struct {
	river.WorkerDefaults[orders.ReconcileAttempts]
	j *Jobs
}

// reconcileBatch bounds one read of candidates; see reconcileCursor.
const reconcileBatch = 200

func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[orders.ReconcileAttempts]) error {
	_, err := w.j.Reconcile(ctx)
	return err
}

// Reconcile runs one reconciliation pass and returns how many attempts it settled.
func (j *Jobs) Reconcile(ctx context.Context) (int, error) {
	svc := j.cfg.Service
	now := svc.Now()
	stale, err := j.reconcile.next(ctx, svc.Store(), now.Add(-j.cfg.ReconcileWindow), now.Add(-j.cfg.ReconcileAfter))
	if err != nil {
		return 0, err
	}
	var settled int
	var errs []error
	for _, a := range stale {
		if a.SessionID == "" {
			continue // the gateway never created a session: there is nothing to ask
		}
		gw, err := j.cfg.Gateways.Get(a.ShopID, a.Gateway)
		if err != nil {
			continue
		}
		st, err := gw.SessionStatus(ctx, a.SessionID)
		if err != nil {
			errs = append(errs, fmt.Errorf("attempt %s: %w", a.ID, err))
			continue
		}
		switch st.Status {
		case orders.EventSucceeded, orders.EventFailed, orders.EventPending:
		default:
			continue // the customer has not finished; ask again next time
		}
		if st.Status == orders.EventPending && a.Status == orders.AttemptPending {
			continue
		}
		ev := &orders.GatewayEvent{
			ShopID:     a.ShopID,
			Gateway:    a.Gateway,
			EventID:    "reconcile:" + a.SessionID + ":" + st.Status,
			Type:       st.Status,
			SessionID:  a.SessionID,
			PaymentRef: st.PaymentRef,
			Amount:     st.Amount,
			Currency:   st.Currency,
			Authorized: st.Authorized,
			Reason:     st.Reason,
			ReceivedAt: time.Now().UTC(),
		}
		res, err := svc.ApplyEvent(ctx, ev)
		if err != nil {
			errs = append(errs, fmt.Errorf("attempt %s: %w", a.ID, err))
			continue
		}
		if !res.Duplicate && res.Outcome == orders.OutcomeApplied {
			settled++
			j.log.Info("reconciled payment attempt", "shop", a.ShopID, "attempt_id", a.ID, "gateway", a.Gateway, "status", st.Status)
		}
	}
	return settled, errors.Join(errs...)
}

// chatUpdateWorker hands a recorded chat update to the conversation handler.
type chatUpdateWorker struct {
	river.WorkerDefaults[orders.ProcessChatUpdate]
	j *Jobs
}

func (w *chatUpdateWorker) Work(ctx context.Context, job *river.Job[orders.ProcessChatUpdate]) error {
	args := job.Args
	svc := w.j.cfg.Service
	shop, err := svc.Shop(args.ShopID)
	if err != nil {
		return river.JobCancel(err)
	}
	// One chat's updates are handled in the order the platform numbered them: a
	// customer's message before the owner's command that depends on it. The update
	// and whether an earlier one of its chat is unprocessed come in one read.
	u, waiting, err := svc.Store().ChatUpdateToHandle(ctx, args.ShopID, args.Source, args.UpdateID)
	if errors.Is(err, orders.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("chat update %s/%d of shop %s is not recorded", args.Source, args.UpdateID, args.ShopID))
	} else if err != nil {
		return err
	}
	if u.ProcessedAt != nil {
		return nil // a retry after the work was done
	}
	if waiting {
		return river.JobSnooze(chatOrderWait)
	}
	if w.j.cfg.ChatHandler != nil {
		err = w.j.cfg.ChatHandler.HandleUpdate(ctx, shop, u)
	}
	done := func(cause error) error {
		// Done, or given up on: either way the chat's next update may go. The mark
		// is written after the handler's own writes have committed, together with
		// other jobs' marks (markBatcher): folding it into the handler's last
		// transaction would need to know which one is last, and a handler may write
		// again after recording the message (a start link's order claim).
		markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return errors.Join(cause, w.j.marks.Mark(markCtx, u))
	}
	var limited *bot.RateLimitedError
	switch {
	case err == nil:
		return done(nil)
	case errors.As(err, &limited):
		// The handler hit a platform limit (a draft's edit answered 429): handle
		// the update again once the limit allows. Nothing it did twice repeats.
		return river.JobSnooze(max(limited.After, chatOrderWait))
	case bot.IsPermanent(err):
		// Retrying cannot help (an update the handler cannot read); the update stays
		// recorded for a person to look at.
		w.j.log.Warn("chat update not processed", "shop_id", args.ShopID, "source", args.Source, "update_id", args.UpdateID, "err", err)
		if merr := done(nil); merr != nil {
			return merr
		}
		return river.JobCancel(err)
	case lastAttempt(job.JobRow):
		return done(err)
	}
	return err
}

// chatOrderWait is how long an update waits for an earlier one of its chat.
const chatOrderWait = 100 * time.Millisecond

// refreshCardWorker edits an order's delivered cards to show what became of the order,
// and its delivered Pay again messages so that they no longer invite the customer to
// pay it.
type refreshCardWorker struct {
	river.WorkerDefaults[orders.RefreshCard]
	j *Jobs
}

// cardEdit is one delivered message and what it should read now.
type cardEdit struct {
	kind, messageID, externalID, text string
	buttons                           []orders.Button
}

func (w *refreshCardWorker) Work(ctx context.Context, job *river.Job[orders.RefreshCard]) error {
	svc := w.j.cfg.Service
	u, ok, err := svc.CardUpdate(ctx, job.Args.ShopID, job.Args.OrderID)
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return river.JobCancel(err)
	} else if err != nil || !ok {
		return err
	}
	shop, err := svc.Shop(job.Args.ShopID)
	if err != nil {
		return river.JobCancel(err)
	}
	ch, err := w.j.cfg.Channels.Get(u.Conversation.Channel)
	if err != nil {
		return nil // no channel, nothing was delivered to edit
	}
	editor, ok := ch.(bot.Editor)
	if !ok {
		return nil // the channel cannot edit; the customer got the news as a message
	}
	// Two jobs for one order (paid, then cancelled a moment later) may run at once,
	// and the one that read the older state may edit last, leaving the card stale for
	// good. So after its edits the job reads the update again and, if the messages
	// should now read otherwise, edits them again. This converges: take the last edit
	// made to a message. The job that made it read the update once more after it; the
	// order's last change came before that read, since the job that change queued reads
	// only after it and would otherwise have edited later still. So that read shows the
	// final state, and it matched the edit, or the job would have edited again. The
	// update is compared as rendered, not by the order's version, so that a write that
	// changes nothing in the chat costs no edits.
	edits := cardEdits(u)
	var waited time.Duration
	for round := 1; ; round++ {
		if err := w.edit(ctx, shop, u.Conversation, editor, job.Args.OrderID, edits, &waited); err != nil {
			return err
		}
		next, ok, err := svc.CardUpdate(ctx, job.Args.ShopID, job.Args.OrderID)
		if orders.ErrorCode(err) == orders.ENOTFOUND || (err == nil && !ok) {
			// The order is gone, or its messages need no change any more: no
			// edit this job could make is due.
			return nil
		} else if err != nil {
			return err
		}
		now := cardEdits(next)
		if slices.EqualFunc(edits, now, cardEdit.same) {
			return nil
		}
		if round == maxCardRounds {
			// The order keeps changing under the edits. The jobs its changes queued
			// run too, but this one must not end on a state it knows to be stale:
			// it starts over shortly, from a fresh read.
			return river.JobSnooze(time.Second)
		}
		u, edits = next, now
	}
}

// maxCardRounds bounds how many times one run of the RefreshCard job edits the messages
// of an order that changes while it edits them.
const maxCardRounds = 3

// cardEdits lists the messages of u and what each should read.
func cardEdits(u *orders.CardUpdate) []cardEdit {
	edits := make([]cardEdit, 0, len(u.Cards)+len(u.PayAgain))
	for _, card := range u.Cards {
		edits = append(edits, cardEdit{card.Kind, card.ID, card.ExternalID, u.Text, u.Buttons})
	}
	for _, m := range u.PayAgain {
		edits = append(edits, cardEdit{m.Kind, m.ID, m.ExternalID, m.Text, m.Buttons})
	}
	return edits
}

// same reports whether e and o make the same edit.
func (e cardEdit) same(o cardEdit) bool {
	return e.kind == o.kind && e.messageID == o.messageID && e.externalID == o.externalID &&
		e.text == o.text && slices.Equal(e.buttons, o.buttons)
}

// edit makes the edits in conv, taking the chat's edit slots as it goes. It returns a
// snooze when the chat's limit asks for a longer wait than the job stands in place.
func (w *refreshCardWorker) edit(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, editor bot.Editor,
	orderID string, edits []cardEdit, waited *time.Duration) error {
	for _, e := range edits {
		// Each edit takes its own slot of the chat's limit. A snoozed job starts
		// over and redoes the edits made before, harmlessly (editing to the same
		// text changes nothing), but each takes a slot again: an order with more
		// messages than the chat allows at once (a card and a Pay again, on
		// Telegram's one a second) would never get past them. So the job waits in
		// place for the slots, up to maxEditWait in all.
		if wait, err := w.awaitEdit(ctx, shop, conv, waited); err != nil {
			return err
		} else if wait > 0 {
			return river.JobSnooze(wait)
		}
		err := editor.Edit(ctx, shop, conv, e.externalID, e.text, e.buttons)
		if wait, ok := bot.RetryAfter(err); ok {
			return river.JobSnooze(max(wait, time.Second))
		}
		if bot.IsPermanent(err) {
			// The message is gone (deleted by the customer, too old to edit): the
			// confirmation message still tells them, and the others are edited.
			w.j.log.Info("order message not edited", "shop_id", shop.ID, "order_id", orderID,
				"message_id", e.messageID, "kind", e.kind, "err", err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// maxEditWait bounds how long one run of the RefreshCard job waits in place for its
// chat's edit slots before it snoozes instead: a second or two per message on
// Telegram, well inside River's one-minute job timeout.
const maxEditWait = 20 * time.Second

// awaitEdit takes a slot for editing a message in conv, waiting for it while the wait
// keeps *waited within maxEditWait. Otherwise it takes nothing and returns the wait.
func (w *refreshCardWorker) awaitEdit(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, waited *time.Duration) (time.Duration, error) {
	for {
		wait, err := w.j.reserveEdit(ctx, shop, conv)
		if err != nil || wait <= 0 {
			return 0, err
		}
		if *waited+wait > maxEditWait {
			return wait, nil
		}
		*waited += wait
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}

// expireSessionsWorker expires, at their gateways, the checkout sessions a cancelled
// order's attempts left open, so that nobody pays a cancelled order through a session
// opened before the cancel. Expiring is idempotent at the gateway (gateway.
// SessionExpirer), so a rerun or a retry after a partial run is harmless.
type expireSessionsWorker struct {
	river.WorkerDefaults[orders.ExpireSessions]
	j *Jobs
}

func (w *expireSessionsWorker) Work(ctx context.Context, job *river.Job[orders.ExpireSessions]) error {
	args := job.Args
	attempts, err := w.j.cfg.Service.Store().OrderAttempts(ctx, args.ShopID, args.OrderID)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range attempts {
		// Only a created attempt's session can still take a payment. A pending one
		// was completed by the customer (a delayed payment method: the money is on
		// its way and cannot be stopped by expiring), and a succeeded or failed one
		// is settled; a payment that still arrives on a cancelled order is refunded
		// by the event that reports it. An attempt without a session never reached
		// its gateway.
		if a.Status != orders.AttemptCreated || a.SessionID == "" {
			continue
		}
		gw, err := w.j.cfg.Gateways.Get(a.ShopID, a.Gateway)
		if err != nil {
			continue // the gateway was disabled since: there is nobody to ask
		}
		expirer, ok := gw.(gateway.SessionExpirer)
		if !ok {
			continue // the gateway's sessions cannot be expired (or do not outlive the link)
		}
		err = expirer.ExpireSession(ctx, a.SessionID)
		switch code := orders.ErrorCode(err); {
		case err == nil:
		case code == orders.EINVALID || code == orders.ENOTFOUND:
			// Asking again would get the same answer: say so and go on with the
			// order's other sessions.
			w.j.log.Warn("checkout session not expired", "shop_id", a.ShopID, "order_id", a.OrderID, "attempt_id", a.ID, "gateway", a.Gateway, "err", err)
		default:
			// Timeouts, 5xx: River runs the job again, which asks again for every
			// session (those already expired answer nil).
			errs = append(errs, fmt.Errorf("attempt %s: %w", a.ID, err))
		}
	}
	return errors.Join(errs...)
}
