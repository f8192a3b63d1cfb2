package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// captureWorker asks the gateway to capture an authorised payment and records its
// answer. The job's key is the gateway's idempotency key, so a retry after a lost
// answer captures at most once.
type captureWorker struct {
	river.WorkerDefaults[orders.ProcessCapture]
	j *Jobs
}

func (w *captureWorker) Work(ctx context.Context, job *river.Job[orders.ProcessCapture]) error {
	svc := w.j.cfg.Service
	args := job.Args
	p, err := svc.Store().Payment(ctx, args.ShopID, args.PaymentID)
	if errors.Is(err, orders.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("payment %s of shop %s no longer exists", args.PaymentID, args.ShopID))
	} else if err != nil {
		return err
	}
	if p.Status != orders.PaymentStatusCapturing {
		return nil // an earlier run recorded the answer
	}
	fail := func(reason string) error {
		return svc.CompleteCapture(ctx, args.ShopID, args.OrderID, p.ID, orders.CaptureResult{Reason: reason})
	}
	gw, err := w.j.cfg.Gateways.Get(args.ShopID, p.Gateway)
	if err != nil {
		// The gateway was disabled since the payment: nobody can capture from here.
		return fail(orders.ErrorMessage(err))
	}
	capturer, ok := gw.(gateway.Capturer)
	if !ok {
		return fail(fmt.Sprintf("%s cannot capture payments from chatpay", p.Gateway))
	}
	res, err := capturer.Capture(ctx, gateway.CaptureRequest{
		PaymentRef:     p.GatewayRef,
		Amount:         args.Amount,
		Currency:       p.Currency,
		IdempotencyKey: args.Key,
	})
	if errors.Is(err, gateway.ErrHoldExpired) {
		// The authorisation expired and the gateway gave the money back: nothing is
		// held any more, so the payment is released rather than authorised again,
		// and staff hear that the hold expired.
		return svc.CompleteCapture(ctx, args.ShopID, args.OrderID, p.ID,
			orders.CaptureResult{HoldExpired: true, Reason: orders.ErrorMessage(err)})
	}
	if err != nil {
		// A gateway that refuses the request will refuse it again: the payment goes
		// back to authorised and staff are told. Anything else (timeouts, 5xx) is
		// retried; when the retries run out the payment stays capturing, because the
		// gateway may have captured it (like a refund whose outcome is unknown).
		switch orders.ErrorCode(err) {
		case orders.EINVALID, orders.ECONFLICT, orders.ENOTFOUND:
			return fail(orders.ErrorMessage(err))
		}
		return err
	}
	return svc.CompleteCapture(ctx, args.ShopID, args.OrderID, p.ID, orders.CaptureResult{Succeeded: true, Amount: res.Amount})
}
