package orders

import (
	"context"
)

// CaptureRules are what a payment's gateway allows for capturing authorised payments.
type CaptureRules struct {
	// Capture: the gateway can capture a payment it only authorised.
	Capture bool
	// PartialCapture: a capture may take less than the authorised amount, the gateway
	// releasing the rest.
	PartialCapture bool
}

// Rules a refused capture names in its message.
const (
	RuleNoCapture        = "capture_unsupported"
	RuleNoPartialCapture = "partial_capture_unsupported"
)

// CaptureResult is what the gateway answered to a capture request.
type CaptureResult struct {
	Succeeded bool
	// Amount is what the gateway captured, which becomes the payment's amount.
	Amount int64
	Reason string
	// HoldExpired: the capture failed because the authorisation expired before it,
	// and the gateway gave the money back to the customer. Nothing is held any more,
	// so the payment is recorded as released, not as authorised again.
	HoldExpired bool
}

// CapturePayment captures part or (amount nil) all of the order's authorised payment.
// It checks what it can now (the payment is authorised and not being captured, the
// amount is at most what is held, the gateway can capture that), marks the payment
// capturing and enqueues ProcessCapture, which asks the gateway; CompleteCapture
// records the answer. A payment is captured once: the gateways capture an
// authorisation at most once (Omise) or release the rest on the first capture
// (Stripe), so the rest of a partial capture is gone.
func (s *Service) CapturePayment(ctx context.Context, shopID, id string, amount *int64) (*Payment, error) {
	if amount != nil && (*amount <= 0 || *amount > MaxAmount) {
		return nil, Invalidf("amount", "must be a positive amount in minor units, got %d", *amount)
	}
	var pay *Payment
	_, err := s.update(ctx, shopID, id, func(tx Tx, shop *Shop, o *Order) error {
		if o.Status == StatusCancelled {
			// A cancelled order's hold is released, not taken (CancelOrder); one whose
			// release failed is released in the gateway's dashboard.
			return Errorf(ECONFLICT, "Order %s is cancelled; its payment is released, not captured.", o.Code)
		}
		for _, p := range o.Payments {
			if !p.Duplicate && (p.Status == PaymentStatusAuthorized || p.Status == PaymentStatusCapturing) {
				pay = p
				break
			}
		}
		if pay == nil || o.PaymentStatus != PaymentAuthorized {
			if o.PaymentStatus == PaymentUnpaid {
				return Errorf(EPAYMENTREQUIRED, "Order %s has not been paid; there is nothing to capture.", o.Code)
			}
			return Errorf(ECONFLICT, "Order %s's payment is %s, not authorised; there is nothing to capture.", o.Code, o.PaymentStatus)
		}
		if pay.Status == PaymentStatusCapturing {
			return Errorf(ECONFLICT, "Order %s's payment is already being captured.", o.Code)
		}
		want := pay.Amount
		if amount != nil {
			want = *amount
		}
		if want > pay.Amount {
			return Invalidf("amount", "%d exceeds the authorised amount of %d", want, pay.Amount)
		}
		if s.captures != nil {
			rules := s.captures(o.ShopID, pay.Gateway)
			if !rules.Capture {
				return Errorf(ECONFLICT, "Order %s: %s cannot capture payments from chatpay (%s); capture it in the gateway's dashboard.",
					o.Code, pay.Gateway, RuleNoCapture)
			}
			if !rules.PartialCapture && want != pay.Amount {
				return Errorf(ECONFLICT, "Order %s: %s cannot capture part of a payment (%s); capture all %d of it.",
					o.Code, pay.Gateway, RuleNoPartialCapture, pay.Amount)
			}
		}
		pay.Status = PaymentStatusCapturing
		if err := tx.UpdatePayment(ctx, pay); err != nil {
			return err
		}
		return tx.Enqueue(ctx, ProcessCapture{ShopID: shopID, OrderID: o.ID, PaymentID: pay.ID, Amount: want, Key: "capture-" + NewID()})
	})
	if err != nil {
		return nil, err
	}
	return pay, nil
}

// CompleteCapture records the gateway's answer to a capture of payment paymentID of
// order orderID. On success the payment is succeeded with the captured amount (the
// rest was released), the order's payment is paid, the customer is told and so is
// staff; on failure the payment is authorised again, so that staff may try again, and
// staff are told. When the capture failed because the hold expired (HoldExpired),
// there is nothing left to try: the payment is released as if the gateway had reported
// a release (applyVoided), so the order awaits payment again and staff are told that
// the hold expired. An answer for a payment that is no longer capturing (a job that
// ran twice, or the gateway's capture or release webhook was applied first) changes
// nothing.
func (s *Service) CompleteCapture(ctx context.Context, shopID, orderID, paymentID string, res CaptureResult) error {
	_, err := s.update(ctx, shopID, orderID, func(tx Tx, shop *Shop, o *Order) error {
		var pay *Payment
		for _, p := range o.Payments {
			if p.ID == paymentID {
				pay = p
			}
		}
		if pay == nil {
			return Errorf(ENOTFOUND, "Order %s has no payment %s.", o.Code, paymentID)
		}
		if pay.Status != PaymentStatusCapturing {
			return nil
		}
		if !res.Succeeded && res.HoldExpired {
			return s.releasedAtGateway(ctx, tx, shop, o, pay, res.Reason)
		}
		if !res.Succeeded {
			pay.Status = PaymentStatusAuthorized
			if err := tx.UpdatePayment(ctx, pay); err != nil {
				return err
			}
			return s.notify(ctx, tx, shop, o, NoticeCaptureFailed, MessageData{Amount: pay.Amount, Reason: res.Reason})
		}
		return s.recordCapture(ctx, tx, shop, o, pay, res.Amount)
	})
	return err
}

// recordCapture records that the gateway captured amount of held payment p of order o
// (all of it when amount is not between 1 and what is held: the gateway cannot capture
// more than it held, and an answer that says so is not believed). The payment is
// succeeded with the captured amount, the rest having been released; the customer is
// told they were charged and staff that the order can ship. A payment chatpay no
// longer wanted (a duplicate, or its order was cancelled while its hold was to be
// released) is refunded at once instead, as a cancel refunds what was paid. The
// caller holds the order's lock and writes the order.
func (s *Service) recordCapture(ctx context.Context, tx Tx, shop *Shop, o *Order, p *Payment, amount int64) error {
	if amount <= 0 || amount > p.Amount {
		amount = p.Amount
	}
	p.Status, p.Amount = PaymentStatusSucceeded, amount
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	if p.Duplicate || o.Status == StatusCancelled {
		reason := RefundReasonRequested
		if p.Duplicate {
			reason = RefundReasonDuplicate
		} else {
			// Taken, and on its way back: settleRefunds moves it to refunded.
			o.PaymentStatus = PaymentPaid
		}
		if _, err := s.insertRefund(ctx, tx, o, p, amount, reason, ""); err != nil {
			return err
		}
		return s.notify(ctx, tx, shop, o, NoticeCapturedCancelled, MessageData{Amount: amount})
	}
	o.PaymentStatus = PaymentPaid
	if err := s.queueMessage(ctx, tx, shop, o, KindCaptured, MessageData{Amount: amount}); err != nil {
		return err
	}
	return s.notify(ctx, tx, shop, o, NoticeCaptured, MessageData{Amount: amount})
}
