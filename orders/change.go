package orders

import "context"

// Kinds of Change.
const (
	// ChangeOrder: an order, its payments, refunds, shipments or link changed.
	ChangeOrder = "order"
	// ChangeMessage: a chat message was recorded or its delivery status changed.
	ChangeMessage = "message"
	// ChangeSettings: a shop's settings changed.
	ChangeSettings = "settings"
)

// Change says that something a shop's people may be looking at has changed: the
// dashboard and the web chat redraw on it. It carries identifiers only, never data,
// so a subscriber always reads the current state through the same checks as any other
// read, and a change lost on the way costs a stale screen, not a wrong one.
type Change struct {
	Kind         string `json:"kind"`
	Shop         string `json:"shop"`
	Order        string `json:"order,omitempty"`
	Conversation string `json:"conversation,omitempty"`
}

// ChangePublisher fans changes out to whoever watches the shop, on this process and,
// through Redis when it is configured, on every other replica. Publish is called after
// the change's transaction has committed; it must not block for long, and a failure is
// the publisher's to log: the change itself is already safe in the store.
type ChangePublisher interface {
	Publish(ctx context.Context, c Change)
}

// publish hands committed changes to the configured publisher, if any.
func (s *Service) publish(ctx context.Context, cs ...Change) {
	if s.changes == nil {
		return
	}
	for _, c := range cs {
		s.changes.Publish(ctx, c)
	}
}

// inTx runs fn in a store transaction, as every change of the Service does, and once
// the transaction has committed publishes what it changed. The changes are read off
// the writes themselves (see changeTx), so a new code path that writes an order or a
// message is published without anyone remembering to: a path that writes nothing
// watched publishes nothing, and a transaction that rolls back publishes nothing at
// all. fn may run more than once (the store retries); only the run that committed
// counts.
func (s *Service) inTx(ctx context.Context, fn func(tx Tx) error) error {
	var rec *changeTx
	err := s.store.InTx(ctx, func(tx Tx) error {
		rec = &changeTx{Tx: tx}
		return fn(rec)
	})
	if err != nil || rec == nil {
		return err
	}
	s.publish(ctx, rec.committed()...)
	return nil
}

// changeTx is the Tx a Service transaction runs on: it passes every call to the
// store's Tx and notes, from the writes, which orders and conversations change.
// Writes to an order or anything hanging off it (attempts, payments, refunds,
// shipments, disputes) are a ChangeOrder; a message inserted or updated is a
// ChangeMessage of its conversation (and order, when it is about one).
type changeTx struct {
	Tx
	changes []Change
	seen    map[Change]bool
	// convOf remembers each order's conversation as it was loaded or written, so that
	// a ChangeOrder from a write that does not carry it (a payment, a refund) still
	// names the conversation the order is in.
	convOf map[orderKey]string
}

type orderKey struct{ shop, order string }

func (t *changeTx) note(c Change) {
	if t.seen == nil {
		t.seen = map[Change]bool{}
	}
	if !t.seen[c] {
		t.seen[c] = true
		t.changes = append(t.changes, c)
	}
}

func (t *changeTx) noteOrder(shopID, orderID, conversationID string) {
	if orderID == "" {
		return
	}
	t.knowConversation(shopID, orderID, conversationID)
	t.note(Change{Kind: ChangeOrder, Shop: shopID, Order: orderID})
}

func (t *changeTx) knowConversation(shopID, orderID, conversationID string) {
	if conversationID == "" {
		return
	}
	if t.convOf == nil {
		t.convOf = map[orderKey]string{}
	}
	t.convOf[orderKey{shopID, orderID}] = conversationID
}

func (t *changeTx) noteMessage(m *Message) {
	t.note(Change{Kind: ChangeMessage, Shop: m.ShopID, Order: m.OrderID, Conversation: m.ConversationID})
}

