package orders

import (
	"context"
	"errors"
	"slices"
)

// Payment statuses of an authorisation that is released instead of captured.
const (
	// PaymentStatusVoiding: chatpay asked the gateway to release the hold (the order was
	// cancelled before it was captured, or the payment was a duplicate) and a ProcessVoid
	// job is under way. Amount is still what is held.
	PaymentStatusVoiding = "voiding"
	// PaymentStatusVoided: the gateway released the hold and took nothing. Amount is 0,
	// as a captured payment's Amount is what was captured: no money moved, so the
	// payment adds nothing to what the order was paid, what can be refunded or what a
	// report sums.
	PaymentStatusVoided = "voided"
)

// Gateway event types about authorised payments. PaymentRef names the payment.
const (
	// EventCaptured: the gateway captured an authorised payment, because chatpay asked
	// (Service.CapturePayment) or someone did in the gateway's dashboard. Amount is what
	// was captured; 0 when the gateway does not say, which is read as all of it.
	EventCaptured = "captured"
	// EventVoided: the gateway released an authorised payment without capturing it,
	// because chatpay asked (a cancelled order), someone did in the gateway's
	// dashboard, or the authorisation expired.
	EventVoided = "voided"
)

// Message kinds about authorised payments.
const (
	// KindAuthorized tells the customer that their payment is authorised: the money is
	// held on their card and taken when the shop captures it. It replaces the paid
	// confirmation for such payments, which would say the money was taken.
	KindAuthorized = "authorized"
	// KindHoldReleased tells the customer that a hold on their card was released and
	// nothing was taken.
	KindHoldReleased = "hold_released"
)

// Notice kinds about authorised payments.
const (
	// NoticeAuthorized: an order's payment is authorised and waits to be captured.
	NoticeAuthorized = "authorized"
	// NoticeVoidFailed: the gateway refused to release a hold chatpay asked it to
	// release; the money is still held and staff must release it at the gateway.
	NoticeVoidFailed = "void_failed"
	// NoticeHoldReleased: the hold of an order that was not cancelled was released at
	// the gateway (in its dashboard, or it expired), so the order awaits payment again.
	NoticeHoldReleased = "hold_released"
	// NoticeCapturedCancelled: an authorised payment of a cancelled order was captured
	// at the gateway after all; chatpay refunds it.
	NoticeCapturedCancelled = "captured_cancelled"
)

// ProcessVoid asks the gateway to release an authorised payment that chatpay will not
// capture. Key is the gateway's idempotency key: deterministic (VoidKey), because a
// payment is released at most once, so a retried job can never release anything else.
type ProcessVoid struct {
	ShopID    string `json:"shop_id"`
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id"`
	Key       string `json:"key"`
}

func (ProcessVoid) Kind() string { return "process_void" }

// VoidKey is the idempotency key of the request that releases payment paymentID.
func VoidKey(paymentID string) string { return "chatpay-void-" + paymentID }

// VoidResult is what the gateway answered to a void request.
type VoidResult struct {
	Succeeded bool
	Reason    string
}

// held reports whether p is money the gateway only holds: authorised, or on its way to
// being captured or released.
func held(p *Payment) bool {
	switch p.Status {
	case PaymentStatusAuthorized, PaymentStatusCapturing, PaymentStatusVoiding:
		return true
	}
	return false
}

// startVoid marks an authorised payment voiding and enqueues the job that releases it,
// in the caller's transaction.
func (s *Service) startVoid(ctx context.Context, tx Tx, o *Order, p *Payment) error {
	p.Status = PaymentStatusVoiding
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	return tx.Enqueue(ctx, ProcessVoid{ShopID: o.ShopID, OrderID: o.ID, PaymentID: p.ID, Key: VoidKey(p.ID)})
}

