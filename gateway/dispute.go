package gateway

import "context"

// DisputeResponder is a Gateway through which a shop can answer a dispute from chatpay:
// attach evidence, add a message, submit what it gathered, or accept (concede) the
// dispute. Each method takes the gateway's own dispute id (orders.Dispute's
// GatewayDisputeID). Gateways map what they support onto these four and document what
// they do with the rest (Stripe has no free-form message, Omise no explicit submit).
//
// The methods return an error coded orders.ECONFLICT when the gateway refuses because of
// the dispute's state (closed, already submitted) and orders.EINVALID for a request it
// can never accept (a document of the wrong type or size); any other error is the
// gateway failing and may be worth trying again.
type DisputeResponder interface {
	// AttachEvidence uploads one evidence document (PNG, JPEG or PDF) to the dispute.
	AttachEvidence(ctx context.Context, gatewayDisputeID, filename, contentType string, data []byte) error
	// AddMessage adds the shop's written answer to the dispute.
	AddMessage(ctx context.Context, gatewayDisputeID, text string) error
	// Submit sends the evidence gathered so far to the card network for review.
	Submit(ctx context.Context, gatewayDisputeID string) error
	// Accept concedes the dispute: the customer keeps the money. When it returns nil
	// the gateway has confirmed that the dispute is lost.
	Accept(ctx context.Context, gatewayDisputeID string) error
}
