package jobs

import (
	"context"
	"errors"

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
	p, err := w.j.paymentInFlight(ctx, args.ShopID, args.PaymentID, orders.PaymentStatusCapturing)
	if p == nil || err != nil {
		return err
	}
	fail := func(reason string) error {
		return svc.CompleteCapture(ctx, args.ShopID, args.OrderID, p.ID, orders.CaptureResult{Reason: reason})
	}
	// Without the gateway (disabled since the payment) or its ability, nobody can
	// capture from here: the payment goes back to authorised and staff are told.
	capturer, why := gatewayAs[gateway.Capturer](w.j, p, "capture payments")
	if why != "" {
		return fail(why)
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