// committed returns the transaction's changes in the order they were first made, each
// once, order changes completed with the conversation their order is in.
func (t *changeTx) committed() []Change {
	out := make([]Change, 0, len(t.changes))
	seen := make(map[Change]bool, len(t.changes))
	for _, c := range t.changes {
		if c.Kind == ChangeOrder && c.Conversation == "" {
			c.Conversation = t.convOf[orderKey{c.Shop, c.Order}]
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func (t *changeTx) InsertOrder(ctx context.Context, o *Order) error {
	if err := t.Tx.InsertOrder(ctx, o); err != nil {
		return err
	}
	t.noteOrder(o.ShopID, o.ID, o.ConversationID)
	return nil
}

func (t *changeTx) LockOrder(ctx context.Context, shopID, id string) (*Order, error) {
	o, err := t.Tx.LockOrder(ctx, shopID, id)
	if err == nil {
		t.knowConversation(o.ShopID, o.ID, o.ConversationID)
	}
	return o, err
}

func (t *changeTx) UpdateOrder(ctx context.Context, o *Order) error {
	if err := t.Tx.UpdateOrder(ctx, o); err != nil {
		return err
	}
	t.noteOrder(o.ShopID, o.ID, o.ConversationID)
	return nil
}

func (t *changeTx) InsertAttempt(ctx context.Context, a *Attempt) error {
	if err := t.Tx.InsertAttempt(ctx, a); err != nil {
		return err
	}
	t.noteOrder(a.ShopID, a.OrderID, "")
	return nil
}

func (t *changeTx) UpdateAttempt(ctx context.Context, a *Attempt) error {
	if err := t.Tx.UpdateAttempt(ctx, a); err != nil {
		return err
	}
	t.noteOrder(a.ShopID, a.OrderID, "")
	return nil
}

func (t *changeTx) InsertPayment(ctx context.Context, p *Payment) error {
	if err := t.Tx.InsertPayment(ctx, p); err != nil {
		return err
	}
	t.noteOrder(p.ShopID, p.OrderID, "")
	return nil
}

func (t *changeTx) UpdatePayment(ctx context.Context, p *Payment) error {
	if err := t.Tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	t.noteOrder(p.ShopID, p.OrderID, "")
	return nil
}

func (t *changeTx) InsertRefund(ctx context.Context, r *Refund) error {
	if err := t.Tx.InsertRefund(ctx, r); err != nil {
		return err
	}
	t.noteOrder(r.ShopID, r.OrderID, "")
	return nil
}

func (t *changeTx) UpdateRefund(ctx context.Context, r *Refund) error {
	if err := t.Tx.UpdateRefund(ctx, r); err != nil {
		return err
	}
	t.noteOrder(r.ShopID, r.OrderID, "")
	return nil
}

func (t *changeTx) InsertShipment(ctx context.Context, sh *Shipment) error {
	if err := t.Tx.InsertShipment(ctx, sh); err != nil {
		return err
	}
	t.noteOrder(sh.ShopID, sh.OrderID, "")
	return nil
}

func (t *changeTx) InsertDispute(ctx context.Context, d *Dispute) error {
	if err := t.Tx.InsertDispute(ctx, d); err != nil {
		return err
	}
	t.noteOrder(d.ShopID, d.OrderID, "")
	return nil
}

func (t *changeTx) UpdateDispute(ctx context.Context, d *Dispute) error {
	if err := t.Tx.UpdateDispute(ctx, d); err != nil {
		return err
	}
	t.noteOrder(d.ShopID, d.OrderID, "")
	return nil
}

func (t *changeTx) InsertMessage(ctx context.Context, m *Message) error {
	if err := t.Tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	t.noteMessage(m)
	return nil
}

func (t *changeTx) UpdateMessage(ctx context.Context, m *Message) error {
	if err := t.Tx.UpdateMessage(ctx, m); err != nil {
		return err
	}
	t.noteMessage(m)
	return nil
}