// CompleteVoid records the gateway's answer to the release of payment paymentID of
// order orderID. On success the payment is voided and the customer is told that the
// hold was released; on failure the payment is authorised again (the money is still
// held) and staff are told to release it in the gateway's dashboard, whose webhook
// then completes the release. An answer for a payment that is no longer voiding (the
// gateway's webhook came first, or the job ran twice) changes nothing.
func (s *Service) CompleteVoid(ctx context.Context, shopID, orderID, paymentID string, res VoidResult) error {
	_, err := s.update(ctx, shopID, orderID, func(tx Tx, shop *Shop, o *Order) error {
		i := slices.IndexFunc(o.Payments, func(p *Payment) bool { return p.ID == paymentID })
		if i < 0 {
			return Errorf(ENOTFOUND, "Order %s has no payment %s.", o.Code, paymentID)
		}
		p := o.Payments[i]
		if p.Status != PaymentStatusVoiding {
			return nil
		}
		if res.Succeeded {
			return s.recordVoid(ctx, tx, shop, o, p)
		}
		p.Status = PaymentStatusAuthorized
		if err := tx.UpdatePayment(ctx, p); err != nil {
			return err
		}
		return s.notify(ctx, tx, shop, o, NoticeVoidFailed, MessageData{Amount: p.Amount, Reason: res.Reason})
	})
	return err
}

// recordVoid records that the gateway released payment p of order o, which chatpay
// wanted released (p is voiding, a duplicate, or its order is cancelled): the payment
// is voided, the order's payment status no longer says authorised, and the customer is
// told. The caller holds the order's lock.
func (s *Service) recordVoid(ctx context.Context, tx Tx, shop *Shop, o *Order, p *Payment) error {
	released := p.Amount
	p.Status, p.Amount = PaymentStatusVoided, 0
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	if !p.Duplicate && o.PaymentStatus == PaymentAuthorized {
		// The order's one payment was only held, and nothing of it was taken.
		o.PaymentStatus = PaymentUnpaid
	}
	return s.queueMessage(ctx, tx, shop, o, KindHoldReleased, MessageData{Amount: released})
}

// paymentForEvent finds, under its order's lock, the payment an event (a capture, a
// release, a dispute) names by its gateway reference. It returns nil when chatpay has
// no such payment: not recorded yet (its webhook comes later), or money taken
// elsewhere on the same gateway account.
func (s *Service) paymentForEvent(ctx context.Context, tx Tx, shop *Shop, ev *GatewayEvent) (*Order, *Payment, error) {
	if ev.PaymentRef == "" {
		return nil, nil, nil
	}
	p, err := tx.PaymentByRef(ctx, shop.ID, ev.Gateway, ev.PaymentRef)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	o, err := tx.LockOrder(ctx, shop.ID, p.OrderID)
	if err != nil {
		return nil, nil, err
	}
	i := slices.IndexFunc(o.Payments, func(q *Payment) bool { return q.ID == p.ID })
	if i < 0 {
		return o, nil, nil
	}
	return o, o.Payments[i], nil
}

// applyVoided applies an EventVoided: the gateway released a hold. A payment chatpay
// was releasing, a duplicate, or one of a cancelled order (whose release failed and was
// then done in the gateway's dashboard) is voided and the customer told, as
// CompleteVoid does; the webhook and the job's own answer may come in either order and
// the second changes nothing.
//
// The hold of an order that is still open was released without chatpay (in the
// dashboard, or it expired): nothing is held for the order any more, so it goes back
// to awaiting payment, which makes its link payable again, and staff are told to send
// the link again or cancel the order. The customer is told that the hold was released
// and their cards offer Pay now again (see releasedAtGateway).
func (s *Service) applyVoided(ctx context.Context, tx Tx, shop *Shop, ev *GatewayEvent) (string, *Order, error) {
	o, p, err := s.paymentForEvent(ctx, tx, shop, ev)
	if err != nil {
		return "", nil, err
	}
	if p == nil {
		return awaitingOutcome(ev), o, nil
	}
	if !held(p) {
		return OutcomeIgnored, o, nil // captured, or released already
	}
	before := *o
	if err := s.releasedAtGateway(ctx, tx, shop, o, p, ev.Reason); err != nil {
		return "", nil, err
	}
	if o.Status != before.Status || o.PaymentStatus != before.PaymentStatus {
		o.UpdatedAt = s.Now()
		if err := tx.UpdateOrder(ctx, o); err != nil {
			return "", nil, err
		}
	}
	return OutcomeApplied, o, nil
}

