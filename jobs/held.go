package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/orders"
)

// What the capture and the void workers share: both act on one authorised payment
// that the service marked as in flight (capturing, voiding) in the transaction that
// queued the job, and both ask its gateway for one optional ability.

// paymentInFlight returns the payment a capture or void job is about, or nil when its
// status is no longer want: an earlier run, or the gateway's webhook, has recorded
// the answer. A payment that no longer exists cancels the job.
func (j *Jobs) paymentInFlight(ctx context.Context, shopID, paymentID, want string) (*orders.Payment, error) {
	p, err := j.cfg.Service.Store().Payment(ctx, shopID, paymentID)
	if errors.Is(err, orders.ErrNotFound) {
		return nil, river.JobCancel(fmt.Errorf("payment %s of shop %s no longer exists", paymentID, shopID))
	} else if err != nil {
		return nil, err
	}
	if p.Status != want {
		return nil, nil
	}
	return p, nil
}

// gatewayAs returns the payment's gateway as the ability T (gateway.Capturer,
// gateway.Voider), or, when it has none, why not, in words for staff: the gateway
// was disabled since the payment, or it cannot do what does names from chatpay.
func gatewayAs[T any](j *Jobs, p *orders.Payment, does string) (T, string) {
	var none T
	gw, err := j.cfg.Gateways.Get(p.ShopID, p.Gateway)
	if err != nil {
		return none, orders.ErrorMessage(err)
	}
	able, ok := gw.(T)
	if !ok {
		return none, fmt.Sprintf("%s cannot %s from chatpay", p.Gateway, does)
	}
	return able, ""
}
