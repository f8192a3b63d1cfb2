package orders

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Dispute statuses. A dispute is open while the shop can still answer it (evidence is
// due), pending while the card network reviews what was submitted, and won or lost once
// closed. Gateways map their own statuses onto these four (see gateway/stripe and
// gateway/omise). DisputeClosed is not a status: as a filter it means won or lost.
const (
	DisputeOpen    = "open"
	DisputePending = "pending"
	DisputeWon     = "won"
	DisputeLost    = "lost"
	DisputeClosed  = "closed"
)

// Gateway event types of a dispute's life. Each carries GatewayEvent.Dispute; its
// PaymentRef names the disputed payment and Amount and Currency are the disputed
// amount. The status in Dispute decides, not the type: gateways close disputes through
// "updated" events too, and a "closed" event always carries won or lost.
const (
	EventDisputeOpened  = "dispute_opened"
	EventDisputeUpdated = "dispute_updated"
	EventDisputeClosed  = "dispute_closed"
)

// Notice kinds about disputes.
const (
	// NoticeDisputeOpened: a customer disputed a payment; the text has the amount,
	// the reason and the evidence deadline.
	NoticeDisputeOpened = "dispute_opened"
	// NoticeDisputeClosed: a dispute was won or lost.
	NoticeDisputeClosed = "dispute_closed"
	// NoticeDisputeDeadline: an open dispute's evidence is due in 7 or 2 days.
	NoticeDisputeDeadline = "dispute_deadline"
)

// KindDisputeRefunded tells the customer that the disputed amount was returned to them
// for the order, once the dispute is lost. Nothing is sent to the customer while a
// dispute is open: it is between the shop and the bank, and the customer started it.
const KindDisputeRefunded = "dispute_refunded"

// RefundReasonDisputeLost marks the refund row that records money a lost dispute took
// back. No refund was sent: the card network returned the money to the customer. It
// is recorded as a succeeded refund so that the payment's refunded total, the order's
// payment status and the refundable amount (RefundsTotal) all account for it, and
// chatpay never offers to refund the same money again.
const RefundReasonDisputeLost = "dispute_lost"

// DisputeReminderDays are the reminders sent before an open dispute's evidence is due,
// in days, largest first.
var DisputeReminderDays = []int{7, 2}

// DisputeDetails is what a gateway tells about a dispute beyond what GatewayEvent
// already carries (PaymentRef, Amount, Currency). It is a field of GatewayEvent,
// filled by the gateways, because the Omise gateway resolves an event into a bare
// GatewayEvent and the service cannot decode a gateway's payload itself. It is stored
// (as JSON, with these names) only with an event deferred until its payment is
// recorded (Tx.DeferEvent), which is applied later from what was stored.
type DisputeDetails struct {
	// ID is the gateway's id for the dispute (Stripe du_…, Omise dspt_…).
	ID string `json:"id"`
	// Status is chatpay's: DisputeOpen, DisputePending, DisputeWon or DisputeLost.
	Status string `json:"status"`
	// Reason is the gateway's reason code (fraudulent, product_not_received, …).
	Reason string `json:"reason,omitempty"`
	// EvidenceDueAt is when evidence must be submitted; nil when the gateway says none.
	EvidenceDueAt *time.Time `json:"evidence_due_at,omitempty"`
}

// Dispute is a chargeback on one payment, kept once per (shop, gateway, gateway
// dispute id).
type Dispute struct {
	ID               string
	ShopID           string
	OrderID          string
	PaymentID        string
	Gateway          string
	GatewayDisputeID string
	Status           string
	Reason           string
	Amount           int64
	Currency         string
	EvidenceDueAt    *time.Time
	// RemindedDays is the smallest of DisputeReminderDays whose deadline reminder was
	// sent, 0 when none was: each reminder goes once, across restarts and replicas.
	RemindedDays int
	CreatedAt    time.Time
	UpdatedAt    time.Time
	ClosedAt     *time.Time
}

// Closed reports whether the dispute is won or lost. A closed dispute is final.
func (d *Dispute) Closed() bool { return d.Status == DisputeWon || d.Status == DisputeLost }

// DisputeFilter selects disputes for ListDisputes. Status is one of the dispute
// statuses or DisputeClosed; empty does not filter.
type DisputeFilter struct {
	Status   string
	BeforeID string
	Limit    int
}

func validDisputeStatus(s string) bool {
	switch s {
	case DisputeOpen, DisputePending, DisputeWon, DisputeLost:
		return true
	}
	return false
}

// Dispute returns one of the shop's disputes.
func (s *Service) Dispute(ctx context.Context, shopID, id string) (*Dispute, error) {
	d, err := s.store.Dispute(ctx, shopID, id)
	if err != nil {
		return nil, notFound(err, "Dispute %s not found.", id)
	}
	return d, nil
}

// ListDisputes returns the shop's disputes, newest first.
func (s *Service) ListDisputes(ctx context.Context, shopID string, f DisputeFilter) ([]*Dispute, error) {
	if f.Status != "" && f.Status != DisputeClosed && !validDisputeStatus(f.Status) {
		return nil, Invalidf("status", "must be open, pending, won, lost or closed, got %q", f.Status)
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 100
	}
	return s.store.ListDisputes(ctx, shopID, f)
}

// applyDispute applies a dispute event in the event's transaction. The dispute is kept
// once per (shop, gateway, gateway dispute id) and read under its order's lock, so
// redelivered and concurrent events are applied one after the other. A closed dispute
// is final: a late "updated" (or a "created" delivered after the close) changes
// nothing. Between open and pending the latest event wins.
//
// While any dispute of the order is open or pending, the order's payment status is
// disputed. A won dispute gives the status back as the amounts say (paid, partially
// refunded, refunded). A lost one records the disputed amount as gone with a
// succeeded refund row of reason dispute_lost (see RefundReasonDisputeLost) and tells
// the customer (KindDisputeRefunded).
func (s *Service) applyDispute(ctx context.Context, tx Tx, shop *Shop, ev *GatewayEvent) (string, *Order, error) {
	det := ev.Dispute
	if det == nil || det.ID == "" || !validDisputeStatus(det.Status) {
		return OutcomeIgnored, nil, nil
	}
	o, p, err := s.paymentForEvent(ctx, tx, shop, ev)
	if err != nil {
		return "", nil, err
	}
	if p == nil {
		// A dispute on a payment chatpay has not recorded yet, or on money it never
		// took: it waits for the payment.
		return awaitingOutcome(ev), o, nil
	}
	all, err := tx.OrderDisputes(ctx, shop.ID, o.ID)
	if err != nil {
		return "", nil, err
	}
	now := s.Now()
	j := slices.IndexFunc(all, func(d *Dispute) bool { return d.Gateway == ev.Gateway && d.GatewayDisputeID == det.ID })
	var d *Dispute
	if j >= 0 {
		d = all[j]
		if d.Closed() {
			return OutcomeIgnored, o, nil
		}
		before := *d
		d.Status = det.Status
		if det.Reason != "" {
			d.Reason = det.Reason
		}
		if ev.Amount > 0 {
			d.Amount, d.Currency = ev.Amount, strings.ToUpper(ev.Currency)
		}
		if det.EvidenceDueAt != nil {
			d.EvidenceDueAt = det.EvidenceDueAt
		}
		if d.Status == before.Status && d.Reason == before.Reason && d.Amount == before.Amount &&
			d.Currency == before.Currency && equalTimes(d.EvidenceDueAt, before.EvidenceDueAt) {
			return OutcomeIgnored, o, nil
		}
		d.UpdatedAt = now
		if d.Closed() {
			d.ClosedAt = &now
		}
		if err := tx.UpdateDispute(ctx, d); err != nil {
			return "", nil, err
		}
	} else {
		d = &Dispute{
			ID: NewID(), ShopID: shop.ID, OrderID: o.ID, PaymentID: p.ID, Gateway: ev.Gateway,
			GatewayDisputeID: det.ID, Status: det.Status, Reason: det.Reason, Amount: ev.Amount,
			Currency: strings.ToUpper(ev.Currency), EvidenceDueAt: det.EvidenceDueAt, CreatedAt: now, UpdatedAt: now,
		}
		if d.Currency == "" {
			d.Currency = p.Currency
		}
		if d.Closed() {
			d.ClosedAt = &now
		}
		if err := tx.InsertDispute(ctx, d); err != nil {
			return "", nil, err
		}
		all = append(all, d)
	}

	if d.Status == DisputeLost {
		if err := s.recordDisputeLoss(ctx, tx, o, p, d); err != nil {
			return "", nil, err
		}
		// The customer's bank gave them the money back; they hear it from the shop
		// too. A dispute is lost once (closed is final), so they hear it once.
		if err := s.queueMessage(ctx, tx, shop, o, KindDisputeRefunded, MessageData{Amount: d.Amount}); err != nil {
			return "", nil, err
		}
	}
	before := o.PaymentStatus
	settleDisputes(o, all)
	if o.PaymentStatus != before {
		o.UpdatedAt = now
		if err := tx.UpdateOrder(ctx, o); err != nil {
			return "", nil, err
		}
	}
	data := MessageData{Amount: d.Amount, Reason: d.Reason, Dispute: d}
	switch {
	case d.Closed():
		err = s.notify(ctx, tx, shop, o, NoticeDisputeClosed, data)
	case j < 0:
		err = s.notify(ctx, tx, shop, o, NoticeDisputeOpened, data)
	}
	return OutcomeApplied, o, err
}

// recordDisputeLoss records the money a lost dispute took back as a succeeded refund of
// the disputed amount, capped at what is left of the payment after its refunds.
func (s *Service) recordDisputeLoss(ctx context.Context, tx Tx, o *Order, p *Payment, d *Dispute) error {
	done, err := tx.RefundsTotal(ctx, o.ShopID, p.ID)
	if err != nil {
		return err
	}
	amount := min(d.Amount, p.Amount-done)
	if amount <= 0 {
		return nil
	}
	r := &Refund{
		ID: NewID(), ShopID: o.ShopID, OrderID: o.ID, PaymentID: p.ID, Amount: amount, Currency: p.Currency,
		Status: RefundSucceeded, Reason: RefundReasonDisputeLost, GatewayRef: d.GatewayDisputeID,
		// Unique per dispute (Postgres keeps refund keys unique); no job ever sends it.
		IdempotencyKey: "chatpay-dispute-lost-" + d.ID,
		CreatedAt:      d.UpdatedAt, UpdatedAt: d.UpdatedAt,
	}
	if err := tx.InsertRefund(ctx, r); err != nil {
		return err
	}
	p.RefundedAmount += amount
	return tx.UpdatePayment(ctx, p)
}

// disputeLosses is what the lost disputes of payment p of order o took back, as
// recorded by recordDisputeLoss (which records at most what was left of the payment,
// so this may be more than the refund rows; callers cap by what is left). The caller
// holds the order's lock.
func disputeLosses(ctx context.Context, tx Tx, o *Order, p *Payment) (int64, error) {
	all, err := tx.OrderDisputes(ctx, o.ShopID, o.ID)
	if err != nil {
		return 0, err
	}
	var lost int64
	for _, d := range all {
		if d.PaymentID == p.ID && d.Status == DisputeLost {
			lost += d.Amount
		}
	}
	return lost, nil
}

// settleDisputes sets the order's payment status from its disputes: disputed while any
// is open or pending, otherwise what its payments' amounts say.
func settleDisputes(o *Order, all []*Dispute) {
	if slices.ContainsFunc(all, func(d *Dispute) bool { return !d.Closed() }) {
		o.PaymentStatus = PaymentDisputed
		return
	}
	if o.PaymentStatus == PaymentDisputed {
		o.PaymentStatus = PaymentPaid
	}
	settleRefunds(o)
}

func equalTimes(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// reminderDue returns which deadline reminder the dispute needs at now (7 or 2 days),
// 0 for none. When the job missed the 7-day moment and the deadline is already within
// 2 days, only the 2-day reminder is sent.
func reminderDue(d *Dispute, now time.Time) int {
	if d.Status != DisputeOpen || d.EvidenceDueAt == nil || !d.EvidenceDueAt.After(now) {
		return 0
	}
	left := d.EvidenceDueAt.Sub(now)
	for _, days := range slices.Backward(DisputeReminderDays) {
		if left <= time.Duration(days)*24*time.Hour && (d.RemindedDays == 0 || d.RemindedDays > days) {
			return days
		}
	}
	return 0
}

// RemindDisputes sends the dispute_deadline notices that are due: 7 and 2 days before
// an open dispute's evidence deadline, each once. Each reminder is checked again and
// recorded under the order's lock in the notice's transaction, so concurrent or
// repeated runs (restarts, replicas) send it once. It returns how many it sent.
func (s *Service) RemindDisputes(ctx context.Context) (int, error) {
	now := s.Now()
	maxDays := slices.Max(DisputeReminderDays)
	due, err := s.store.DisputesDue(ctx, now, now.Add(time.Duration(maxDays)*24*time.Hour), 1000)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range due {
		if reminderDue(d, now) == 0 {
			continue
		}
		shop, err := s.Shop(d.ShopID)
		if err != nil {
			continue // a shop no longer configured
		}
		var did bool
		err = s.inTx(ctx, func(tx Tx) error {
			did = false
			o, err := tx.LockOrder(ctx, shop.ID, d.OrderID)
			if err != nil {
				return err
			}
			all, err := tx.OrderDisputes(ctx, shop.ID, o.ID)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(all, func(x *Dispute) bool { return x.ID == d.ID })
			if i < 0 {
				return nil
			}
			cur := all[i]
			days := reminderDue(cur, now)
			if days == 0 {
				return nil // sent meanwhile, or the dispute moved on
			}
			cur.RemindedDays = days
			if err := tx.UpdateDispute(ctx, cur); err != nil {
				return err
			}
			did = true
			return s.notify(ctx, tx, shop, o, NoticeDisputeDeadline, MessageData{Amount: cur.Amount, Reason: cur.Reason, Dispute: cur})
		})
		if err != nil {
			return sent, err
		}
		if did {
			sent++
		}
	}
	return sent, nil
}
