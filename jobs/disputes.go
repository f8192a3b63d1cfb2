package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/orders"
)

// DisputeRemindersEvery is how often the dispute reminder job runs. Reminders are due
// days ahead, so an hour late is harmless, and each run is one indexed query when
// nothing is due.
const DisputeRemindersEvery = time.Hour

// disputeReminderWorker sends dispute_deadline notices 7 and 2 days before an open
// dispute's evidence is due. Each reminder is recorded with the dispute in the
// notice's transaction (Service.RemindDisputes), so a rerun, a retry after a partial
// run or a second replica sends none twice.
type disputeReminderWorker struct {
	river.WorkerDefaults[orders.RemindDisputes]
	j *Jobs
}

func (w *disputeReminderWorker) Work(ctx context.Context, _ *river.Job[orders.RemindDisputes]) error {
	n, err := w.j.cfg.Service.RemindDisputes(ctx)
	if n > 0 {
		w.j.log.Info("sent dispute deadline reminders", "count", n)
	}
	return err
}

// disputeReminderJob is the periodic job that runs the worker.
func disputeReminderJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(DisputeRemindersEvery),
		func() (river.JobArgs, *river.InsertOpts) { return orders.RemindDisputes{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "remind_disputes"})
}
