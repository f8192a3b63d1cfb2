package orders

import (
	"context"
	"slices"
)

// AnswerableDispute returns one of the shop's disputes that can still be answered
// (attached evidence, a message, a submission or an acceptance): open or pending. A
// won or lost dispute is final, so answering it is a conflict, refused before any
// call to the gateway.
func (s *Service) AnswerableDispute(ctx context.Context, shopID, id string) (*Dispute, error) {
	d, err := s.Dispute(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	if d.Closed() {
		return nil, Errorf(ECONFLICT, "Dispute %s is %s; a closed dispute can no longer be answered.", d.ID, d.Status)
	}
	return d, nil
}

// AcceptDispute concedes one of the shop's disputes. accept asks the gateway to accept
// it; only when the gateway confirms is the dispute recorded as lost here, so that a
// failed or refused call never records a loss (and its dispute_lost refund row) for
// money the gateway has not given up. The loss is applied as a gateway event of
// chatpay's own ("chatpay-accept-<dispute id>"), so it goes through the same path as a
// webhook: the loss refund, the order's payment status and the dispute_closed notice.
// The gateway's own close webhook that follows finds the dispute closed and changes
// nothing. It returns the dispute as it is afterwards.
func (s *Service) AcceptDispute(ctx context.Context, shopID, id string, accept func(context.Context, *Dispute) error) (*Dispute, error) {
	d, err := s.AnswerableDispute(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	o, err := s.Order(ctx, shopID, d.OrderID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(o.Payments, func(p *Payment) bool { return p.ID == d.PaymentID })
	if i < 0 {
		return nil, Errorf(ENOTFOUND, "The payment of dispute %s was not found.", d.ID)
	}
	if err := accept(ctx, d); err != nil {
		return nil, err
	}
	ev := &GatewayEvent{
		ShopID: shopID, Gateway: d.Gateway, EventID: "chatpay-accept-" + d.ID, Type: EventDisputeClosed,
		PaymentRef: o.Payments[i].GatewayRef, Amount: d.Amount, Currency: d.Currency,
		Dispute: &DisputeDetails{ID: d.GatewayDisputeID, Status: DisputeLost, Reason: d.Reason},
	}
	if _, err := s.ApplyEvent(ctx, ev); err != nil {
		return nil, err
	}
	return s.Dispute(ctx, shopID, id)
}

// DisputeEvidence is what chatpay already knows that helps answer a dispute: the
// order (items, totals, payments), the chat with the customer about it, and its
// shipments (carrier and tracking number).
type DisputeEvidence struct {
	Dispute   *Dispute
	Order     *Order
	Messages  []*Message
	Shipments []*Shipment
}

// SuggestedEvidence gathers DisputeEvidence for one of the shop's disputes from the
// store. It reads only; nothing is sent to the gateway.
func (s *Service) SuggestedEvidence(ctx context.Context, shopID, id string) (*DisputeEvidence, error) {
	d, err := s.Dispute(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	o, err := s.Order(ctx, shopID, d.OrderID)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.OrderMessages(ctx, shopID, o.ID)
	if err != nil {
		return nil, err
	}
	return &DisputeEvidence{Dispute: d, Order: o, Messages: ms, Shipments: o.Shipments}, nil
}
