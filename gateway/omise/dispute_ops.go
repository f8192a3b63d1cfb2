package omise

import (
	"context"
	"errors"
	"net/http"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// The Gateway answers disputes from chatpay's API.
//
// Omise's disputes API (www.omise.co/disputes-api) has no explicit submit: the merchant
// answers with PATCH /disputes/{id} and a message, which moves the dispute from open to
// pending (under review), after which documents can no longer be added. So evidence
// must be attached before the message, AddMessage is the submission, and Submit only
// checks that the dispute can still be answered. Accept uses POST
// /disputes/{id}/accept, an endpoint seen only in an unofficial mirror of the API
// reference (see the package doc).
var _ gateway.DisputeResponder = (*Gateway)(nil)

// AttachEvidence uploads a document to an open dispute. The client checks type, size
// and that the dispute is open before uploading; contentType is not sent, Omise
// sniffs the file itself.
func (g *Gateway) AttachEvidence(ctx context.Context, disputeID, filename, _ string, data []byte) error {
	_, err := g.cfg.Client.UploadDisputeDocument(ctx, disputeID, filename, data)
	return disputeError("upload dispute document", err)
}

// AddMessage answers the dispute with the shop's message; Omise then reviews it.
func (g *Gateway) AddMessage(ctx context.Context, disputeID, text string) error {
	_, err := g.cfg.Client.UpdateDispute(ctx, disputeID, text)
	return disputeError("update dispute", err)
}

// Submit has nothing to send (see above); it refuses a dispute Omise has closed, so
// that the shop learns of it.
func (g *Gateway) Submit(ctx context.Context, disputeID string) error {
	d, err := g.cfg.Client.RetrieveDispute(ctx, disputeID)
	if err != nil {
		return disputeError("retrieve dispute", err)
	}
	if d.Status != DisputeOpen && d.Status != DisputePending {
		return orders.Errorf(orders.ECONFLICT, "Omise dispute %s is %s; it can no longer be answered.", d.ID, d.Status)
	}
	return nil
}

// Accept concedes the dispute. It returns nil only when Omise answers that the dispute
// is lost, which is what the caller records.
func (g *Gateway) Accept(ctx context.Context, disputeID string) error {
	d, err := g.cfg.Client.AcceptDispute(ctx, disputeID)
	if err != nil {
		return disputeError("accept dispute", err)
	}
	if d.Status != DisputeLost {
		return orders.Errorf(orders.ECONFLICT, "Omise answered the acceptance of dispute %s with status %s, not lost.", d.ID, d.Status)
	}
	return nil
}

// disputeError maps an error of a dispute call to chatpay's codes: Omise's local rules
// and its refusals (4xx) are conflicts or invalid requests the shop can act on;
// anything else (5xx, the network) is left as is, an internal error worth retrying.
func disputeError(op string, err error) error {
	if err == nil {
		return nil
	}
	var re *RuleError
	if errors.As(err, &re) {
		if re.Rule == RuleDisputeNotOpen {
			return orders.Errorf(orders.ECONFLICT, "%s", re.Message)
		}
		return orders.Invalidf("file", "%s", re.Message)
	}
	var oe *Error
	if errors.As(err, &oe) && !oe.Temporary() {
		if oe.Status == http.StatusNotFound {
			return orders.Errorf(orders.ENOTFOUND, "Omise: %s: %s", op, oe.Message)
		}
		return orders.Errorf(orders.ECONFLICT, "Omise: %s: %s", op, oe.Message)
	}
	return err
}
