package jobs

import (
	"context"
	"errors"
	"fmt"

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
	p, err := svc.Store().Payment(ctx, args.ShopID, args.PaymentID)
	if errors.Is(err, orders.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("payment %s of shop %s no longer exists", args.PaymentID, args.ShopID))
	} else if err != nil {
		return err
	}
	if p.Status != orders.PaymentStatusVoiding {
		return nil // an earlier run, or the gateway's webhook, recorded the answer
	}
	fail := func(reason string) error {
		return svc.CompleteVoid(ctx, args.ShopID, args.OrderID, p.ID, orders.VoidResult{Reason: reason})
	}
	gw, err := w.j.cfg.Gateways.Get(args.ShopID, p.Gateway)
	if err != nil {
		// The gateway was disabled since the payment: nobody can release it from here.
		return fail(orders.ErrorMessage(err))
	}
	voider, ok := gw.(gateway.Voider)
	if !ok {
		return fail(fmt.Sprintf("%s cannot release payments from chatpay", p.Gateway))
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
