package stripe

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// The Gateway answers disputes from chatpay's API through Stripe's disputes API
// (https://docs.stripe.com/api/disputes/update). Evidence and messages are staged
// (submit=false) so that nothing reaches the bank before Submit; Stripe's own default
// is to submit with every update.
//
// Stripe has no free-form message and one generic evidence file per dispute: a message
// goes to evidence.uncategorized_text (appended to what is there), and a document,
// uploaded through the Files API with purpose dispute_evidence, to
// evidence.uncategorized_file. A second document is refused rather than replacing the
// first; the shop combines its documents into one PDF. Accept closes the dispute,
// which is how Stripe concedes it (https://docs.stripe.com/api/disputes/close).
var _ gateway.DisputeResponder = (*Gateway)(nil)

// AttachEvidence uploads the document and stages it as the dispute's uncategorized file.
func (g *Gateway) AttachEvidence(ctx context.Context, disputeID, filename, _ string, data []byte) error {
	d, err := g.client.V1Disputes.Retrieve(ctx, disputeID, nil)
	if err != nil {
		return disputeError("retrieve dispute", err)
	}
	if err := answerable(d); err != nil {
		return err
	}
	if d.Evidence != nil && d.Evidence.UncategorizedFile != nil && d.Evidence.UncategorizedFile.ID != "" {
		return orders.Errorf(orders.ECONFLICT, "Stripe dispute %s already has an evidence document; Stripe keeps one, so combine the documents into one PDF.", d.ID)
	}
	f, err := g.client.V1Files.Create(ctx, &stripego.FileCreateParams{
		Purpose:    stripego.String(string(stripego.FilePurposeDisputeEvidence)),
		FileReader: bytes.NewReader(data),
		Filename:   stripego.String(filename),
	})
	if err != nil {
		return disputeError("upload evidence file", err)
	}
	_, err = g.client.V1Disputes.Update(ctx, disputeID, &stripego.DisputeUpdateParams{
		Evidence: &stripego.DisputeUpdateEvidenceParams{UncategorizedFile: stripego.String(f.ID)},
		Submit:   stripego.Bool(false),
	})
	return disputeError("stage evidence file", err)
}

// AddMessage appends the text to the dispute's uncategorized_text evidence, staged.
func (g *Gateway) AddMessage(ctx context.Context, disputeID, text string) error {
	d, err := g.client.V1Disputes.Retrieve(ctx, disputeID, nil)
	if err != nil {
		return disputeError("retrieve dispute", err)
	}
	if err := answerable(d); err != nil {
		return err
	}
	if d.Evidence != nil && strings.TrimSpace(d.Evidence.UncategorizedText) != "" {
		text = d.Evidence.UncategorizedText + "\n\n" + text
	}
	_, err = g.client.V1Disputes.Update(ctx, disputeID, &stripego.DisputeUpdateParams{
		Evidence: &stripego.DisputeUpdateEvidenceParams{UncategorizedText: stripego.String(text)},
		Submit:   stripego.Bool(false),
	})
	return disputeError("stage message", err)
}

// Submit sends the staged evidence to the bank.
func (g *Gateway) Submit(ctx context.Context, disputeID string) error {
	_, err := g.client.V1Disputes.Update(ctx, disputeID, &stripego.DisputeUpdateParams{Submit: stripego.Bool(true)})
	return disputeError("submit evidence", err)
}

// Accept closes the dispute, conceding it. It returns nil only when Stripe answers
// that the dispute is lost.
func (g *Gateway) Accept(ctx context.Context, disputeID string) error {
	d, err := g.client.V1Disputes.Close(ctx, disputeID, nil)
	if err != nil {
		return disputeError("close dispute", err)
	}
	if d.Status != stripego.DisputeStatusLost {
		return orders.Errorf(orders.ECONFLICT, "Stripe answered the closing of dispute %s with status %s, not lost.", d.ID, d.Status)
	}
	return nil
}

// answerable refuses a dispute Stripe no longer takes evidence for: only
// needs_response and warning_needs_response do.
func answerable(d *stripego.Dispute) error {
	switch d.Status {
	case stripego.DisputeStatusNeedsResponse, stripego.DisputeStatusWarningNeedsResponse:
		return nil
	}
	return orders.Errorf(orders.ECONFLICT, "Stripe dispute %s is %s; it no longer takes evidence.", d.ID, d.Status)
}

// disputeError maps Stripe's refusals (4xx other than rate limiting) to conflicts the
// shop can act on, a missing dispute to not found, and leaves anything else as is, an
// internal error worth retrying.
func disputeError(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *stripego.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 && se.HTTPStatusCode != http.StatusTooManyRequests {
		if se.Code == stripego.ErrorCodeResourceMissing {
			return orders.Errorf(orders.ENOTFOUND, "Stripe: %s: %s", op, se.Msg)
		}
		return orders.Errorf(orders.ECONFLICT, "Stripe: %s: %s", op, se.Msg)
	}
	return apiError(op, err)
}