// releasedAtGateway records that the gateway released held payment p of order o, by
// its own doing or chatpay's: as recordVoid does for a payment chatpay wanted released
// (voiding, a duplicate, or of a cancelled order); otherwise (released in the
// dashboard, or the authorisation expired) the order awaits payment again and staff
// are told, with reason, to send the link again or cancel the order. The caller holds
// the order's lock and writes the order.
//
// When the hold was recorded, the order's cards in the customer's chat were redrawn
// paid, without Pay now (RefreshCard). Now that the link takes payment again, the
// RefreshCard job draws them payable again (CardUpdate of a reopened order), and the
// customer hears that the hold was released (KindHoldReleased, as for a cancelled
// order's hold): otherwise they would believe the order paid, with nothing to tap.
func (s *Service) releasedAtGateway(ctx context.Context, tx Tx, shop *Shop, o *Order, p *Payment, reason string) error {
	if p.Status == PaymentStatusVoiding || p.Duplicate || o.Status == StatusCancelled {
		return s.recordVoid(ctx, tx, shop, o, p)
	}
	released := p.Amount
	p.Status, p.Amount = PaymentStatusVoided, 0
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	o.Status, o.PaymentStatus, o.PaidAt = StatusAwaitingPayment, PaymentUnpaid, nil
	if err := s.notify(ctx, tx, shop, o, NoticeHoldReleased, MessageData{Amount: released, Reason: reason}); err != nil {
		return err
	}
	if o.ConversationID == "" {
		return nil
	}
	if err := s.queueMessage(ctx, tx, shop, o, KindHoldReleased, MessageData{Amount: released}); err != nil {
		return err
	}
	return tx.Enqueue(ctx, RefreshCard{ShopID: shop.ID, OrderID: o.ID})
}

// reopened reports whether o awaits payment again after a hold on it was released at
// the gateway while it was open (releasedAtGateway): its cards may have been drawn
// paid meanwhile. Such a release is the only way an order that is not cancelled gets
// a voided payment that is not a duplicate; an order that was never paid has none.
func reopened(o *Order) bool {
	if o.Status != StatusAwaitingPayment {
		return false
	}
	return slices.ContainsFunc(o.Payments, func(p *Payment) bool {
		return p.Status == PaymentStatusVoided && !p.Duplicate
	})
}

// applyCaptured applies an EventCaptured: the gateway captured a held payment. It is
// recorded as CompleteCapture records chatpay's own capture, whichever of the webhook
// and the capture job's answer comes first; the second changes nothing. A payment
// captured although chatpay no longer wanted it (a duplicate, or its order was
// cancelled while the hold was being released) is refunded at once.
func (s *Service) applyCaptured(ctx context.Context, tx Tx, shop *Shop, ev *GatewayEvent) (string, *Order, error) {
	o, p, err := s.paymentForEvent(ctx, tx, shop, ev)
	if err != nil {
		return "", nil, err
	}
	if p == nil {
		return awaitingOutcome(ev), o, nil
	}
	if !held(p) {
		return OutcomeIgnored, o, nil
	}
	before := *o
	if err := s.recordCapture(ctx, tx, shop, o, p, ev.Amount); err != nil {
		return "", nil, err
	}
	if o.Status != before.Status || o.PaymentStatus != before.PaymentStatus {
		o.UpdatedAt = s.Now()
		if err := tx.UpdateOrder(ctx, o); err != nil {
			return "", nil, err
		}
	}
	return OutcomeApplied, o, nil
}
