package orders

import (
	"time"
)

// Shop is a tenant. Shops come from configuration; every stored row carries a ShopID
// and every store query is scoped by it.
type Shop struct {
	ID       string
	Name     string
	Currency string
	Locale   string // en | vi | th | fa
	// DisplayToman shows IRR amounts as toman (1 toman = 10 rials) on pages and cards.
	DisplayToman         bool
	SendPaidConfirmation bool
	// Messages are the owner's own texts of customer messages in Locale, by kind,
	// from the dashboard's settings (see ShopSettings); the Renderer sends the
	// built-in text of a kind without one. Nil when the owner wrote none.
	Messages map[string]MessageTemplate
	// Gateways lists the gateway names enabled for the shop, in display order.
	Gateways []string
	// StaffChat reports that the shop has a chat where its staff receive notices (a
	// Telegram operator group). Notices are always stored and listed; only shops with
	// a staff chat get a job that delivers them there.
	StaffChat bool
	// WebChatOrigins are the sites, besides chatpay's own, that may show the shop's
	// web chat in a frame (its widget on the shop's site): origins as a
	// Content-Security-Policy names them.
	WebChatOrigins []string
}

// Channels a conversation can live on.
const (
	ChannelWebchat   = "webchat"
	ChannelTelegram  = "telegram"
	ChannelMessenger = "messenger"
)

// Order statuses. See CanTransition for the allowed moves.
const (
	StatusAwaitingPayment = "awaiting_payment"
	StatusPaid            = "paid"
	StatusShipped         = "shipped"
	StatusCompleted       = "completed"
	StatusCancelled       = "cancelled"
	StatusDeleted         = "deleted"
)

// Payment statuses, tracked apart from the order's fulfilment status.
const (
	PaymentUnpaid            = "unpaid"
	PaymentPaid              = "paid"
	PaymentPartiallyRefunded = "partially_refunded"
	PaymentRefunded          = "refunded"
	PaymentDisputed          = "disputed"
	// PaymentAuthorized: the gateway holds the money but has not captured it (a shop
	// with manual capture). The order's Status is paid: the customer has done their
	// part, and the order leaves awaiting_payment so its link stops taking payments.
	// It cannot be shipped or refunded until CapturePayment has captured it: a hold
	// expires (Stripe's after 7 days) and may be released, so goods shipped against
	// it could go unpaid, and there is nothing captured to refund.
	PaymentAuthorized = "authorized"
)

// Payment methods.
const (
	MethodOnline = "online"
	MethodCOD    = "cod"
)

