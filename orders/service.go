package orders

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Renderer renders the texts chatpay sends, in the shop's locale. Package templates
// implements it.
type Renderer interface {
	// Message returns the text and buttons of an outbound message of this kind.
	Message(kind string, d MessageData) (string, []Button, error)
	// Notice returns the text of a notice of this kind for the shop's staff.
	Notice(kind string, d MessageData) (string, error)
}

// NoticeButtons is a Renderer that also gives a notice's buttons (Ship on a
// ready-to-ship notice). Renderers without it give none.
type NoticeButtons interface {
	NoticeButtons(kind string, d MessageData) []Button
}

// ShipButtonData is the data of the button that ships an order: "ship:" and the
// order's ID.
func ShipButtonData(orderID string) string { return "ship:" + orderID }

// MessageData is what a message or notice template may use.
type MessageData struct {
	Shop     *Shop
	Order    *Order
	LinkURL  string
	Amount   int64 // the refund or payment amount the text is about
	Shipment *Shipment
	Reason   string
	// Dispute is the dispute a dispute notice is about (its deadline and outcome).
	Dispute *Dispute
}

// Config configures a Service.
type Config struct {
	Shops     []*Shop
	Store     Store
	Renderer  Renderer
	PublicURL string
	// LinkKey seals payment-link tokens (LinkKeyLen bytes).
	LinkKey []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ScrubChatUpdate, when set, rewrites a chat update before it is stored (cmd
	// wires bot.RedactCardNumbersJSON: a card number typed into chat is never stored).
	ScrubChatUpdate func(raw []byte) []byte
	// ChatOfUpdate, when set, names the chat an update belongs to, so that one
	// chat's updates are processed in order (cmd wires the platform's parser).
	ChatOfUpdate func(source string, raw []byte) string
	// RefundRules, when set, returns the refund rules of a shop's gateway, which
	// CreateRefund enforces before it queues anything (cmd wires the gateway
	// registry's capabilities; this package knows no gateways). Nil enforces none.
	RefundRules func(shopID, gateway string) RefundRules
	// CaptureRules, when set, returns what a shop's gateway allows for capturing
	// authorised payments, which CapturePayment enforces like RefundRules. Nil allows
	// full and partial captures.
	CaptureRules func(shopID, gateway string) CaptureRules
	// Changes, when set, is told about every committed change people may be watching
	// (the dashboard, the web chat). Nil tells no one.
	Changes ChangePublisher
}

// RefundRules are what a payment's gateway allows for refunds.
type RefundRules struct {
	// PartialRefund: a refund may return less than the whole payment.
	PartialRefund bool
	// MaxRefunds is how many refunds one payment may have; 0 is no limit.
	MaxRefunds int
	// Window is how long after the payment a refund is possible; 0 is no limit.
	Window time.Duration
}

// Rules a refused refund names in its message, for the caller and for support.
const (
	RuleNoPartialRefund = "partial_refund_unsupported"
	RuleMaxRefunds      = "max_refunds_per_payment"
	RuleRefundWindow    = "refund_window_passed"
)

// Service applies chatpay's business rules. Every change is one store transaction
// that also enqueues the jobs following from it.
type Service struct {
	store     Store
	renderer  Renderer
	shops     *shopSet // configured, with the owners' settings laid over them (settings.go)
	publicURL string
	sealer    *linkSealer
	now       func() time.Time
	scrub     func([]byte) []byte
	chatOf    func(string, []byte) string
	rules     func(string, string) RefundRules
	captures  func(string, string) CaptureRules
	changes   ChangePublisher
}

// NewService returns a Service.
func NewService(cfg Config) (*Service, error) {
	sealer, err := newLinkSealer(cfg.LinkKey)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:     cfg.Store,
		renderer:  cfg.Renderer,
		scrub:     cfg.ScrubChatUpdate,
		chatOf:    cfg.ChatOfUpdate,
		rules:     cfg.RefundRules,
		captures:  cfg.CaptureRules,
		changes:   cfg.Changes,
		shops:     newShopSet(cfg.Shops, cfg.Renderer),
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		sealer:    sealer,
		now:       cfg.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Store returns the service's store, for read-only callers.
func (s *Service) Store() Store { return s.store }

// Now returns the current time as stores keep it: UTC, microsecond precision.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// NewID returns a new time-ordered identifier (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Shop returns a configured shop, with its owner's settings laid over it. It reads
// memory only. The shop is shared: callers must not change it.
func (s *Service) Shop(id string) (*Shop, error) {
	sh, ok := s.shops.get(id)
	if !ok {
		return nil, Errorf(ENOTFOUND, "Shop %q not found.", id)
	}
	return sh, nil
}

// Shops returns every configured shop, as Shop does, in the configuration's order.
func (s *Service) Shops() []*Shop { return s.shops.all() }

// LinkURL returns the public URL of an order's payment link, "" if it has none.
func (s *Service) LinkURL(o *Order) (string, error) {
	if o.Link == nil {
		return "", nil
	}
	tok := o.Link.Token
	if tok == "" {
		var err error
		if tok, err = s.sealer.open(o.ID, o.Link.SealedToken); err != nil {
			return "", err
		}
		o.Link.Token = tok
	}
	return s.publicURL + "/pay/" + tok, nil
}

// CreateOrderInput is what a caller gives to create an order. Amounts are minor units.
type CreateOrderInput struct {
	Customer      Customer
	Items         []Item
	ShippingFee   int64
	Currency      string
	ShipOnPayment bool
	PaymentMethod string
	Metadata      map[string]string
	// Key, when set, makes creating the order idempotent: another call with the same
	// key returns the order the first one created (a chat command processed twice).
	Key string
	// AwaitCustomer records who the order is for (Customer's Channel and ExternalID)
	// without opening a conversation with them, because the channel cannot write to
	// them yet: a Telegram user who has never started the shop's bot. No card is
	// sent; the order waits until the customer opens the conversation and ClaimOrder
	// attaches it.
	AwaitCustomer bool
}

const (
	maxItems         = 100
	maxItemName      = 200
	maxQuantity      = 1_000_000
	maxMetadataKeys  = 20
	maxMetadataKey   = 40
	maxMetadataValue = 500
	maxCustomerField = 200
)

var metadataKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// validate checks the input, fills defaults and computes the total.
func (in *CreateOrderInput) validate(shop *Shop) (total int64, err error) {
	if in.Currency == "" {
		in.Currency = shop.Currency
	}
	cur, ok := LookupCurrency(in.Currency)
	if !ok {
		return 0, Invalidf("currency", "unknown currency %q; use an ISO 4217 code such as VND, THB or USD", in.Currency)
	}
	in.Currency = cur.Code
	switch in.PaymentMethod {
	case "":
		in.PaymentMethod = MethodOnline
	case MethodOnline, MethodCOD:
	default:
		return 0, Invalidf("payment_method", "must be %q or %q, not %q", MethodOnline, MethodCOD, in.PaymentMethod)
	}
	switch c := &in.Customer; c.Channel {
	case "":
		if in.AwaitCustomer {
			return 0, Invalidf("customer.channel", "is required for an order that awaits its customer")
		}
		if c.ExternalID != "" {
			return 0, Invalidf("customer.channel", "is required with customer.external_id")
		}
	case ChannelWebchat, ChannelTelegram, ChannelMessenger:
		if strings.TrimSpace(c.ExternalID) == "" {
			return 0, Invalidf("customer.external_id", "is required for channel %q", c.Channel)
		}
		if c.Channel == ChannelTelegram {
			if _, _, err := TelegramChat(c.ExternalID); err != nil {
				return 0, Invalidf("customer.external_id", "must be a Telegram chat id (an integer), not %q", c.ExternalID)
			}
		}
	default:
		return 0, Invalidf("customer.channel", "must be webchat, telegram or messenger, not %q", c.Channel)
	}
	for field, v := range map[string]string{
		"customer.external_id": in.Customer.ExternalID,
		"customer.name":        in.Customer.Name,
		"customer.phone":       in.Customer.Phone,
	} {
		if utf8.RuneCountInString(v) > maxCustomerField || !utf8.ValidString(v) {
			return 0, Invalidf(field, "must be valid text of at most %d characters", maxCustomerField)
		}
	}
	if len(in.Items) == 0 {
		return 0, Invalidf("items", "an order needs at least one item")
	}
	if len(in.Items) > maxItems {
		return 0, Invalidf("items", "an order has at most %d items, got %d", maxItems, len(in.Items))
	}
	// Names are tidied below; the caller's slice is not ours to change.
	in.Items = slices.Clone(in.Items)
	for i := range in.Items {
		it := &in.Items[i]
		field := fmt.Sprintf("items[%d]", i)
		it.Name = strings.TrimSpace(it.Name)
		if it.Name == "" {
			return 0, Invalidf(field+".name", "is required")
		}
		if utf8.RuneCountInString(it.Name) > maxItemName || !utf8.ValidString(it.Name) {
			return 0, Invalidf(field+".name", "must be valid text of at most %d characters", maxItemName)
		}
		if it.Quantity <= 0 || it.Quantity > maxQuantity {
			return 0, Invalidf(field+".quantity", "must be between 1 and %d, got %d", maxQuantity, it.Quantity)
		}
		if it.UnitPrice < 0 || it.UnitPrice > MaxAmount {
			return 0, Invalidf(field+".unit_price", "must be between 0 and %d minor units, got %d", MaxAmount, it.UnitPrice)
		}
		line, ok := mulAmount(it.Quantity, it.UnitPrice)
		if !ok {
			return 0, Invalidf(field, "quantity × unit_price exceeds the largest amount chatpay accepts (%d)", MaxAmount)
		}
		if total, ok = addAmount(total, line); !ok {
			return 0, Invalidf("items", "the order total exceeds the largest amount chatpay accepts (%d)", MaxAmount)
		}
	}
	if in.ShippingFee < 0 || in.ShippingFee > MaxAmount {
		return 0, Invalidf("shipping_fee", "must be between 0 and %d minor units, got %d", MaxAmount, in.ShippingFee)
	}
	if total, ok = addAmount(total, in.ShippingFee); !ok {
		return 0, Invalidf("shipping_fee", "the order total exceeds the largest amount chatpay accepts (%d)", MaxAmount)
	}
	if total == 0 && in.PaymentMethod == MethodOnline {
		return 0, Invalidf("items", "an online order must have a total above zero")
	}
	if len(in.Metadata) > maxMetadataKeys {
		return 0, Invalidf("metadata", "at most %d keys, got %d", maxMetadataKeys, len(in.Metadata))
	}
	for k, v := range in.Metadata {
		if len(k) > maxMetadataKey || !metadataKeyPattern.MatchString(k) {
			return 0, Invalidf("metadata", "key %q must be 1 to %d letters, digits, '_', '.' or '-'", k, maxMetadataKey)
		}
		if utf8.RuneCountInString(v) > maxMetadataValue || !utf8.ValidString(v) {
			return 0, Invalidf("metadata."+k, "must be valid text of at most %d characters", maxMetadataValue)
		}
	}
	return total, nil
}

// CreateOrder creates an order, its payment link (online orders) and, when the
// customer has a conversation, queues the order card to it.
func (s *Service) CreateOrder(ctx context.Context, shopID string, in CreateOrderInput) (*Order, error) {
	shop, err := s.Shop(shopID)
	if err != nil {
		return nil, err
	}
	if in.Key != "" {
		if o, err := s.orderByKey(ctx, shop.ID, in.Key); err == nil || !errors.Is(err, ErrNotFound) {
			return o, err
		}
	}
	total, err := in.validate(shop)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	o := &Order{
		ID:            NewID(),
		ShopID:        shop.ID,
		Status:        StatusAwaitingPayment,
		PaymentStatus: PaymentUnpaid,
		PaymentMethod: in.PaymentMethod,
		Currency:      in.Currency,
		Items:         in.Items,
		ShippingFee:   in.ShippingFee,
		Total:         total,
		Customer:      in.Customer,
		ShipOnPayment: in.ShipOnPayment,
		Metadata:      in.Metadata,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if o.Metadata == nil {
		o.Metadata = map[string]string{}
	}
	if o.PaymentMethod == MethodOnline {
		tok := NewLinkToken()
		o.Link = &PaymentLink{
			OrderID:     o.ID,
			TokenHash:   HashLinkToken(tok),
			SealedToken: s.sealer.seal(o.ID, tok),
			CreatedAt:   now,
			Token:       tok,
		}
	}
	err = s.inTx(ctx, func(tx Tx) error {
		code, err := tx.NextOrderCode(ctx, shop.ID)
		if err != nil {
			return err
		}
		o.Code = strconv.FormatInt(code, 10)
		if in.Customer.Channel != "" && !in.AwaitCustomer {
			conv := &Conversation{
				ID:           NewID(),
				ShopID:       shop.ID,
				Channel:      in.Customer.Channel,
				ExternalID:   in.Customer.ExternalID,
				CustomerName: in.Customer.Name,
				CreatedAt:    now,
			}
			if err := tx.UpsertConversation(ctx, conv); err != nil {
				return err
			}
			o.ConversationID = conv.ID
		}
		if err := tx.InsertOrder(ctx, o); err != nil {
			return err
		}
		if in.Key != "" {
			if err := tx.InsertOrderKey(ctx, shop.ID, in.Key, o.ID); err != nil {
				return err
			}
		}
		if o.PaymentMethod == MethodOnline {
			return s.queueMessage(ctx, tx, shop, o, KindOrderCard, MessageData{})
		}
		return nil
	})
	if errors.Is(err, ErrConflict) && in.Key != "" {
		// The same key, concurrently: the other call's order is the one.
		if existing, kerr := s.orderByKey(ctx, shop.ID, in.Key); kerr == nil {
			return existing, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// orderByKey returns the order created under an idempotency key.
func (s *Service) orderByKey(ctx context.Context, shopID, key string) (*Order, error) {
	id, err := s.store.OrderIDByKey(ctx, shopID, key)
	if err != nil {
		return nil, err
	}
	return s.Order(ctx, shopID, id)
}

// Order returns one of the shop's orders.
func (s *Service) Order(ctx context.Context, shopID, id string) (*Order, error) {
	o, err := s.store.Order(ctx, shopID, id)
	if err != nil {
		return nil, notFound(err, "Order %s not found.", id)
	}
	return o, nil
}

// ListOrders lists the shop's orders, newest first.
func (s *Service) ListOrders(ctx context.Context, shopID string, f OrderFilter) ([]*Order, error) {
	if f.Status != "" && !validStatus(f.Status) {
		return nil, Invalidf("status", "unknown order status %q", f.Status)
	}
	if f.PaymentStatus != "" && !validPaymentStatus(f.PaymentStatus) {
		return nil, Invalidf("payment_status", "unknown payment status %q", f.PaymentStatus)
	}
	if len(f.Metadata) > maxMetadataKeys {
		return nil, Invalidf("metadata", "at most %d metadata filters, got %d", maxMetadataKeys, len(f.Metadata))
	}
	// Sorted, so that an invalid request names the same parameter every time.
	for _, k := range slices.Sorted(maps.Keys(f.Metadata)) {
		if len(k) > maxMetadataKey || !metadataKeyPattern.MatchString(k) {
			return nil, Invalidf(MetadataParam(k), "key must be 1 to %d letters, digits, '_', '.' or '-'", maxMetadataKey)
		}
		// No stored value is longer or invalid text, so such a filter could only match
		// nothing; Postgres would reject invalid UTF-8 in jsonb outright.
		if v := f.Metadata[k]; utf8.RuneCountInString(v) > maxMetadataValue || !utf8.ValidString(v) {
			return nil, Invalidf(MetadataParam(k), "must be valid text of at most %d characters", maxMetadataValue)
		}
	}
	switch f.Channel {
	case "", ChannelWebchat, ChannelTelegram, ChannelMessenger, ChannelNone:
	default:
		return nil, Invalidf("channel", "must be webchat, telegram, messenger or none, not %q", f.Channel)
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedFrom.Before(f.CreatedBefore) {
		return nil, Invalidf("to", "must be after from")
	}
	if f.Query = strings.TrimSpace(f.Query); utf8.RuneCountInString(f.Query) > MaxSearchQuery || !utf8.ValidString(f.Query) {
		return nil, Invalidf("q", "must be valid text of at most %d characters", MaxSearchQuery)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 200 {
		return nil, Invalidf("limit", "must be between 1 and 200, got %d", f.Limit)
	}
	return s.store.ListOrders(ctx, shopID, f)
}

// MetadataParam is the query parameter that filters orders by a metadata key,
// metadata[key]; errors about a metadata filter name it.
func MetadataParam(key string) string { return "metadata[" + key + "]" }

func validStatus(s string) bool {
	switch s {
	case StatusAwaitingPayment, StatusPaid, StatusShipped, StatusCompleted, StatusCancelled, StatusDeleted:
		return true
	}
	return false
}

func validPaymentStatus(s string) bool {
	switch s {
	case PaymentUnpaid, PaymentPaid, PaymentPartiallyRefunded, PaymentRefunded, PaymentDisputed, PaymentAuthorized:
		return true
	}
	return false
}

// update runs fn on a locked order and writes it back, all in one transaction:
// select for update, callback, compare-and-set write, commit.
func (s *Service) update(ctx context.Context, shopID, id string, fn func(tx Tx, shop *Shop, o *Order) error) (*Order, error) {
	shop, err := s.Shop(shopID)
	if err != nil {
		return nil, err
	}
	var out *Order
	err = s.inTx(ctx, func(tx Tx) error {
		o, err := tx.LockOrder(ctx, shopID, id)
		if err != nil {
			return notFound(err, "Order %s not found.", id)
		}
		before := *o
		if err := fn(tx, shop, o); err != nil {
			return err
		}
		if o.Status != before.Status || o.PaymentStatus != before.PaymentStatus || o.ConversationID != before.ConversationID {
			o.UpdatedAt = s.Now()
			if err := tx.UpdateOrder(ctx, o); err != nil {
				return err
			}
		}
		out = o
		return nil
	})
	return out, err
}

// CancelOrder cancels an order before it ships. The payment link stops working, the
// customer is told, any money already paid is refunded, and a payment that is only
// authorised is released (voided) at the gateway: nothing was taken, so nothing is
// refunded. The order's payment status stays authorised until the gateway confirms
// the release (CompleteVoid, or its webhook), and is unpaid from then on.
func (s *Service) CancelOrder(ctx context.Context, shopID, id string) (*Order, error) {
	return s.update(ctx, shopID, id, func(tx Tx, shop *Shop, o *Order) error {
		switch o.Status {
		case StatusAwaitingPayment, StatusPaid:
		case StatusCancelled:
			return Errorf(ECONFLICT, "Order %s is already cancelled.", o.Code)
		default:
			return Errorf(ECONFLICT, "Order %s is %s and can no longer be cancelled.", o.Code, o.Status)
		}
		if o.PaymentStatus == PaymentDisputed {
			// The customer's bank is already pulling the money back; refunding too
			// would return it twice.
			return Errorf(ECONFLICT, "Order %s has a disputed payment; settle the dispute before cancelling.", o.Code)
		}
		if slices.ContainsFunc(o.Payments, func(p *Payment) bool { return p.Status == PaymentStatusCapturing }) {
			// The gateway may be taking the money right now: whether to release or to
			// refund is known only once the capture is done.
			return Errorf(ECONFLICT, "Order %s's payment is being captured; cancel the order once the capture is done, which refunds it.", o.Code)
		}
		o.Status = StatusCancelled
		for _, p := range o.Payments {
			if p.Duplicate {
				continue // refunded or released on arrival
			}
			if p.Status == PaymentStatusAuthorized {
				if err := s.startVoid(ctx, tx, o, p); err != nil {
					return err
				}
				continue
			}
			refunded, err := tx.RefundsTotal(ctx, shopID, p.ID)
			if err != nil {
				return err
			}
			if rest := p.Amount - refunded; rest > 0 {
				if _, err := s.insertRefund(ctx, tx, o, p, rest, RefundReasonRequested, ""); err != nil {
					return err
				}
			}
		}
		if err := s.queueMessage(ctx, tx, shop, o, KindCancelled, MessageData{}); err != nil {
			return err
		}
		// The link stops working here, but a checkout session it already opened stays
		// payable at the gateway (a day, on Stripe) unless it is expired there. The
		// job goes in with the cancel, so it runs if and only if the cancel commits;
		// it is enqueued for every cancel, also of a paid order, because a customer
		// may have opened a second session before paying the first.
		if err := tx.Enqueue(ctx, ExpireSessions{ShopID: shop.ID, OrderID: o.ID}); err != nil {
			return err
		}
		if o.ConversationID == "" {
			return nil
		}
		// The card's Pay now no longer works: show the card cancelled.
		return tx.Enqueue(ctx, RefreshCard{ShopID: shop.ID, OrderID: o.ID})
	})
}

// DeleteOrder marks an order deleted: it disappears from default views and its link
// stops working. Only orders that never took money can be deleted.
func (s *Service) DeleteOrder(ctx context.Context, shopID, id string) (*Order, error) {
	return s.update(ctx, shopID, id, func(tx Tx, shop *Shop, o *Order) error {
		switch {
		case o.Status == StatusDeleted:
			return Errorf(ECONFLICT, "Order %s is already deleted.", o.Code)
		case o.Status == StatusShipped || o.Status == StatusCompleted:
			return Errorf(ECONFLICT, "Order %s is %s and can no longer be deleted.", o.Code, o.Status)
		case o.PaymentStatus != PaymentUnpaid && o.PaymentStatus != PaymentRefunded:
			return Errorf(ECONFLICT, "Order %s has been paid; cancel it (which refunds it) instead of deleting it.", o.Code)
		}
		o.Status = StatusDeleted
		return nil
	})
}

// ResendLink queues the order card to the customer's conversation again.
func (s *Service) ResendLink(ctx context.Context, shopID, id string) error {
	_, err := s.update(ctx, shopID, id, func(tx Tx, shop *Shop, o *Order) error {
		if o.Link == nil {
			return Errorf(ECONFLICT, "Order %s is cash on delivery and has no payment link.", o.Code)
		}
		if !o.LinkActive() {
			return Errorf(ECONFLICT, "Order %s is %s; its payment link no longer works.", o.Code, o.Status)
		}
		if o.ConversationID == "" {
			return Errorf(ECONFLICT, "Order %s has no customer conversation to send the link to; share its payment link instead.", o.Code)
		}
		return s.queueMessage(ctx, tx, shop, o, KindOrderCard, MessageData{})
	})
	return err
}

// CreateShipment records a shipment. Online orders must be paid first.
func (s *Service) CreateShipment(ctx context.Context, shopID, id, carrier, tracking string) (*Shipment, error) {
	carrier, tracking = strings.TrimSpace(carrier), strings.TrimSpace(tracking)
	if carrier == "" {
		return nil, Invalidf("carrier", "is required")
	}
	if utf8.RuneCountInString(carrier) > 100 || utf8.RuneCountInString(tracking) > 100 {
		return nil, Invalidf("carrier", "carrier and tracking_number are at most 100 characters each")
	}
	var sh *Shipment
	_, err := s.update(ctx, shopID, id, func(tx Tx, shop *Shop, o *Order) error {
		switch o.Status {
		case StatusPaid, StatusShipped:
		case StatusAwaitingPayment:
			if o.PaymentMethod != MethodCOD {
				return Errorf(EPAYMENTREQUIRED, "Order %s is not paid yet; it can be shipped once payment arrives.", o.Code)
			}
		default:
			return Errorf(ECONFLICT, "Order %s is %s and cannot be shipped.", o.Code, o.Status)
		}
		if o.PaymentStatus == PaymentRefunded {
			return Errorf(ECONFLICT, "Order %s has been refunded and cannot be shipped.", o.Code)
		}
		if o.PaymentStatus == PaymentAuthorized {
			// A hold can expire or be released; goods leave only against captured money.
			return Errorf(EPAYMENTREQUIRED, "Order %s's payment is only authorised; capture it before shipping.", o.Code)
		}
		// The payment status turns refunded only when the gateway confirms the refund,
		// but a refund of everything is decided once it is queued: goods sent meanwhile
		// would go out for money already on its way back.
		refunding, err := fullyRefunding(ctx, tx, o)
		if err != nil {
			return err
		}
		if refunding {
			return Errorf(ECONFLICT, "Order %s is being refunded in full and cannot be shipped: nothing paid is left to ship for.", o.Code)
		}
		sh = &Shipment{
			ID:             NewID(),
			ShopID:         shopID,
			OrderID:        o.ID,
			Carrier:        carrier,
			TrackingNumber: tracking,
			CreatedAt:      s.Now(),
		}
		if err := tx.InsertShipment(ctx, sh); err != nil {
			return err
		}
		o.Shipments = append(o.Shipments, sh)
		o.Status = StatusShipped
		return s.queueMessage(ctx, tx, shop, o, KindShipped, MessageData{Shipment: sh})
	})
	if err != nil {
		return nil, err
	}
	return sh, nil
}

// fullyRefunding reports whether the order's refunds, pending or succeeded, cover
// everything its own payments took (FullyRefunding), reading each payment's total
// inside tx.
func fullyRefunding(ctx context.Context, tx Tx, o *Order) (bool, error) {
	back := make(map[string]int64, len(o.Payments))
	for _, p := range o.Payments {
		if p.Duplicate {
			continue
		}
		// RefundsTotal counts pending refunds with succeeded ones, and also what a lost
		// dispute took back.
		done, err := tx.RefundsTotal(ctx, o.ShopID, p.ID)
		if err != nil {
			return false, err
		}
		back[p.ID] = done
	}
	return FullyRefunding(o, back), nil
}

// FullyRefunding reports whether back, what the refunds of each payment (by ID) that
// are pending or succeeded return, covers everything the order's own payments took:
// then nothing paid is left to ship for. A duplicate payment and its refund return
// extra money, not the order's, so neither counts. The service refuses a shipment
// by this rule and the dashboard disables Ship by it.
func FullyRefunding(o *Order, back map[string]int64) bool {
	var paid, returned int64
	for _, p := range o.Payments {
		if !p.Duplicate {
			paid += p.Amount
			returned += back[p.ID]
		}
	}
	return paid > 0 && returned >= paid
}

// CompleteOrder marks a shipped order completed. A completed cash-on-delivery order
// counts as paid.
func (s *Service) CompleteOrder(ctx context.Context, shopID, id string) (*Order, error) {
	return s.update(ctx, shopID, id, func(tx Tx, shop *Shop, o *Order) error {
		if o.Status != StatusShipped {
			return Errorf(ECONFLICT, "Order %s is %s; only shipped orders can be completed.", o.Code, o.Status)
		}
		o.Status = StatusCompleted
		if o.PaymentMethod == MethodCOD && o.PaymentStatus == PaymentUnpaid {
			now := s.Now()
			o.PaymentStatus = PaymentPaid
			o.PaidAt = &now
		}
		return nil
	})
}

// CreateRefund refunds part or (amount nil) all of what is left to refund on the
// order's payment. The gateway is called by a job with a deterministic idempotency key.
func (s *Service) CreateRefund(ctx context.Context, shopID, id string, amount *int64) (*Refund, error) {
	return s.createRefund(ctx, shopID, id, amount, "")
}

// CreateRefundOnce is CreateRefund for a request that may be repeated (a chat command
// processed again): the refund's identity comes from key, so a repeat returns the
// refund the first one created instead of refunding again.
func (s *Service) CreateRefundOnce(ctx context.Context, shopID, id string, amount *int64, key string) (*Refund, error) {
	refundID := "rf:" + key
	if r, err := s.store.Refund(ctx, shopID, refundID); err == nil {
		return r, nil
	}
	r, err := s.createRefund(ctx, shopID, id, amount, refundID)
	if errors.Is(err, ErrConflict) {
		if r, rerr := s.store.Refund(ctx, shopID, refundID); rerr == nil {
			return r, nil
		}
	}
	return r, err
}

func (s *Service) createRefund(ctx context.Context, shopID, id string, amount *int64, refundID string) (*Refund, error) {
	if amount != nil && (*amount <= 0 || *amount > MaxAmount) {
		return nil, Invalidf("amount", "must be a positive amount in minor units, got %d", *amount)
	}
	var r *Refund
	_, err := s.update(ctx, shopID, id, func(tx Tx, shop *Shop, o *Order) error {
		if o.PaymentStatus == PaymentDisputed {
			return Errorf(ECONFLICT, "Order %s has a disputed payment; a refund would return the money twice.", o.Code)
		}
		if o.PaymentStatus == PaymentAuthorized {
			return Errorf(ECONFLICT, "Order %s's payment is only authorised and nothing is captured to refund; capture it first.", o.Code)
		}
		var pay *Payment
		var refundable int64
		for _, p := range o.Payments {
			if p.Duplicate {
				continue
			}
			done, err := tx.RefundsTotal(ctx, shopID, p.ID)
			if err != nil {
				return err
			}
			if rest := p.Amount - done; rest > 0 {
				pay, refundable = p, rest
				break
			}
		}
		if pay == nil {
			if o.PaymentStatus == PaymentUnpaid {
				return Errorf(EPAYMENTREQUIRED, "Order %s has not been paid; there is nothing to refund.", o.Code)
			}
			return Invalidf("amount", "order %s has nothing left to refund", o.Code)
		}
		want := refundable
		if amount != nil {
			want = *amount
		}
		if want > refundable {
			return Invalidf("amount", "%d exceeds the refundable amount of %d", want, refundable)
		}
		if err := s.checkRefundRules(ctx, tx, o, pay, want); err != nil {
			return err
		}
		var err error
		r, err = s.insertRefund(ctx, tx, o, pay, want, RefundReasonRequested, refundID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// checkRefundRules refuses a refund of amount on payment p that p's gateway does not
// allow, so that the refund fails now, with a reason, instead of in a job later.
func (s *Service) checkRefundRules(ctx context.Context, tx Tx, o *Order, p *Payment, amount int64) error {
	if s.rules == nil {
		return nil
	}
	rules := s.rules(o.ShopID, p.Gateway)
	if !rules.PartialRefund && amount != p.Amount {
		return Errorf(ECONFLICT, "Order %s: %s cannot refund part of a payment (%s); refund all %d of it or nothing.",
			o.Code, p.Gateway, RuleNoPartialRefund, p.Amount)
	}
	if rules.MaxRefunds > 0 {
		n, err := tx.RefundsCount(ctx, o.ShopID, p.ID)
		if err != nil {
			return err
		}
		if n >= rules.MaxRefunds {
			return Errorf(ECONFLICT, "Order %s: the payment already has %d refunds and %s allows at most %d (%s).",
				o.Code, n, p.Gateway, rules.MaxRefunds, RuleMaxRefunds)
		}
	}
	if rules.Window > 0 && s.Now().Sub(p.CreatedAt) > rules.Window {
		return Errorf(ECONFLICT, "Order %s: the payment was made on %s and %s refunds only within %s of a payment (%s).",
			o.Code, p.CreatedAt.UTC().Format(time.DateOnly), p.Gateway, windowText(rules.Window), RuleRefundWindow)
	}
	return nil
}

// windowText says a refund window in days when it is whole days (365 days, not 8760h).
func windowText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

func (s *Service) insertRefund(ctx context.Context, tx Tx, o *Order, p *Payment, amount int64, reason string, id string) (*Refund, error) {
	now := s.Now()
	if id == "" {
		id = NewID()
	}
	r := &Refund{
		ID:        id,
		ShopID:    o.ShopID,
		OrderID:   o.ID,
		PaymentID: p.ID,
		Amount:    amount,
		Currency:  p.Currency,
		Status:    RefundPending,
		Reason:    reason,
		CreatedAt: now,
		UpdatedAt: now,
	}
	// The key depends only on the refund's identity, so every retry of the job sends
	// the same one and the gateway refunds at most once.
	r.IdempotencyKey = "chatpay-refund-" + r.ID
	if err := tx.InsertRefund(ctx, r); err != nil {
		return nil, err
	}
	return r, tx.Enqueue(ctx, ProcessRefund{ShopID: o.ShopID, RefundID: r.ID})
}

// RefundResult is what the gateway answered to a refund request.
type RefundResult struct {
	Succeeded  bool
	GatewayRef string
	Reason     string
}

// CompleteRefund records the gateway's answer to a refund: on success the payment and
// the order's payment status are updated and the customer is told; on failure the
// owner is.
func (s *Service) CompleteRefund(ctx context.Context, shopID, refundID string, res RefundResult) error {
	r, err := s.store.Refund(ctx, shopID, refundID)
	if err != nil {
		return err
	}
	_, err = s.update(ctx, shopID, r.OrderID, func(tx Tx, shop *Shop, o *Order) error {
		r, err := tx.LockRefund(ctx, shopID, refundID)
		if err != nil {
			return err
		}
		if r.Status != RefundPending {
			return nil // already completed by an earlier run of the job
		}
		r.UpdatedAt = s.Now()
		if !res.Succeeded {
			r.Status, r.FailureReason = RefundFailed, res.Reason
			if err := tx.UpdateRefund(ctx, r); err != nil {
				return err
			}
			return s.notify(ctx, tx, shop, o, NoticeRefundFailed, MessageData{Amount: r.Amount, Reason: res.Reason})
		}
		r.Status, r.GatewayRef = RefundSucceeded, res.GatewayRef
		if err := tx.UpdateRefund(ctx, r); err != nil {
			return err
		}
		for _, p := range o.Payments {
			if p.ID == r.PaymentID {
				p.RefundedAmount += r.Amount
				if err := tx.UpdatePayment(ctx, p); err != nil {
					return err
				}
			}
		}
		settleRefunds(o)
		return s.queueMessage(ctx, tx, shop, o, KindRefunded, MessageData{Amount: r.Amount})
	})
	return err
}

// settleRefunds sets the order's payment status from what its payments have had
// refunded: partially or fully refunded. Duplicate payments do not count (they are
// refunded on arrival), and a disputed payment stays disputed.
func settleRefunds(o *Order) {
	var paid, refunded int64
	for _, p := range o.Payments {
		if !p.Duplicate {
			paid += p.Amount
			refunded += p.RefundedAmount
		}
	}
	if paid > 0 && o.PaymentStatus != PaymentDisputed {
		if refunded >= paid {
			o.PaymentStatus = PaymentRefunded
		} else if refunded > 0 {
			o.PaymentStatus = PaymentPartiallyRefunded
		}
	}
}

// applyRefunded applies an EventRefunded: it records, as a refund made at the gateway,
// whatever the gateway reports refunded on a payment beyond the refunds chatpay has
// for it. ev.Amount is the payment's cumulative refunded total, and chatpay's own
// refunds count whether pending or succeeded, so the webhook of a refund chatpay made
// adds nothing (it often arrives before the refund job records the gateway's answer,
// and CompleteRefund counts it then), and neither does a redelivered or older event.
//
// Counting pending refunds leaves one gap: a dashboard refund reported while a chatpay
// refund of at least as much is still pending adds nothing. The pending refund's own
// event then carries the larger total and records it, unless that refund fails.
func (s *Service) applyRefunded(ctx context.Context, tx Tx, shop *Shop, ev *GatewayEvent) (string, *Order, error) {
	// The payment is found by the gateway's reference for it, or, for a payment
	// recorded without one, by its session. Both lookups are scoped by the shop whose
	// endpoint received the event.
	var (
		orderID string
		isIt    func(*Payment) bool
	)
	p, err := tx.PaymentByRef(ctx, shop.ID, ev.Gateway, ev.PaymentRef)
	switch {
	case err == nil:
		orderID, isIt = p.OrderID, func(q *Payment) bool { return q.ID == p.ID }
	case !errors.Is(err, ErrNotFound):
		return "", nil, err
	case ev.SessionID != "":
		a, err := tx.LockAttemptBySession(ctx, shop.ID, ev.Gateway, ev.SessionID)
		if err == nil {
			orderID, isIt = a.OrderID, func(q *Payment) bool { return q.AttemptID == a.ID }
		} else if !errors.Is(err, ErrNotFound) {
			return "", nil, err
		}
	}
	if orderID == "" {
		// A payment chatpay has not recorded yet (the refund's webhook overtook the
		// checkout's), or money chatpay never took (the gateway account is also used
		// elsewhere): the event waits for the payment.
		return awaitingOutcome(ev), nil, nil
	}
	o, err := tx.LockOrder(ctx, shop.ID, orderID)
	if err != nil {
		return "", nil, err
	}
	// The payment as loaded under the order's lock, which every refund path takes.
	i := slices.IndexFunc(o.Payments, isIt)
	if i < 0 {
		// The session is known, its payment not yet.
		return awaitingOutcome(ev), o, nil
	}
	p = o.Payments[i]
	if !strings.EqualFold(ev.Currency, p.Currency) {
		return OutcomeIgnored, o, nil
	}
	known, err := tx.RefundsTotal(ctx, shop.ID, p.ID)
	if err != nil {
		return "", nil, err
	}
	// The gateway's total counts refunds only, not what a lost dispute took back,
	// which chatpay also records as a refund (RefundReasonDisputeLost): without
	// taking those out, a refund reported after a lost dispute (events arrive in any
	// order) would look known already and be lost.
	lost, err := disputeLosses(ctx, tx, o, p)
	if err != nil {
		return "", nil, err
	}
	// A gateway never refunds more than it took; the caps keep a wrong total from
	// making the payment look refunded beyond its amount.
	total := min(ev.Amount, p.Amount)
	add := min(total-max(known-lost, 0), p.Amount-known)
	if add <= 0 {
		return OutcomeIgnored, o, nil
	}
	now := s.Now()
	r := &Refund{
		ID:        NewID(),
		ShopID:    shop.ID,
		OrderID:   o.ID,
		PaymentID: p.ID,
		Amount:    add,
		Currency:  p.Currency,
		// Already done at the gateway: no ProcessRefund job ever sends this key; it
		// only has to be unique like every refund's (Postgres enforces it).
		IdempotencyKey: "gateway-refund-" + NewID(),
		Status:         RefundSucceeded,
		Reason:         RefundReasonGateway,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if err := tx.InsertRefund(ctx, r); err != nil {
		return "", nil, err
	}
	p.RefundedAmount += r.Amount
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return "", nil, err
	}
	before := o.PaymentStatus
	settleRefunds(o)
	if o.PaymentStatus != before {
		o.UpdatedAt = now
		if err := tx.UpdateOrder(ctx, o); err != nil {
			return "", nil, err
		}
	}
	if err := s.queueMessage(ctx, tx, shop, o, KindRefunded, MessageData{Amount: r.Amount}); err != nil {
		return "", nil, err
	}
	return OutcomeApplied, o, s.notify(ctx, tx, shop, o, NoticeRefundedAtGateway, MessageData{Amount: r.Amount})
}

// StartAttempt records a new payment attempt for the order behind a link token, before
// any gateway is called. The caller then creates the gateway session and attaches it.
func (s *Service) StartAttempt(ctx context.Context, token, gateway string) (*Attempt, *Order, error) {
	o, err := s.OrderByToken(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	shop, err := s.Shop(o.ShopID)
	if err != nil {
		return nil, nil, err
	}
	if gateway == "" && len(shop.Gateways) == 1 {
		gateway = shop.Gateways[0]
	}
	enabled := false
	for _, g := range shop.Gateways {
		enabled = enabled || g == gateway
	}
	if !enabled {
		return nil, nil, Invalidf("gateway", "choose one of: %s", strings.Join(shop.Gateways, ", "))
	}
	var a *Attempt
	o, err = s.update(ctx, o.ShopID, o.ID, func(tx Tx, shop *Shop, o *Order) error {
		if err := linkUsable(o); err != nil {
			return err
		}
		now := s.Now()
		a = &Attempt{
			ID:        NewID(),
			ShopID:    o.ShopID,
			OrderID:   o.ID,
			Gateway:   gateway,
			Amount:    o.Total, // amounts only ever come from the server
			Currency:  o.Currency,
			Status:    AttemptCreated,
			CreatedAt: now,
			UpdatedAt: now,
		}
		return tx.InsertAttempt(ctx, a)
	})
	if err != nil {
		return nil, nil, err
	}
	return a, o, nil
}

// AttachSession records the gateway session created for an attempt.
func (s *Service) AttachSession(ctx context.Context, a *Attempt, sessionID string) error {
	return s.inTx(ctx, func(tx Tx) error {
		cur, err := tx.LockAttempt(ctx, a.ShopID, a.ID)
		if err != nil {
			return err
		}
		cur.SessionID = sessionID
		cur.UpdatedAt = s.Now()
		if err := tx.UpdateAttempt(ctx, cur); err != nil {
			return err
		}
		*a = *cur
		return nil
	})
}

// OrderByToken returns the order behind a payment-link token, whatever its status.
func (s *Service) OrderByToken(ctx context.Context, token string) (*Order, error) {
	if !ValidLinkToken(token) {
		return nil, Errorf(ENOTFOUND, "This payment link does not exist.")
	}
	o, err := s.store.OrderByTokenHash(ctx, HashLinkToken(token))
	if err != nil {
		return nil, notFound(err, "This payment link does not exist.")
	}
	o.Link.Token = token
	return o, nil
}

// PayPageReader is a Store that reads what a pay page shows, the order and its latest
// attempt, in one go; Service.PayPage falls back to two reads on stores without it.
type PayPageReader interface {
	OrderAndLatestAttemptByTokenHash(ctx context.Context, tokenHash []byte) (*Order, *Attempt, error)
}

// PayPage returns the order behind a payment-link token and its latest attempt (nil
// when it has none): what the pay page shows.
func (s *Service) PayPage(ctx context.Context, token string) (*Order, *Attempt, error) {
	if !ValidLinkToken(token) {
		return nil, nil, Errorf(ENOTFOUND, "This payment link does not exist.")
	}
	r, ok := s.store.(PayPageReader)
	if !ok {
		o, err := s.OrderByToken(ctx, token)
		if err != nil {
			return nil, nil, err
		}
		a, err := s.store.LatestAttempt(ctx, o.ShopID, o.ID)
		if errors.Is(err, ErrNotFound) {
			return o, nil, nil
		}
		return o, a, err
	}
	o, a, err := r.OrderAndLatestAttemptByTokenHash(ctx, HashLinkToken(token))
	if err != nil {
		return nil, nil, notFound(err, "This payment link does not exist.")
	}
	o.Link.Token = token
	return o, a, nil
}

// linkUsable returns the error a pay page shows for a link that cannot take payment.
func linkUsable(o *Order) error {
	switch o.Status {
	case StatusAwaitingPayment:
		return nil
	case StatusCancelled, StatusDeleted:
		return Errorf(EGONE, "Order #%s was %s; this payment link no longer works.", o.Code, o.Status)
	default:
		return Errorf(ECONFLICT, "Order #%s is already paid.", o.Code)
	}
}

// EventResult says what applying a gateway event did.
type EventResult struct {
	Duplicate bool   // the event was already recorded; nothing changed
	Outcome   string // Outcome* constant
	Order     *Order // the order after the event, when the event matched one
	Paid      bool   // the event moved the order to paid
}

// ApplyEvent records a verified gateway event once and applies it, in one transaction:
// the event row (unique per shop, gateway and event id), the attempt and order
// transitions, and the follow-up jobs. A replay changes nothing.
func (s *Service) ApplyEvent(ctx context.Context, ev *GatewayEvent) (*EventResult, error) {
	res, errs := s.ApplyEvents(ctx, []*GatewayEvent{ev})
	return res[0], errs[0]
}

// ApplyEvents applies several events as ApplyEvent does, all in one transaction when
// it can. That is how the webhook server spreads a transaction's fixed cost (its
// round trips, its commit, River's insert) over webhooks that arrive together. If
// the shared transaction fails, each event is applied in a transaction of its own,
// so that one failing event never fails the others. res[i] and errs[i] are event i's.
//
// Events are applied in an order sorted by session, so that concurrent batches lock
// attempts in the same order; events of one session keep their order in evs.
func (s *Service) ApplyEvents(ctx context.Context, evs []*GatewayEvent) (res []*EventResult, errs []error) {
	res, errs = make([]*EventResult, len(evs)), make([]error, len(evs))
	type item struct {
		i    int
		ev   *GatewayEvent
		shop *Shop
	}
	items := make([]item, 0, len(evs))
	for i, ev := range evs {
		shop, err := s.Shop(ev.ShopID)
		if err != nil {
			errs[i] = err
			continue
		}
		if ev.ReceivedAt.IsZero() {
			ev.ReceivedAt = s.Now()
		}
		items = append(items, item{i, ev, shop})
	}
	slices.SortStableFunc(items, func(a, b item) int {
		return cmp.Or(strings.Compare(a.ev.ShopID, b.ev.ShopID), strings.Compare(a.ev.Gateway, b.ev.Gateway),
			strings.Compare(a.ev.SessionID, b.ev.SessionID))
	})
	apply := func(items []item) error {
		for _, it := range items {
			if it.ev.ID == "" {
				it.ev.ID = NewID()
			}
			it.ev.Outcome = ""
		}
		return s.inTx(ctx, func(tx Tx) error {
			batch := make([]*GatewayEvent, len(items))
			for k, it := range items {
				batch[k] = it.ev
			}
			fresh, err := tx.InsertEvents(ctx, batch)
			if err != nil {
				return err
			}
			for k, it := range items {
				r := &EventResult{}
				res[it.i] = r
				if !fresh[k] {
					r.Duplicate = true
					continue
				}
				if r.Outcome, r.Order, r.Paid, err = s.applyEvent(ctx, tx, it.shop, it.ev); err != nil {
					return err
				}
				it.ev.Outcome = r.Outcome
				record := tx.SetEventOutcome
				if r.Outcome == OutcomeAwaitingPayment {
					record = tx.DeferEvent
				}
				if err := record(ctx, it.ev); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if len(items) == 0 {
		return res, errs
	}
	err := apply(items)
	if err == nil {
		return res, errs
	}
	if len(items) == 1 {
		res[items[0].i], errs[items[0].i] = nil, err
		return res, errs
	}
	for _, it := range items {
		if err := apply([]item{it}); err != nil {
			res[it.i], errs[it.i] = nil, err
		}
	}
	return res, errs
}

func (s *Service) applyEvent(ctx context.Context, tx Tx, shop *Shop, ev *GatewayEvent) (outcome string, o *Order, paid bool, err error) {
	switch ev.Type {
	case EventSucceeded, EventFailed, EventPending:
	case EventRefunded:
		outcome, o, err = s.applyOrAwait(ctx, tx, shop, ev, s.applyRefunded)
		return outcome, o, false, err
	case EventDisputeOpened, EventDisputeUpdated, EventDisputeClosed:
		outcome, o, err = s.applyOrAwait(ctx, tx, shop, ev, s.applyDispute)
		return outcome, o, false, err
	case EventCaptured:
		outcome, o, err = s.applyOrAwait(ctx, tx, shop, ev, s.applyCaptured)
		return outcome, o, false, err
	case EventVoided:
		outcome, o, err = s.applyOrAwait(ctx, tx, shop, ev, s.applyVoided)
		return outcome, o, false, err
	default:
		// Gateways send many event types; we record them all but act on these four.
		return OutcomeIgnored, nil, false, nil
	}
	a, err := tx.LockAttemptBySession(ctx, shop.ID, ev.Gateway, ev.SessionID)
	if errors.Is(err, ErrNotFound) {
		// A signed event for a session we never created: keep it, tell the owner.
		return OutcomeUnknownSession, nil, false, s.notify(ctx, tx, shop, nil, NoticeUnknownSession,
			MessageData{Amount: ev.Amount, Reason: ev.Gateway + " session " + ev.SessionID})
	} else if err != nil {
		return "", nil, false, err
	}
	o, err = tx.LockOrder(ctx, shop.ID, a.OrderID)
	if err != nil {
		return "", nil, false, err
	}
	if ev.Type == EventSucceeded && (ev.Amount != a.Amount || !strings.EqualFold(ev.Currency, a.Currency)) {
		return OutcomeAmountMismatch, o, false, s.notify(ctx, tx, shop, o, NoticeAmountMismatch,
			MessageData{Amount: ev.Amount, Reason: fmt.Sprintf("expected %d %s, gateway reported %d %s", a.Amount, a.Currency, ev.Amount, ev.Currency)})
	}
	now := s.Now()
	switch ev.Type {
	case EventPending:
		if a.Status != AttemptCreated {
			return OutcomeIgnored, o, false, nil
		}
		a.Status, a.UpdatedAt = AttemptPending, now
		return OutcomeApplied, o, false, tx.UpdateAttempt(ctx, a)

	case EventFailed:
		if a.Status == AttemptSucceeded || a.Status == AttemptFailed {
			return OutcomeIgnored, o, false, nil // late or out of order: success wins
		}
		a.Status, a.FailureReason, a.UpdatedAt = AttemptFailed, ev.Reason, now
		if err := tx.UpdateAttempt(ctx, a); err != nil {
			return "", nil, false, err
		}
		if o.Status != StatusAwaitingPayment {
			return OutcomeApplied, o, false, nil
		}
		if err := s.queueMessage(ctx, tx, shop, o, KindPaymentFailed, MessageData{Reason: ev.Reason}); err != nil {
			return "", nil, false, err
		}
		return OutcomeApplied, o, false, s.notify(ctx, tx, shop, o, NoticePaymentFailed, MessageData{Amount: ev.Amount, Reason: ev.Reason})

	case EventSucceeded:
		if a.Status == AttemptSucceeded {
			return OutcomeIgnored, o, false, nil // another event for the same money
		}
		var p *Payment
		if outcome, p, paid, err = s.recordPayment(ctx, tx, shop, a, o, ev); err != nil {
			return "", nil, false, err
		}
		// Events about this payment that arrived before it were put off until now.
		o, err = s.applyAwaiting(ctx, tx, shop, o, p)
		if err != nil {
			return "", nil, false, err
		}
		return outcome, o, paid, nil
	}
	return OutcomeIgnored, o, false, nil
}

// recordPayment records the payment an EventSucceeded reports for attempt a of order o,
// both locked: the order is paid (or the payment, arriving for an order no longer
// awaiting payment, is a duplicate and given back), and the customer and staff are
// told. It returns the event's outcome, the payment, and whether the order became paid.
func (s *Service) recordPayment(ctx context.Context, tx Tx, shop *Shop, a *Attempt, o *Order, ev *GatewayEvent) (string, *Payment, bool, error) {
	now := s.Now()
	a.Status, a.FailureReason, a.UpdatedAt = AttemptSucceeded, "", now
	if err := tx.UpdateAttempt(ctx, a); err != nil {
		return "", nil, false, err
	}
	if ev.PaymentRef != "" {
		// Taken before the payment is written, so that an event about it deferred
		// concurrently is seen by applyAwaiting or sees the payment (LockPaymentRef).
		if err := tx.LockPaymentRef(ctx, shop.ID, ev.Gateway, ev.PaymentRef); err != nil {
			return "", nil, false, err
		}
	}
	p := &Payment{
		ID:         NewID(),
		ShopID:     shop.ID,
		OrderID:    o.ID,
		AttemptID:  a.ID,
		Gateway:    a.Gateway,
		GatewayRef: ev.PaymentRef,
		Status:     PaymentStatusSucceeded,
		Amount:     ev.Amount,
		Currency:   a.Currency,
		Duplicate:  o.Status != StatusAwaitingPayment,
		CreatedAt:  now,
	}
	if ev.Authorized {
		p.Status = PaymentStatusAuthorized
	}
	if err := tx.InsertPayment(ctx, p); err != nil {
		return "", nil, false, err
	}
	o.Payments = append(o.Payments, p)
	if p.Duplicate {
		// The order was already paid (or cancelled meanwhile): give the money back,
		// or release it when it is only held (a hold cannot be refunded). Staff are
		// told which, since a release takes nothing from the shop's balance.
		notice := NoticeDuplicatePayment
		var err error
		if p.Status == PaymentStatusAuthorized {
			notice = NoticeDuplicateHold
			err = s.startVoid(ctx, tx, o, p)
		} else {
			_, err = s.insertRefund(ctx, tx, o, p, p.Amount, RefundReasonDuplicate, "")
		}
		if err != nil {
			return "", nil, false, err
		}
		return OutcomeDuplicatePaid, p, false, s.notify(ctx, tx, shop, o, notice, MessageData{Amount: p.Amount})
	}
	o.Status, o.PaymentStatus, o.PaidAt, o.UpdatedAt = StatusPaid, PaymentPaid, &now, now
	if p.Status == PaymentStatusAuthorized {
		o.PaymentStatus = PaymentAuthorized
	}
	if err := tx.UpdateOrder(ctx, o); err != nil {
		return "", nil, false, err
	}
	if o.ConversationID != "" {
		// The card in the chat still offers Pay now: show it paid.
		if err := tx.Enqueue(ctx, RefreshCard{ShopID: shop.ID, OrderID: o.ID}); err != nil {
			return "", nil, false, err
		}
	}
	// Money only held is not "paid": the customer hears it is authorised (and,
	// once captured, that they were charged), staff that it waits for a capture.
	onHold := p.Status == PaymentStatusAuthorized
	if shop.SendPaidConfirmation {
		kind := KindPaidConfirmation
		if onHold {
			kind = KindAuthorized
		}
		if err := s.queueMessage(ctx, tx, shop, o, kind, MessageData{Amount: p.Amount}); err != nil {
			return "", nil, false, err
		}
	}
	kind := NoticePaid
	switch {
	case onHold:
		kind = NoticeAuthorized
	case o.ShipOnPayment:
		kind = NoticeReadyToShip
	}
	return OutcomeApplied, p, true, s.notify(ctx, tx, shop, o, kind, MessageData{Amount: p.Amount})
}

// RecordChatUpdates records updates a shop's bot received and, for each one not
// recorded before, the job that processes it, in one transaction; with next > 0 it
// also moves the source's polling offset to next. It returns how many were new. Only
// after it returns may the updates be acknowledged to the platform.
func (s *Service) RecordChatUpdates(ctx context.Context, shopID, source string, ups []*ChatUpdate, next int64) (int, error) {
	if _, err := s.Shop(shopID); err != nil {
		return 0, err
	}
	now := s.Now()
	for _, u := range ups {
		u.ShopID, u.Source = shopID, source
		if u.ReceivedAt.IsZero() {
			u.ReceivedAt = now
		}
		if s.scrub != nil {
			u.Payload = s.scrub(u.Payload)
		}
		if s.chatOf != nil {
			u.Chat = s.chatOf(source, u.Payload)
		}
	}
	var n int
	err := s.inTx(ctx, func(tx Tx) error {
		n = 0
		if len(ups) > 0 {
			fresh, err := tx.InsertChatUpdates(ctx, ups)
			if err != nil {
				return err
			}
			var jobs []Job
			for i, u := range ups {
				if fresh[i] {
					jobs = append(jobs, ProcessChatUpdate{ShopID: shopID, Source: source, UpdateID: u.UpdateID})
				}
			}
			n = len(jobs)
			if err := tx.Enqueue(ctx, jobs...); err != nil {
				return err
			}
		}
		if next > 0 {
			return tx.SetChatOffset(ctx, shopID, source, next)
		}
		return nil
	})
	return n, err
}

// MessageDelivery is a channel's answer to one delivery.
type MessageDelivery struct {
	Sent       bool
	ExternalID string
	Reason     string // why it failed, for people
}

// RecordDelivery records the outcome of delivering a message. A failure is final only
// when the job gives up (final is true); the owner is then told. The first outcome
// recorded that ends the delivery (sent, or a final failure) stands: an outcome
// recorded after it, by another run of the same job, changes nothing, publishes
// nothing and tells no one.
func (s *Service) RecordDelivery(ctx context.Context, shopID, messageID string, d MessageDelivery, final bool) error {
	shop, err := s.Shop(shopID)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		// The message is read locked, in the transaction that writes it: read before
		// it, a delivery recorded meanwhile would be overwritten from the stale copy
		// (a passing failure would put a sent message back in the queue, to be sent
		// again).
		m, err := tx.LockMessage(ctx, shopID, messageID)
		if err != nil {
			return err
		}
		if m.Status != MessageQueued {
			// River may run a job again while an earlier run is still going (a rescue
			// of a job it thought lost): the customer has the message or the owner has
			// been told it failed, and a second outcome would contradict the first.
			return nil
		}
		if d.Sent {
			now := s.Now()
			m.Status, m.ExternalID, m.FailureReason, m.SentAt = MessageSent, d.ExternalID, "", &now
			return tx.UpdateMessage(ctx, m)
		}
		m.FailureReason = d.Reason
		if !final {
			return tx.UpdateMessage(ctx, m)
		}
		m.Status = MessageFailed
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		var o *Order
		if m.OrderID != "" {
			if o, err = tx.LockOrder(ctx, shopID, m.OrderID); err != nil {
				return err
			}
		}
		return s.notify(ctx, tx, shop, o, NoticeMessageFailed, MessageData{Reason: d.Reason})
	})
}

// queueMessage renders a message for the order's conversation, stores it as queued and
// enqueues its delivery. Orders without a conversation get no messages.
func (s *Service) queueMessage(ctx context.Context, tx Tx, shop *Shop, o *Order, kind string, d MessageData) error {
	if o.ConversationID == "" {
		return nil
	}
	d.Shop, d.Order = shop, o
	var err error
	if d.LinkURL, err = s.LinkURL(o); err != nil {
		return err
	}
	text, buttons, err := s.renderer.Message(kind, d)
	if err != nil {
		return fmt.Errorf("render %s: %w", kind, err)
	}
	m := &Message{
		ID:             NewID(),
		ShopID:         shop.ID,
		ConversationID: o.ConversationID,
		OrderID:        o.ID,
		Direction:      DirectionOut,
		Kind:           kind,
		Text:           text,
		Buttons:        buttons,
		Status:         MessageQueued,
		CreatedAt:      s.Now(),
	}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	return tx.Enqueue(ctx, DeliverMessage{ShopID: shop.ID, MessageID: m.ID})
}

// notify stores a notice for the shop's staff and enqueues its delivery.
func (s *Service) notify(ctx context.Context, tx Tx, shop *Shop, o *Order, kind string, d MessageData) error {
	d.Shop, d.Order = shop, o
	n := &Notice{ID: NewID(), ShopID: shop.ID, Kind: kind, CreatedAt: s.Now()}
	if o != nil {
		n.OrderID = o.ID
		var err error
		if d.LinkURL, err = s.LinkURL(o); err != nil {
			return err
		}
	}
	text, err := s.renderer.Notice(kind, d)
	if err != nil {
		return fmt.Errorf("render notice %s: %w", kind, err)
	}
	n.Text = text
	if err := tx.InsertNotice(ctx, n); err != nil {
		return err
	}
	if !shop.StaffChat {
		return nil
	}
	if o != nil && o.ConversationID != "" {
		// Staff see a notice about an order in its customer's topic, as a staff
		// message: delivered once, in order with the rest of the conversation, with
		// the buttons that act on it.
		var buttons []Button
		if nb, ok := s.renderer.(NoticeButtons); ok {
			buttons = nb.NoticeButtons(kind, d)
		}
		m := &Message{ID: NewID(), ShopID: shop.ID, ConversationID: o.ConversationID, Direction: DirectionStaff,
			Kind: "notice_" + kind, Text: text, Buttons: buttons, Status: MessageQueued, CreatedAt: n.CreatedAt}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		return tx.Enqueue(ctx, DeliverMessage{ShopID: shop.ID, MessageID: m.ID})
	}
	return tx.Enqueue(ctx, DeliverNotice{ShopID: shop.ID, NoticeID: n.ID})
}

// notFound turns a store's ErrNotFound into a not_found error with a specific message.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, ErrNotFound) {
		return Errorf(ENOTFOUND, format, args...)
	}
	return err
}
