package omise

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatpay/chatpay/gateway"
)

// Limits of Omise's refund and document rules (see the package doc for sources).
const (
	MaxRefundsPerCharge = 15
	RefundWindow        = 365 * 24 * time.Hour
	MaxDocumentSize     = 10 << 20
)

// Rules a *RuleError names.
const (
	RuleRefundAmount      = "refund_amount"
	RuleRefundCount       = "refund_count"
	RuleRefundOverCapture = "refund_over_captured"
	RuleRefundDisputed    = "refund_disputed"
	RuleRefundTooLate     = "refund_too_late"
	RuleRefundNotCaptured = "refund_not_captured"
	RuleDocumentType      = "document_type"
	RuleDocumentSize      = "document_size"
	RuleDisputeNotOpen    = "dispute_not_open"
)

// ErrRule is wrapped by every *RuleError, for errors.Is.
var ErrRule = errors.New("omise: refused locally by an Omise rule")

// RuleError is a call refused before it reached Omise because Omise would refuse it too.
// Message is written for the shop owner.
type RuleError struct {
	Rule    string
	Message string
}

func (e *RuleError) Error() string { return "omise: " + e.Message }
func (e *RuleError) Unwrap() error { return ErrRule }

// CheckRefund applies Omise's refund rules to a freshly fetched charge: the amount is
// positive; the charge is captured, undisputed, captured less than 365 days ago and has
// fewer than 15 refunds; and the refunds never exceed the captured amount.
func CheckRefund(ch *Charge, amount int64, now time.Time) error {
	if amount <= 0 {
		return &RuleError{RuleRefundAmount, fmt.Sprintf("A refund must be positive, not %d.", amount)}
	}
	if ch.Dispute != nil {
		return &RuleError{RuleRefundDisputed, fmt.Sprintf("Charge %s is disputed (%s); it cannot be refunded.", ch.ID, ch.Dispute.ID)}
	}
	captured := ch.captured()
	if captured == 0 {
		return &RuleError{RuleRefundNotCaptured, fmt.Sprintf("Charge %s is %s and has captured nothing to refund.", ch.ID, ch.Status)}
	}
	if n := refundCount(ch); n >= MaxRefundsPerCharge {
		return &RuleError{RuleRefundCount, fmt.Sprintf("Charge %s already has %d refunds; Omise allows at most %d.", ch.ID, n, MaxRefundsPerCharge)}
	}
	since := ch.CreatedAt
	if ch.PaidAt != nil && !ch.PaidAt.IsZero() {
		since = *ch.PaidAt
	}
	if !since.IsZero() && now.Sub(since) > RefundWindow {
		return &RuleError{RuleRefundTooLate, fmt.Sprintf("Charge %s was captured on %s, more than 365 days ago; it can no longer be refunded.", ch.ID, since.UTC().Format(time.DateOnly))}
	}
	if left := captured - ch.RefundedAmount; amount > left {
		return &RuleError{RuleRefundOverCapture, fmt.Sprintf("A refund of %d exceeds the %d left on charge %s (captured %d, refunded %d).", amount, max(left, 0), ch.ID, captured, ch.RefundedAmount)}
	}
	return nil
}

// refundCount is how many refunds the charge has; the list's total counts beyond the
// embedded page.
func refundCount(ch *Charge) int {
	if ch.Refunds == nil {
		return 0
	}
	return max(ch.Refunds.Total, len(ch.Refunds.Data))
}

// CheckDocument checks an evidence file before upload: non-empty, at most
// MaxDocumentSize, and PNG, JPEG or PDF by content.
func CheckDocument(filename string, content []byte) error {
	if len(content) == 0 {
		return &RuleError{RuleDocumentSize, fmt.Sprintf("Document %q is empty.", filename)}
	}
	if len(content) > MaxDocumentSize {
		return &RuleError{RuleDocumentSize, fmt.Sprintf("Document %q is %d bytes; Omise accepts at most 10 MB.", filename, len(content))}
	}
	switch t := http.DetectContentType(content); t {
	case "image/png", "image/jpeg", "application/pdf":
		return nil
	default:
		return &RuleError{RuleDocumentType, fmt.Sprintf("Document %q is %s; Omise accepts PNG, JPG or PDF.", filename, t)}
	}
}

// Capabilities implements gateway.Capable with Omise's refund rules (CheckRefund): a
// charge may be refunded in part, at most MaxRefundsPerCharge times, within
// RefundWindow of its capture. chatpay's own charges (sources) are captured at once,
// but a charge created with capture=false is held and captured through Capture: in
// full, or once in part when it is a pre_auth charge (Omise refuses a partial capture
// of another, which the capture job reports to staff). Disputes arrive by webhook; a
// PromptPay source is paid with a QR code on chatpay's pay page.
func (g *Gateway) Capabilities() gateway.Capabilities {
	return gateway.Capabilities{
		PartialRefund:        true,
		MaxRefundsPerPayment: MaxRefundsPerCharge,
		RefundWindow:         RefundWindow,
		Capture:              true,
		PartialCapture:       true,
		Disputes:             true,
		QR:                   g.cfg.SourceType == SourcePromptPay,
		Methods:              []string{g.cfg.SourceType},
	}
}
