package omise

import "time"

// Charge statuses (API 2019-05-29).
const (
	ChargeSuccessful = "successful"
	ChargeFailed     = "failed"
	ChargePending    = "pending"
	ChargeReversed   = "reversed"
	ChargeExpired    = "expired"
)

// Dispute statuses.
const (
	DisputeOpen    = "open"
	DisputePending = "pending"
	DisputeWon     = "won"
	DisputeLost    = "lost"
)

// List is one page of an Omise list object.
type List[T any] struct {
	Object string `json:"object"`
	Data   []T    `json:"data"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Total  int    `json:"total"`
}

// Charge is the part of Omise's charge object chatpay reads.
type Charge struct {
	Object            string         `json:"object"`
	ID                string         `json:"id"`
	Livemode          bool           `json:"livemode"`
	Amount            int64          `json:"amount"`
	Currency          string         `json:"currency"`
	Description       string         `json:"description"`
	Status            string         `json:"status"`
	Capture           bool           `json:"capture"`
	AuthorizationType string         `json:"authorization_type"`
	Authorized        bool           `json:"authorized"`
	AuthorizedAmount  int64          `json:"authorized_amount"`
	Capturable        bool           `json:"capturable"`
	CapturedAmount    int64          `json:"captured_amount"`
	Paid              bool           `json:"paid"`
	PaidAt            *time.Time     `json:"paid_at"`
	Reversed          bool           `json:"reversed"`
	Expired           bool           `json:"expired"`
	Refundable        bool           `json:"refundable"`
	RefundedAmount    int64          `json:"refunded_amount"`
	Refunds           *List[Refund]  `json:"refunds"`
	Dispute           *Dispute       `json:"dispute"`
	AuthorizeURI      string         `json:"authorize_uri"`
	ReturnURI         string         `json:"return_uri"`
	FailureCode       string         `json:"failure_code"`
	FailureMessage    string         `json:"failure_message"`
	Metadata          map[string]any `json:"metadata"`
	Source            *Source        `json:"source"`
	CreatedAt         time.Time      `json:"created_at"`
	// ExpiresAt is when Omise expects the charge to expire: the end of a pending
	// source's payment window, or of a card authorisation's hold. ExpiredAt is when it
	// actually expired, and Expired says that it did.
	ExpiresAt *time.Time `json:"expires_at"`
	ExpiredAt *time.Time `json:"expired_at"`
}

// captured is the amount captured so far: captured_amount when Omise reports it, else the
// full amount of a paid charge (older serialisations lack captured_amount).
func (ch *Charge) captured() int64 {
	if ch.CapturedAmount > 0 {
		return ch.CapturedAmount
	}
	if ch.Paid {
		return ch.Amount
	}
	return 0
}

// lapsedHold reports a charge whose card authorisation expired before it was captured
// or reversed: it was authorised, nothing was captured, and Omise marks it expired (the
// expired flag, or the expired status). Omise cancels such an authorisation by itself,
// so nothing is held on the customer's card any more. A charge that was never
// authorised (a PromptPay QR nobody paid) also expires, but held nothing: it is a
// failed payment, not a released one.
func (ch *Charge) lapsedHold() bool {
	if !(ch.Expired || ch.Status == ChargeExpired) {
		return false
	}
	return (ch.Authorized || ch.AuthorizedAmount > 0) && !ch.Paid && ch.CapturedAmount == 0
}

// expiryTime is when the charge expired, as precisely as Omise says: expired_at, else
// expires_at; nil when it says neither.
func (ch *Charge) expiryTime() *time.Time {
	if ch.ExpiredAt != nil && !ch.ExpiredAt.IsZero() {
		return ch.ExpiredAt
	}
	if ch.ExpiresAt != nil && !ch.ExpiresAt.IsZero() {
		return ch.ExpiresAt
	}
	return nil
}

// Source is a payment source.
type Source struct {
	Object        string         `json:"object"`
	ID            string         `json:"id"`
	Type          string         `json:"type"`
	Flow          string         `json:"flow"` // "redirect", "offline", ...
	Amount        int64          `json:"amount"`
	Currency      string         `json:"currency"`
	ChargeStatus  string         `json:"charge_status"`
	ScannableCode *ScannableCode `json:"scannable_code"`
}

// ScannableCode is the QR (or barcode) of an offline source such as PromptPay.
type ScannableCode struct {
	Object string    `json:"object"`
	Type   string    `json:"type"` // "qr"
	Image  *Document `json:"image"`
}

// Refund is a refund of a charge.
type Refund struct {
	Object    string         `json:"object"`
	ID        string         `json:"id"`
	Amount    int64          `json:"amount"`
	Currency  string         `json:"currency"`
	Charge    string         `json:"charge"`
	Status    string         `json:"status"`
	Voided    bool           `json:"voided"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
}

// Dispute is a chargeback on a charge.
type Dispute struct {
	Object        string          `json:"object"`
	ID            string          `json:"id"`
	Amount        int64           `json:"amount"`
	Currency      string          `json:"currency"`
	Status        string          `json:"status"`
	Charge        string          `json:"charge"`
	Message       string          `json:"message"`
	ReasonCode    string          `json:"reason_code"`
	ReasonMessage string          `json:"reason_message"`
	Documents     *List[Document] `json:"documents"`
	CreatedAt     time.Time       `json:"created_at"`
	ClosedAt      *time.Time      `json:"closed_at"`
}

// Document is a file at Omise: dispute evidence, or a QR image.
type Document struct {
	Object      string `json:"object"`
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	Kind        string `json:"kind"`
	DownloadURI string `json:"download_uri"`
}
