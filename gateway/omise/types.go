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
	ExpiresAt         *time.Time     `json:"expires_at"`
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