// Customer is who an order is for. Channel and ExternalID identify their conversation;
// both are empty when the order has none and the caller only gets the link.
type Customer struct {
	Channel    string `json:"channel,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Name       string `json:"name,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// Item is one order line. UnitPrice is in minor units of the order's currency.
type Item struct {
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// Conversation is a customer's chat thread with a shop on one channel.
type Conversation struct {
	ID           string
	ShopID       string
	Channel      string
	ExternalID   string
	CustomerName string
	CreatedAt    time.Time
	// LastInboundAt is when the customer last wrote, for channels with reply windows.
	LastInboundAt *time.Time
	// StaffThreadID is the topic in the shop's operator group where staff talk about
	// this conversation (Telegram's message_thread_id); 0 when none is open.
	StaffThreadID int64
}

// Order is the aggregate a shop sells through. Payments and Shipments are loaded with
// it; Version increases on every write and guards compare-and-set updates.
type Order struct {
	ID             string
	ShopID         string
	Code           string
	Status         string
	PaymentStatus  string
	PaymentMethod  string
	Currency       string
	Items          []Item
	ShippingFee    int64
	Total          int64
	Customer       Customer
	ConversationID string
	ShipOnPayment  bool
	Metadata       map[string]string
	Link           *PaymentLink
	Payments       []*Payment
	Shipments      []*Shipment
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	PaidAt         *time.Time
}

// PaymentLink is the durable "Pay now" link of an online order. The 128-bit token is
// stored only as its SHA-256 (for lookup) and sealed with the server's link key (so that
// the same link can be sent again); a copy of the database alone opens no link.
type PaymentLink struct {
	OrderID     string
	TokenHash   []byte
	SealedToken []byte
	CreatedAt   time.Time
	// Token is the plain token; set only in memory, never stored.
	Token string
}

// Active reports whether the link can still be used to pay: only while the order
// awaits payment.
func (o *Order) LinkActive() bool {
	return o.Link != nil && o.Status == StatusAwaitingPayment
}

// Attempt statuses.
const (
	AttemptCreated   = "created"
	AttemptPending   = "pending"
	AttemptSucceeded = "succeeded"
	AttemptFailed    = "failed"
)

// Attempt is one tap of Pay now: a fresh gateway session for the order's total.
type Attempt struct {
	ID            string
	ShopID        string
	OrderID       string
	Gateway       string
	SessionID     string
	Amount        int64
	Currency      string
	Status        string
	FailureReason string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Payment statuses.
const (
	PaymentStatusSucceeded = "succeeded"
	// PaymentStatusAuthorized: held at the gateway, not captured; Amount is what is
	// held. PaymentStatusCapturing: a capture job is under way. A captured payment
	// is succeeded, with Amount set to what was captured.
	PaymentStatusAuthorized = "authorized"
	PaymentStatusCapturing  = "capturing"
)

// Payment is money the gateway confirmed for an order. A Duplicate payment arrived for
// an order that was no longer awaiting payment; it is refunded automatically.
type Payment struct {
	ID             string
	ShopID         string
	OrderID        string
	AttemptID      string
	Gateway        string
	GatewayRef     string
	Status         string
	Amount         int64
	RefundedAmount int64
	Currency       string
	Duplicate      bool
	CreatedAt      time.Time
}

// Refund statuses and reasons.
const (
	RefundPending   = "pending"
	RefundSucceeded = "succeeded"
	RefundFailed    = "failed"

	RefundReasonRequested = "requested"
	RefundReasonDuplicate = "duplicate"
	// RefundReasonGateway: the refund was made at the gateway (in its dashboard), not
	// by chatpay; chatpay learnt of it from an EventRefunded and only records it.
	RefundReasonGateway = "refunded_at_gateway"
)

// Refund is money returned against one payment. IdempotencyKey is deterministic, so a
// retried refund job never refunds twice.
type Refund struct {
	ID             string
	ShopID         string
	OrderID        string
	PaymentID      string
	Amount         int64
	Currency       string
	Status         string
	Reason         string
	IdempotencyKey string
	GatewayRef     string
	FailureReason  string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Shipment is one parcel sent for an order.
type Shipment struct {
	ID             string
	ShopID         string
	OrderID        string
	Carrier        string
	TrackingNumber string
	CreatedAt      time.Time
}

// Message kinds chatpay sends.
const (
	KindOrderCard        = "order_card"
	KindPaidConfirmation = "paid_confirmation"
	KindPaymentFailed    = "payment_failed"
	KindShipped          = "shipped"
	KindRefunded         = "refunded"
	KindCancelled        = "cancelled"
	KindCaptured         = "captured"
)

// Message directions and delivery statuses.
const (
	DirectionOut = "out"
	DirectionIn  = "in"
	// DirectionStaff is a message to the shop's staff about the conversation (in its
	// staff topic), not to the customer.
	DirectionStaff = "staff"

	MessageQueued = "queued"
	MessageSent   = "sent"
	MessageFailed = "failed"
)

// Button is a URL button under a chat message (Pay now, Pay again).
type Button struct {
	Label string `json:"label"`
	// URL opens a page. A button has a URL or Data, not both.
	URL string `json:"url,omitempty"`
	// Data is what the button sends back to chatpay when pressed (Telegram's
	// callback_data, Messenger's postback payload), at most 64 bytes.
	Data string `json:"data,omitempty"`
	// SameRow puts the button beside the one before it instead of on a row of its
	// own, where the channel can (Telegram's inline keyboards).
	SameRow bool `json:"same_row,omitempty"`
}

// Message is one chat message about an order in a conversation. Outbound messages are
// rendered when queued, so what the API shows is exactly what is delivered.
type Message struct {
	ID             string
	ShopID         string
	ConversationID string
	OrderID        string
	Direction      string
	Kind           string
	Text           string
	Buttons        []Button
	Status         string
	// ExternalID is the channel's id for the delivered message (e.g. Telegram message_id).
	ExternalID    string
	FailureReason string
	CreatedAt     time.Time
	SentAt        *time.Time
}

// Notice kinds for the shop's owner and staff.
const (
	NoticePaid             = "paid"
	NoticeReadyToShip      = "ready_to_ship"
	NoticePaymentFailed    = "payment_failed"
	NoticeDuplicatePayment = "duplicate_payment"
	NoticeAmountMismatch   = "amount_mismatch"
	NoticeUnknownSession   = "unknown_session"
	NoticeRefundFailed     = "refund_failed"
	// NoticeRefundedAtGateway: money was refunded in the gateway's dashboard and
	// chatpay recorded it from the gateway's event.
	NoticeRefundedAtGateway = "refunded_at_gateway"
	NoticeMessageFailed     = "message_failed"
	// NoticeCommandFailed: a command staff typed where chatpay cannot answer in
	// place (Meta's Page inbox) could not be carried out.
	NoticeCommandFailed = "command_failed"
	// NoticeCaptured and NoticeCaptureFailed: the answer to a capture chatpay asked
	// the gateway for (Service.CapturePayment).
	NoticeCaptured      = "captured"
	NoticeCaptureFailed = "capture_failed"
)

// Notice tells the shop's staff about something that happened to an order. Notices are
// stored (the dashboard lists them) and delivered by a job to the shop's operator chat.
type Notice struct {
	ID        string
	ShopID    string
	OrderID   string
	Kind      string
	Text      string
	CreatedAt time.Time
}

// Gateway event types, normalised across gateways.
const (
	EventSucceeded = "succeeded"
	EventFailed    = "failed"
	EventPending   = "pending"
	// EventRefunded: money was returned on a payment, by chatpay or in the gateway's
	// dashboard. PaymentRef names the payment (SessionID too, where the gateway has
	// one) and Amount is the CUMULATIVE total the gateway has refunded on it, not
	// this refund's amount: gateways report that total (Stripe's amount_refunded,
	// Omise's refunded_amount), and a total makes a redelivered or reordered event
	// harmless, because only what exceeds the refunds chatpay knows is recorded.
	EventRefunded = "refunded"
)

// Event outcomes recorded with each gateway event.
const (
	OutcomeApplied        = "applied"
	OutcomeIgnored        = "ignored"
	OutcomeDuplicatePaid  = "duplicate_payment"
	OutcomeAmountMismatch = "amount_mismatch"
	OutcomeUnknownSession = "unknown_session"
	// OutcomeAwaitingPayment: the event (a refund, dispute, capture or release) names
	// a payment chatpay has not recorded yet. Gateways deliver webhooks in any order,
	// so a refund may arrive before the checkout that took the money; the event waits,
	// and the transaction that records a payment with its PaymentRef applies it then
	// and replaces this outcome with what applying it did. Money taken outside chatpay
	// on the same gateway account looks the same; such an event is given up after
	// AwaitingPaymentFor (OutcomePaymentNeverSeen).
	OutcomeAwaitingPayment = "awaiting_payment"
	// OutcomePaymentNeverSeen: the event waited AwaitingPaymentFor for its payment
	// (OutcomeAwaitingPayment) and chatpay never recorded it, so it is no longer
	// awaited and a payment recorded later does not apply it. Most likely the money was
	// taken outside chatpay on the same gateway account; an operator should look.
	OutcomePaymentNeverSeen = "payment_never_seen"
)

// GatewayEvent is a verified notification from a payment gateway, normalised. It is
// recorded once per (shop, gateway, event id): replays are no-ops.
type GatewayEvent struct {
	ID         string
	ShopID     string
	Gateway    string
	EventID    string
	Type       string // EventSucceeded | EventFailed | EventPending | EventRefunded
	SessionID  string
	PaymentRef string // the gateway's id for the money movement, if any
	Amount     int64  // for EventRefunded, the payment's cumulative refunded total
	Currency   string
	Reason     string // failure reason, for EventFailed
	// Authorized marks an EventSucceeded whose money is only authorised, not captured
	// (Stripe's manual capture, Omise's pre-authorisation): the payment is recorded as
	// authorized and waits for CapturePayment.
	Authorized bool
	// Dispute is what the gateway says about a dispute, for the EventDispute* types;
	// nil otherwise. It is stored only with an event deferred until its payment is
	// recorded (Tx.DeferEvent); otherwise the payload is.
	Dispute    *DisputeDetails
	Payload    []byte
	Outcome    string
	ReceivedAt time.Time
}

// ChatUpdate is something a chat platform delivered to a shop's bot (a Telegram
// update), recorded before anything acts on it so that an acknowledged update is
// never lost and a redelivered one is processed once.
type ChatUpdate struct {
	ShopID string
	// Source names the bot that received the update ("telegram:<bot id>"): update ids
	// are only unique per bot.
	Source     string
	UpdateID   int64
	Payload    []byte // the update as the platform sent it
	ReceivedAt time.Time
	// Chat names the chat the update belongs to ("" for none); updates of one chat are
	// processed in UpdateID order.
	Chat string
	// Key is the platform's own id for an update it does not number (a Messenger
	// message's mid, a comment's id); "" for platforms that number them (Telegram).
	// An update with a Key is recorded once per key, and the store gives it its
	// UpdateID, in the order updates are recorded. It is written, not read back.
	Key string
	// ProcessedAt is when the handler finished with it; nil until then.
	ProcessedAt *time.Time
}
