package orders

// Job is a background job's arguments. Its Kind names the worker; the method set is
// River's JobArgs, so stores insert these with River directly and workers in package
// jobs receive them typed.
type Job interface {
	Kind() string
}

// DeliverMessage sends a queued outbound message through its conversation's channel.
type DeliverMessage struct {
	ShopID    string `json:"shop_id"`
	MessageID string `json:"message_id"`
}

func (DeliverMessage) Kind() string { return "deliver_message" }

// DeliverNotice delivers a notice to the shop's operator channels.
type DeliverNotice struct {
	ShopID   string `json:"shop_id"`
	NoticeID string `json:"notice_id"`
}

func (DeliverNotice) Kind() string { return "deliver_notice" }

// ProcessRefund asks the gateway to refund, with the refund's idempotency key.
type ProcessRefund struct {
	ShopID   string `json:"shop_id"`
	RefundID string `json:"refund_id"`
}

func (ProcessRefund) Kind() string { return "process_refund" }

// ProcessCapture asks the gateway to capture Amount of an authorised payment. The
// payment's status (capturing) records that a capture is under way; the job's
// arguments are the request itself. Key is new for every request and is the gateway's
// idempotency key, so a retried job captures at most once, while a new request after a
// failed one is not answered with the old failure.
type ProcessCapture struct {
	ShopID    string `json:"shop_id"`
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id"`
	Amount    int64  `json:"amount"`
	Key       string `json:"key"`
}

func (ProcessCapture) Kind() string { return "process_capture" }

// ExpireSessions expires, at their gateways, the checkout sessions an order's attempts
// left open, once the order is cancelled. It names the order rather than each attempt:
// the worker lists the attempts when it runs, so it also sees a session attached
// after the cancel committed (a Pay now tap that was under way), and the cancel's
// transaction needs no extra read.
type ExpireSessions struct {
	ShopID  string `json:"shop_id"`
	OrderID string `json:"order_id"`
}

func (ExpireSessions) Kind() string { return "expire_sessions" }

// ReconcileAttempts asks gateways about attempts left pending (periodic).
type ReconcileAttempts struct{}

func (ReconcileAttempts) Kind() string { return "reconcile_attempts" }

// ProcessChatUpdate acts on a recorded chat update (see ChatUpdate).
type ProcessChatUpdate struct {
	ShopID   string `json:"shop_id"`
	Source   string `json:"source"`
	UpdateID int64  `json:"update_id"`
}

func (ProcessChatUpdate) Kind() string { return "process_chat_update" }

// Prioritized is a Job that runs after others waiting at the same time (River
// priority 1 is first, 4 last); jobs without it get River's default, 1. Stores insert
// with it.
type Prioritized interface {
	Priority() int
}

// RefreshCard brings an order's cards already in the customer's chat up to date with
// the order (paid, cancelled), on channels that can edit a sent message.
type RefreshCard struct {
	ShopID  string `json:"shop_id"`
	OrderID string `json:"order_id"`
}

func (RefreshCard) Kind() string { return "refresh_card" }

// Priority puts card edits after messages: under Telegram's per-bot limit, a customer
// waiting for "paid successfully" matters more than the card's look.
func (RefreshCard) Priority() int { return 4 }

// RemindDisputes sends the evidence-deadline reminders of open disputes that are due
// (periodic; see Service.RemindDisputes).
type RemindDisputes struct{}

func (RemindDisputes) Kind() string { return "remind_disputes" }

// Sweep is the hourly housekeeping (periodic): it deletes the dashboard's sessions
// and one-time sign-in links a week after they stopped working (auth.Sweep; not
// checkout sessions, which ExpireSessions ends at the gateways), and gives up gateway
// events that waited a month for their payment (Service.GiveUpAwaitingEvents).
type Sweep struct{}

func (Sweep) Kind() string { return "sweep" }

// IndexSearch writes the search terms of orders stored without them (periodic; see
// Store.IndexSearch): orders a replica still on an older version stored during a
// rolling deploy, or indexed by an older derivation of the terms (SearchMarker).
type IndexSearch struct{}

func (IndexSearch) Kind() string { return "index_search" }
