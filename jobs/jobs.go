// Package jobs runs chatpay's background work on River: delivering chat messages and
// staff notices, asking gateways for refunds, and reconciling payment attempts that
// were left pending. Jobs are inserted by the stores in the same transaction as the
// state change they follow from; this package only works them.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// Notifier delivers a notice to a shop's staff (the operator chat). Shops without one
// still see every notice through the API and the dashboard.
type Notifier interface {
	Notify(ctx context.Context, shop *orders.Shop, n *orders.Notice) error
}

// ChatHandler acts on a recorded chat update: the conversation handler. It must be
// idempotent, because a job runs again after a crash or a failed attempt: whatever it
// does is keyed by the update.
type ChatHandler interface {
	HandleUpdate(ctx context.Context, shop *orders.Shop, u *orders.ChatUpdate) error
}

// Config wires the workers to the rest of chatpay.
type Config struct {
	Service  *orders.Service
	Gateways *gateway.Registry
	Channels bot.Channels
	// Notifier is optional; nil logs notices instead of sending them to a chat.
	Notifier Notifier
	// ChatHandler processes recorded chat updates; nil leaves them recorded only.
	ChatHandler ChatHandler
	// Limiter spaces outbound messages under the platforms' rate limits (Redis when
	// configured, so replicas share them); nil sends without limits.
	Limiter bot.Limiter
	// Account names the shop's account on a channel (a Telegram bot's id), which the
	// per-bot limits are keyed by.
	Account func(shop *orders.Shop, channel string) string
	// OperatorChat returns the shop's Telegram operator group (0 for none): staff
	// messages count against that group's limits, not the customer's chat's.
	OperatorChat func(shopID string) int64
	// ReconcileAfter is how long an attempt may stay unconfirmed before the
	// reconciliation job asks its gateway about it.
	ReconcileAfter time.Duration
	// ReconcileEvery is how often the reconciliation job runs (on the leader only).
	ReconcileEvery time.Duration
	// ReconcileWindow bounds how far back reconciliation looks; older attempts were
	// abandoned by their customers.
	ReconcileWindow time.Duration
	// Sweeper deletes the dashboard's ended sessions and spent sign-in links hourly.
	// Nil uses the Service's store, which keeps the dashboard's users too in both
	// orders/sqlite and orders/postgres; a store that does not leaves the job out.
	Sweeper    auth.Sweeper
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Jobs holds the workers and what the River client needs to run them.
type Jobs struct {
	cfg      Config
	log      *slog.Logger
	runs     *prometheus.CounterVec
	failures *prometheus.CounterVec
	// marks marks handled chat updates processed, several per transaction.
	marks *markBatcher
	// reconcile is where the next reconciliation run goes on from.
	reconcile reconcileCursor
}

// New returns the workers for cfg and registers their metrics.
func New(cfg Config) (*Jobs, error) {
	if cfg.Service == nil || cfg.Gateways == nil {
		return nil, errors.New("jobs: Service and Gateways are required")
	}
	if cfg.ReconcileAfter <= 0 {
		cfg.ReconcileAfter = 2 * time.Minute
	}
	if cfg.ReconcileEvery <= 0 {
		cfg.ReconcileEvery = time.Minute
	}
	if cfg.ReconcileWindow <= 0 {
		cfg.ReconcileWindow = 72 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Sweeper == nil {
		cfg.Sweeper, _ = cfg.Service.Store().(auth.Sweeper)
	}
	j := &Jobs{
		cfg: cfg,
		log: cfg.Logger,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatpay_jobs_total",
			Help: "Background job runs by kind and result (ok, error, or snoozed: waiting for a rate limit).",
		}, []string{"kind", "result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatpay_job_failures_total",
			Help: "Background job runs that returned an error (each is retried until its attempts run out).",
		}, []string{"kind"}),
	}
	j.marks = &markBatcher{mark: cfg.Service.MarkChatUpdatesProcessed}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{j.runs, j.failures} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return j, nil
}

// RiverConfig returns a River client configuration with chatpay's workers, periodic
// jobs and metrics middleware. Callers add the driver-specific parts (schema).
func (j *Jobs) RiverConfig() *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, &messageWorker{j: j})
	river.AddWorker(workers, &noticeWorker{j: j})
	river.AddWorker(workers, &refundWorker{j: j})
	river.AddWorker(workers, &captureWorker{j: j})
	river.AddWorker(workers, &voidWorker{j: j})
	river.AddWorker(workers, &reconcileWorker{j: j})
	river.AddWorker(workers, &chatUpdateWorker{j: j})
	river.AddWorker(workers, &refreshCardWorker{j: j})
	river.AddWorker(workers, &expireSessionsWorker{j: j})
	river.AddWorker(workers, &disputeReminderWorker{j: j})
	river.AddWorker(workers, &sweepWorker{j: j})
	river.AddWorker(workers, &indexSearchWorker{j: j})
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(j.cfg.ReconcileEvery),
			func() (river.JobArgs, *river.InsertOpts) { return orders.ReconcileAttempts{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "reconcile_attempts"}),
		disputeReminderJob(),
		indexSearchJob(),
		// Always: besides the dashboard's rows (only with a Sweeper), it gives up
		// gateway events that waited too long, which every store keeps.
		sweepJob(),
	}
	return &river.Config{
		Workers: workers,
		// Most jobs wait on the network (chat platforms, gateways), so a worker is
		// cheap; 50 keep a burst of chat updates moving.
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 50}},
		// SQLite has no LISTEN/NOTIFY, so a short poll keeps confirmations snappy; on
		// Postgres River is woken by notifications and the poll is only a fallback.
		FetchPollInterval: 100 * time.Millisecond,
		FetchCooldown:     10 * time.Millisecond,
		JobTimeout:        time.Minute,
		// River reports its routine work (job counts every few seconds) at info;
		// chatpay's log keeps River's warnings and errors only.
		Logger:       slog.New(minLevel{j.log.Handler(), slog.LevelWarn}),
		Middleware:   []rivertype.Middleware{river.WorkerMiddlewareFunc(j.measure)},
		PeriodicJobs: periodic,
	}
}

// measure counts runs and failures per job kind.
func (j *Jobs) measure(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	err := doInner(ctx)
	var snooze *rivertype.JobSnoozeError
	if errors.As(err, &snooze) {
		// Waiting for a rate limit is not a failure.
		j.runs.WithLabelValues(job.Kind, "snoozed").Inc()
		return err
	}
	if err != nil {
		j.failures.WithLabelValues(job.Kind).Inc()
		j.runs.WithLabelValues(job.Kind, "error").Inc()
		if orders.ErrorCode(err) == orders.EINTERNAL {
			j.log.Warn("job failed", "kind", job.Kind, "job_id", job.ID, "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "error", err)
		}
		return err
	}
	j.runs.WithLabelValues(job.Kind, "ok").Inc()
	return nil
}

// lastAttempt reports whether a failing run is the job's last: the failure is then
// final and recorded as such instead of retried.
func lastAttempt(row *rivertype.JobRow) bool { return row.Attempt >= row.MaxAttempts }

// minLevel drops records below a level, whatever the wrapped handler would accept.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
