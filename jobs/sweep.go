package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
)

// SweepEvery is how often the dashboard session sweep runs. It deletes rows a week
// after they stopped working (auth.SweepGrace), so an hour late is harmless, and each
// run is a few indexed statements that find nothing when nothing is due.
const SweepEvery = time.Hour

// sweepWorker deletes dashboard sessions and sign-in links that stopped working more
// than auth.SweepGrace ago; without it both tables grow with every sign-in, forever.
// The deletes are idempotent and batched, so a run cut short (by JobTimeout on a first
// run over a large backlog, or a crash) keeps what it deleted and the next run, or
// River's retry, goes on from there.
type sweepWorker struct {
	river.WorkerDefaults[orders.SweepDashboardSessions]
	j *Jobs
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[orders.SweepDashboardSessions]) error {
	if w.j.cfg.Sweeper == nil {
		// A job left in the queue by a build whose store could sweep: nothing to do.
		return nil
	}
	res, err := auth.Sweep(ctx, w.j.cfg.Sweeper, w.j.cfg.Service.Now())
	if res.Sessions > 0 || res.SignInLinks > 0 {
		w.j.log.Info("deleted ended dashboard sessions and sign-in links",
			"sessions", res.Sessions, "signin_links", res.SignInLinks)
	}
	return err
}

// sweepJob is the periodic job that runs the worker.
func sweepJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepEvery),
		func() (river.JobArgs, *river.InsertOpts) { return orders.SweepDashboardSessions{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "sweep_dashboard_sessions"})
}
