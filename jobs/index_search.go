package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/orders"
)

const (
	// IndexSearchEvery is how often the search repair job runs. An order stored
	// without search terms (by a replica still on the previous version during a
	// rolling deploy) is missing from search results until then. A run that finds
	// nothing missing is one walk of the orders' primary key with an index probe per
	// order: at 100,000 orders, 50 ms on Postgres and 150 ms on SQLite (on a reader).
	IndexSearchEvery = 10 * time.Minute
	// IndexSearchBatch is how many orders one transaction indexes. Writing a batch's
	// dozen rows per order took about 100 ms on either store at 100,000 orders, for
	// which it holds SQLite's one writer, and the orders' share locks on Postgres.
	IndexSearchBatch = 500
	// indexSearchRounds bounds a run to this many batches, so that a backlog (every
	// order, after a change to the terms' derivation) is indexed over several runs,
	// 2,000 orders at a time, without one of them running into JobTimeout or holding
	// SQLite's writer for long; each run starts again from the first order, so
	// nothing a run left is lost.
	indexSearchRounds = 4
)

// indexSearchWorker writes the search terms of orders that lack them
// (Store.IndexSearch). Writing them is idempotent and serialised with the order's
// own writes, so a retried or repeated run, or one racing an order's update, does no
// harm.
type indexSearchWorker struct {
	river.WorkerDefaults[orders.IndexSearch]
	j *Jobs
}

func (w *indexSearchWorker) Work(ctx context.Context, _ *river.Job[orders.IndexSearch]) error {
	st := w.j.cfg.Service.Store()
	total, after := 0, ""
	var err error
	for range indexSearchRounds {
		var n int
		after, n, err = st.IndexSearch(ctx, after, IndexSearchBatch)
		total += n
		if err != nil || after == "" {
			break
		}
	}
	if total > 0 {
		w.j.log.Info("indexed orders stored without search terms", "orders", total)
	}
	return err
}

// indexSearchJob is the periodic job that runs the worker. It runs at start too, so
// that orders an older build stored while this one was not running are searchable
// without waiting a full interval.
func indexSearchJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(IndexSearchEvery),
		func() (river.JobArgs, *river.InsertOpts) { return orders.IndexSearch{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "index_search"})
}
