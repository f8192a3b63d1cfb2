package orders

import (
	"context"
	"time"
)

// Store persists chatpay's state. Reads are scoped by shop. Every change runs inside
// InTx: the Service loads what it changes with the Lock methods (SELECT … FOR UPDATE on
// Postgres; SQLite serialises writers with BEGIN IMMEDIATE), applies domain rules, writes
// back and enqueues the jobs that follow from the change, all in one transaction.
//
// Stores return ErrNotFound for a missing row and ErrConflict when a compare-and-set
// write finds the row changed. Implementations: orders/postgres and orders/sqlite, both
// checked by the contract suite in orders/storetest.
type Store interface {
	// InTx runs fn in one transaction, committing if fn returns nil. fn must not call
	// anything outside the store (no chat, no gateway): it may be retried.
	InTx(ctx context.Context, fn func(tx Tx) error) error

	// Order returns an order with its link, payments and shipments.
	Order(ctx context.Context, shopID, id string) (*Order, error)
	// OrderByCode returns an order by its human code.
	OrderByCode(ctx context.Context, shopID, code string) (*Order, error)
	// OrderByTokenHash returns the order whose payment link has this token hash, from
	// any shop (the token is the only credential on a pay page).
	OrderByTokenHash(ctx context.Context, tokenHash []byte) (*Order, error)
	// ListOrders returns orders newest first, filtered and paged by ID (IDs are
	// time-ordered UUIDv7). It returns at most filter.Limit orders.
	ListOrders(ctx context.Context, shopID string, filter OrderFilter) ([]*Order, error)
	// IndexSearch writes the search index rows (SearchTerms, SearchMarker) of orders,
	// across shops, whose customer has a name or phone but whose rows lack
	// SearchMarker: stored by a build that did not index them, or indexed by an older
	// derivation of the terms. It looks at such orders after afterID in ID order ("":
	// from the first), up to limit of them, and writes theirs in one transaction,
	// reading each order's customer in it; rows already there are kept, so a run
	// racing the order's own write or another run does no harm. It returns the ID to
	// go on after, "" when no such order is left after afterID, and how many orders
	// got search terms they did not have.
	IndexSearch(ctx context.Context, afterID string, limit int) (next string, indexed int, err error)

	Conversation(ctx context.Context, shopID, id string) (*Conversation, error)
	// ConversationByStaffThread returns the conversation whose staff topic is thread.
	ConversationByStaffThread(ctx context.Context, shopID string, thread int64) (*Conversation, error)
	// ConversationByExternalID returns the conversation on channel with the
	// customer's external id (ErrNotFound when there is none).
	ConversationByExternalID(ctx context.Context, shopID, channel, externalID string) (*Conversation, error)
	// OrderIDByKey returns the ID of the order created under an idempotency key.
	OrderIDByKey(ctx context.Context, shopID, key string) (string, error)
	Message(ctx context.Context, shopID, id string) (*Message, error)
	// QueuedBefore reports whether a message of the same conversation and direction
	// as m, queued before it (by created_at, then id), is still queued.
	QueuedBefore(ctx context.Context, m *Message) (bool, error)
	// OrderMessages returns every message about an order, oldest first.
	OrderMessages(ctx context.Context, shopID, orderID string) ([]*Message, error)
	// ListConversations returns the shop's conversations by their latest activity,
	// newest first (LastActivityAt, then ID, both descending), each with its newest
	// message in or out (nil when none); filtered by f.Channel, after f.Before, at
	// most f.Limit.
	ListConversations(ctx context.Context, shopID string, f ConversationFilter) ([]*ConversationSummary, error)
	// ConversationMessages returns the conversation's latest f.Limit messages in and
	// out (not those to the staff topic) before f.Before, by CreatedAt then ID, and
	// returns them oldest first.
	ConversationMessages(ctx context.Context, shopID, conversationID string, f MessageFilter) ([]*Message, error)
	// ConversationOrders returns the orders of a conversation, newest first, at most
	// limit.
	ConversationOrders(ctx context.Context, shopID, conversationID string, limit int) ([]*Order, error)
	Notices(ctx context.Context, shopID string, limit int) ([]*Notice, error)
	Notice(ctx context.Context, shopID, id string) (*Notice, error)
	// LatestAttempt returns the order's newest attempt, ErrNotFound if it has none.
	LatestAttempt(ctx context.Context, shopID, orderID string) (*Attempt, error)
	Attempt(ctx context.Context, shopID, id string) (*Attempt, error)
	// OrderAttempts returns the order's attempts, oldest first (the job that expires a
	// cancelled order's open sessions).
	OrderAttempts(ctx context.Context, shopID, orderID string) ([]*Attempt, error)
	// StaleAttempts returns attempts still created or pending that were created
	// between createdAfter and createdBefore, across all shops, in (created_at, id)
	// order, at most limit, starting after the attempt created at afterCreatedAt with
	// ID afterID (a zero afterCreatedAt starts at the oldest). Reconciliation pages
	// through every candidate with it, so that attempts its gateway keeps failing to
	// answer for cannot hold back the ones after them.
	StaleAttempts(ctx context.Context, createdAfter, createdBefore, afterCreatedAt time.Time, afterID string, limit int) ([]*Attempt, error)
	Refund(ctx context.Context, shopID, id string) (*Refund, error)
	OrderRefunds(ctx context.Context, shopID, orderID string) ([]*Refund, error)
	Payment(ctx context.Context, shopID, id string) (*Payment, error)
	// ReportPayments returns the shop's payments created in [from, to), oldest first
	// (by created_at, then id), each with its order's code, customer name, payment
	// status, creation time and metadata; at most limit.
	ReportPayments(ctx context.Context, shopID string, from, to time.Time, limit int) ([]*ReportPayment, error)
	// AttemptCounts counts the shop's attempts created in [from, to) by status and
	// failure reason, sorted by both.
	AttemptCounts(ctx context.Context, shopID string, from, to time.Time) ([]AttemptCount, error)

	// Dispute returns one of the shop's disputes.
	Dispute(ctx context.Context, shopID, id string) (*Dispute, error)
	// ListDisputes returns the shop's disputes newest first (by ID), filtered by
	// status (DisputeClosed: won or lost) and paged by BeforeID, at most Limit.
	ListDisputes(ctx context.Context, shopID string, f DisputeFilter) ([]*Dispute, error)
	// DisputesDue returns open disputes, across shops, whose evidence is due after
	// dueAfter and no later than dueBefore, soonest first (the reminder job).
	DisputesDue(ctx context.Context, dueAfter, dueBefore time.Time, limit int) ([]*Dispute, error)

	// GiveUpAwaitingEvents sets the outcome of the events, across shops, that still
	// wait for their payment (OutcomeAwaitingPayment) and were received before
	// receivedBefore to OutcomePaymentNeverSeen, so that no payment recorded later
	// applies them. It works in statements of at most batch events, each its own
	// transaction, looping until one finds fewer, and returns how many events it gave
	// up in all, also when it fails part way: those stay given up. An event applied
	// meanwhile by the transaction that records its payment keeps that outcome.
	GiveUpAwaitingEvents(ctx context.Context, receivedBefore time.Time, batch int) (int, error)

	// ChatUpdate returns a recorded chat update.
	ChatUpdate(ctx context.Context, shopID, source string, updateID int64) (*ChatUpdate, error)
	// ChatUpdateWaiting reports whether an update of u's chat with a smaller id is not
	// processed yet (u must then wait for it).
	ChatUpdateWaiting(ctx context.Context, u *ChatUpdate) (bool, error)
	// ChatUpdateToHandle is ChatUpdate and ChatUpdateWaiting in one read, from one
	// snapshot: the update, and whether an update of its chat with a smaller id is
	// not processed yet. The job that handles an update asks both for every update,
	// so one round trip instead of two is worth an extra method.
	ChatUpdateToHandle(ctx context.Context, shopID, source string, updateID int64) (u *ChatUpdate, waiting bool, err error)
	// ChatOffset returns where long polling of source resumes, 0 when it never ran.
	ChatOffset(ctx context.Context, shopID, source string) (int64, error)

	// ShopSettings returns what the shop's owner saved in the dashboard's settings,
	// ErrNotFound when nothing was ever saved.
	ShopSettings(ctx context.Context, shopID string) (*ShopSettings, error)
	// AllShopSettings returns every shop's saved settings, across shops: the Service
	// lays them over the configured shops at start and on every reload.
	AllShopSettings(ctx context.Context) ([]*ShopSettings, error)

	// Secret returns the instance secret with this name, creating it with gen() on
	// first use. It keeps generated keys (the demo shop's API key, the link key) stable
	// across restarts.
	Secret(ctx context.Context, name string, gen func() (string, error)) (string, error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is the write side of a store transaction.
type Tx interface {
	// NextOrderCode returns the shop's next order number, starting at 1001.
	NextOrderCode(ctx context.Context, shopID string) (int64, error)
	// UpsertConversation returns the shop's conversation for (channel, external id),
	// creating it from c when there is none. It fills c.ID and c.CreatedAt.
	UpsertConversation(ctx context.Context, c *Conversation) error

	// UpdateConversation writes CustomerName, LastInboundAt and StaffThreadID.
	UpdateConversation(ctx context.Context, c *Conversation) error
	// SetStaffThread writes the conversation's StaffThreadID and nothing else, so that
	// a customer's message recorded meanwhile keeps its LastInboundAt and name. It
	// returns ErrNotFound when the shop has no such conversation, and ErrConflict (on
	// Postgres, when the transaction commits) when the topic is another
	// conversation's.
	SetStaffThread(ctx context.Context, shopID, conversationID string, thread int64) error
	// InsertOrderKey records that key created the order. A key already recorded fails
	// the transaction with ErrConflict (on Postgres, when it commits).
	InsertOrderKey(ctx context.Context, shopID, key, orderID string) error

	// InsertOrder stores a new order and its link (o.Link, when set).
	InsertOrder(ctx context.Context, o *Order) error
	// LockOrder loads an order for update, with its link, payments and shipments.
	LockOrder(ctx context.Context, shopID, id string) (*Order, error)
	// UpdateOrder writes the order's status fields (Status, PaymentStatus, PaidAt,
	// UpdatedAt) and its ConversationID if its stored Version still equals
	// o.Version, then increments o.Version. It returns ErrConflict otherwise.
	UpdateOrder(ctx context.Context, o *Order) error

	InsertAttempt(ctx context.Context, a *Attempt) error
	// LockAttemptBySession loads the attempt for a gateway session for update.
	LockAttemptBySession(ctx context.Context, shopID, gateway, sessionID string) (*Attempt, error)
	LockAttempt(ctx context.Context, shopID, id string) (*Attempt, error)
	// UpdateAttempt writes SessionID, Status, FailureReason and UpdatedAt.
	UpdateAttempt(ctx context.Context, a *Attempt) error

	InsertPayment(ctx context.Context, p *Payment) error
	// UpdatePayment writes Status, RefundedAmount and Amount (a capture may take less
	// than was authorised).
	UpdatePayment(ctx context.Context, p *Payment) error
	InsertRefund(ctx context.Context, r *Refund) error
	LockRefund(ctx context.Context, shopID, id string) (*Refund, error)
	// UpdateRefund writes Status, GatewayRef, FailureReason and UpdatedAt.
	UpdateRefund(ctx context.Context, r *Refund) error
	// RefundsTotal returns the sum of pending and succeeded refunds of a payment.
	RefundsTotal(ctx context.Context, shopID, paymentID string) (int64, error)
	// RefundsCount returns how many pending and succeeded refunds a payment has (the
	// gateways that limit refunds per payment count those).
	RefundsCount(ctx context.Context, shopID, paymentID string) (int, error)
	// PaymentByRef returns the shop's payment that the gateway knows as ref (the
	// GatewayRef recorded with it: a Stripe PaymentIntent, an Omise charge), the
	// oldest when there are several; ErrNotFound when none, and always for an empty
	// ref. It does not lock: callers lock the payment's order.
	PaymentByRef(ctx context.Context, shopID, gateway, ref string) (*Payment, error)
	InsertShipment(ctx context.Context, s *Shipment) error

	// OrderDisputes returns the order's disputes, oldest first. Callers hold the
	// order's lock, which serialises every change to its disputes.
	OrderDisputes(ctx context.Context, shopID, orderID string) ([]*Dispute, error)
	// InsertDispute stores a new dispute; one with the same (shop, gateway, gateway
	// dispute id) fails the transaction.
	InsertDispute(ctx context.Context, d *Dispute) error
	// UpdateDispute writes Status, Reason, Amount, Currency, EvidenceDueAt,
	// RemindedDays, UpdatedAt and ClosedAt.
	UpdateDispute(ctx context.Context, d *Dispute) error

	InsertMessage(ctx context.Context, m *Message) error
	// LockMessage loads the shop's message for update: until the transaction ends,
	// another transaction's LockMessage of it waits, so that what the caller writes
	// from what it read is not based on a state already overwritten.
	LockMessage(ctx context.Context, shopID, id string) (*Message, error)
	// UpdateMessage writes Status, ExternalID, FailureReason and SentAt.
	UpdateMessage(ctx context.Context, m *Message) error
	// EditMessage writes Text and Buttons of the shop's message m.ID to the customer
	// (DirectionOut), leaving its delivery as it is: a delivered card brought up to
	// date. It returns ErrNotFound, and writes nothing, when the shop has no such
	// message, also when the message is the customer's own or went to staff. Writing
	// what is already stored is not an error.
	EditMessage(ctx context.Context, m *Message) error
	InsertNotice(ctx context.Context, n *Notice) error

	// InsertEvents records gateway events. For each it reports false, and writes
	// nothing, when an event with the same (shop, gateway, event id) is already
	// recorded, also earlier in evs.
	InsertEvents(ctx context.Context, evs []*GatewayEvent) ([]bool, error)
	// SetEventOutcome records what applying the event did.
	SetEventOutcome(ctx context.Context, e *GatewayEvent) error
	// DeferEvent records e.Outcome as SetEventOutcome does, and with it what applying
	// the event later needs beyond what InsertEvents stored: e.Dispute. The Service
	// defers an event whose payment is not recorded yet (OutcomeAwaitingPayment).
	DeferEvent(ctx context.Context, e *GatewayEvent) error
	// EventsByRef returns the shop's events of gateway whose PaymentRef is ref and
	// whose outcome is outcome, oldest first (by ReceivedAt, then EventID), with
	// every field InsertEvents and DeferEvent stored (not Authorized). It sees this
	// transaction's own writes.
	EventsByRef(ctx context.Context, shopID, gateway, ref, outcome string) ([]*GatewayEvent, error)
	// LockPaymentRef serialises, until the transaction ends, the transactions that
	// record a payment the gateway knows as ref and those that find no such payment
	// and defer an event about it. Reads after it see every such transaction that
	// committed before it returned; so an event deferred concurrently with the
	// payment's arrival is either seen by the payment's transaction or sees the
	// payment. Stores whose writers are serialised anyway (SQLite) do nothing.
	LockPaymentRef(ctx context.Context, shopID, gateway, ref string) error

	// InsertChatUpdates records chat updates. An update with a Key is unique on it
	// and gets the next UpdateID of its source (written into it); others are unique
	// on their UpdateID. For each it reports false, and writes
	// nothing, when the same (shop, source, update id) is already recorded, also
	// earlier in ups.
	InsertChatUpdates(ctx context.Context, ups []*ChatUpdate) ([]bool, error)
	// MarkChatUpdateProcessed records that the handler is done with an update.
	MarkChatUpdateProcessed(ctx context.Context, shopID, source string, updateID int64, at time.Time) error
	// SetChatOffset records where long polling of source resumes. The offset only
	// moves forward: a smaller one than recorded changes nothing.
	SetChatOffset(ctx context.Context, shopID, source string, next int64) error

	// SaveShopSettings writes st if the stored settings' version is still st.Version
	// (0: none saved yet), then sets st.Version to the new version, one more. It
	// returns ErrConflict otherwise, and writes nothing.
	SaveShopSettings(ctx context.Context, st *ShopSettings) error

	// Enqueue inserts background jobs in this transaction (River InsertManyTx), so they
	// run if and only if the transaction commits.
	Enqueue(ctx context.Context, jobs ...Job) error
}

// OrderFilter selects orders for ListOrders. Empty fields do not filter.
type OrderFilter struct {
	Status        string
	PaymentStatus string
	// Metadata selects orders whose metadata has every one of these keys with exactly
	// that value (an order without the key does not match, whatever the value).
	Metadata map[string]string
	// Channel is the customer's channel: webchat, telegram, messenger, or
	// ChannelNone for orders without a conversation.
	Channel string
	// CreatedFrom and CreatedBefore keep the orders created at or after CreatedFrom
	// and before CreatedBefore (zero: unbounded). With either set and no Query, the
	// orders come newest first by CreatedAt (then ID), which is their ID order for
	// every order chatpay makes (its IDs are UUIDv7 taken as the order is created),
	// and BeforeID pages in that order.
	CreatedFrom, CreatedBefore time.Time
	// Query searches by code, customer name or phone; see ParseSearch.
	Query string
	// BeforeID pages: only orders with an ID below it (older) are returned.
	BeforeID string
	Limit    int
}

// ChannelNone filters orders whose customer has no conversation (OrderFilter.Channel).
const ChannelNone = "none"
