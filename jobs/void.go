package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// voidWorker asks the gateway to release an authorised payment chatpay will not
// capture (its order was cancelled, or it was a duplicate) and records the answer.
// The job's key is deterministic per payment, so a retry after a lost answer releases
// at most once; the gateways also answer a second release of a released payment with
// success.
type voidWorker struct {
	river.WorkerDefaults[orders.ProcessVoid]
	j *Jobs
}

func (w *voidWorker) Work(ctx context.Context, job *river.Job[orders.ProcessVoid]) error {
	svc := w.j.cfg.Service
	args := job.Args
	p, err := w.j.paymentInFlight(ctx, args.ShopID, args.PaymentID, orders.PaymentStatusVoiding)
	if p == nil || err != nil {
		return err
	}
	fail := func(reason string) error {
		return svc.CompleteVoid(ctx, args.ShopID, args.OrderID, p.ID, orders.VoidResult{Reason: reason})
	}
	// Without the gateway (disabled since the payment) or its ability, nobody can
	// release the payment from here: staff are told.
	voider, why := gatewayAs[gateway.Voider](w.j, p, "release payments")
	if why != "" {
		return fail(why)
	}
	err = voider.Void(ctx, gateway.VoidRequest{PaymentRef: p.GatewayRef, IdempotencyKey: args.Key})
	if err == nil {
		return svc.CompleteVoid(ctx, args.ShopID, args.OrderID, p.ID, orders.VoidResult{Succeeded: true})
	}
	// A gateway that refuses the request will refuse it again: staff are told and
	// release it in the gateway's dashboard, whose webhook completes the release.
	// Anything else (timeouts, 5xx) is retried; when the retries run out staff are
	// told as well, since the hold stays on the customer's card until someone acts.
	// If the gateway did release it after all, its webhook still records that.
	switch orders.ErrorCode(err) {
	case orders.EINVALID, orders.ECONFLICT, orders.ENOTFOUND:
		return fail(orders.ErrorMessage(err))
	}
	if lastAttempt(job.JobRow) {
		if ferr := fail(err.Error()); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}
