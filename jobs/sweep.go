package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
)

// SweepEvery is how often the sweep runs. It deletes dashboard rows a week after they
// stopped working (auth.SweepGrace) and gives up gateway events a month after they
// began to wait (orders.AwaitingPaymentFor), so an hour late is harmless, and each run
// is a few indexed statements that find nothing when nothing is due.
const SweepEvery = time.Hour

// sweepWorker deletes dashboard sessions and sign-in links that stopped working more
// than auth.SweepGrace ago; without it both tables grow with every sign-in, forever.
// It also gives up the gateway events that have waited for their payment for longer
// than orders.AwaitingPaymentFor, which would otherwise wait for ever: a refund or
// dispute of money taken outside chatpay on the same gateway account names a payment
// chatpay will never record. Both are idempotent and batched, so a run cut short (by
// JobTimeout on a first run over a large backlog, or a crash) keeps what it did and
// the next run, or River's retry, goes on from there.
type sweepWorker struct {
	river.WorkerDefaults[orders.Sweep]
	j *Jobs
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[orders.Sweep]) error {
	var errSweep error
	// Without a Sweeper (a store that keeps no dashboard rows) there is nothing of
	// the dashboard's to delete, but the events are the Service's own.
	if w.j.cfg.Sweeper != nil {
		var res auth.SweepResult
		res, errSweep = auth.Sweep(ctx, w.j.cfg.Sweeper, w.j.cfg.Service.Now())
		if res.Sessions > 0 || res.SignInLinks > 0 {
			w.j.log.Info("deleted ended dashboard sessions and sign-in links",
				"sessions", res.Sessions, "signin_links", res.SignInLinks)
		}
	}
	// The events are given up even when the dashboard's sweep failed, so that one
	// table's trouble does not hold back the other.
	n, errEvents := w.j.cfg.Service.GiveUpAwaitingEvents(ctx)
	if n > 0 {
		// Each is a refund, dispute, capture or release of a payment chatpay never
		// recorded: money moved on the shop's gateway account that chatpay knows
		// nothing of, which a person should look into at the gateway.
		w.j.log.Warn("gave up gateway events that waited for a payment chatpay never recorded",
			"events", n, "waited", orders.AwaitingPaymentFor, "outcome", orders.OutcomePaymentNeverSeen)
	}
	return errors.Join(errSweep, errEvents)
}

// sweepJob is the periodic job that runs the worker.
func sweepJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepEvery),
		func() (river.JobArgs, *river.InsertOpts) { return orders.Sweep{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "sweep"})
}
