package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatpay/chatpay/orders"
)

// A store transaction talks to Postgres in as few round trips as it can, because on a
// small machine round trips, not statements, bound how many webhooks a second the
// server takes. Three rules get there:
//
//   - BEGIN is not sent on its own: it goes out with the transaction's first
//     statements.
//   - Writes whose result the caller does not need are queued (pipe.pending) and go
//     out with the next statement that needs an answer, or with COMMIT. Writes that
//     must change a row check that on the server (chatpay_require_row), so a failed
//     check aborts the transaction there, and Postgres skips the rest of the
//     pipeline, COMMIT included.
//   - Reads that belong together (an order and its children) are one batch.
//
// The price is that a queued write reports its error on the transaction's next round
// trip rather than from its own call; the transaction fails either way.

// SQLSTATEs raised by chatpay_require_row.
const (
	codeNotFound = "CP404"
	codeConflict = "CP409"
)

// beginSQL starts every store transaction.
const beginSQL = "begin isolation level read committed"

// pipe is the connection side of one store transaction.
type pipe struct {
	pool *pgxpool.Pool
	conn *pgxpool.Conn // acquired by the first round trip
	// begun is set once BEGIN has been sent; done once COMMIT succeeded.
	begun, done bool
	pending     pgx.Batch
	// err is the first failure. The server has then aborted the transaction, so every
	// later call returns it instead of a less helpful "transaction is aborted".
	err error
	// commitWithJobs asks riverTx to send COMMIT in the same round trip as River's job
	// insert, the transaction's last statement.
	commitWithJobs bool
}

// queue adds a write to be sent with the next round trip.
func (p *pipe) queue(sql string, args ...any) {
	p.pending.Queue(sql, args...)
}

// open sends BEGIN (the first time), the queued writes and then b's queries in one
// round trip, reads the results of all but b's, and returns the results positioned at
// b's first query. The caller reads b's results and must Close them.
func (p *pipe) open(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.conn == nil {
		c, err := p.pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("postgres: acquire connection: %w", err)
		}
		p.conn = c
	}
	full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 1+p.pending.Len()+b.Len())}
	if !p.begun {
		full.Queue(beginSQL)
		p.begun = true
	}
	full.QueuedQueries = append(full.QueuedQueries, p.pending.QueuedQueries...)
	ours := len(full.QueuedQueries)
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	p.pending.QueuedQueries = nil

	br := p.conn.SendBatch(ctx, full)
	for _, qq := range full.QueuedQueries[:ours] {
		var err error
		if qq.Fn != nil {
			err = qq.Fn(br)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			return nil, p.fail(err)
		}
	}
	return br, nil
}

// send runs b (after anything queued) and its callbacks in one round trip.
func (p *pipe) send(ctx context.Context, b *pgx.Batch) error {
	br, err := p.open(ctx, b)
	if err != nil {
		return err
	}
	if err := br.Close(); err != nil {
		return p.fail(err)
	}
	return nil
}

// fail records the transaction's first failure.
func (p *pipe) fail(err error) error {
	if p.err == nil {
		p.err = storeError(err)
	}
	return p.err
}

// commit sends what is queued and COMMIT. A transaction that never sent anything has
// nothing to commit.
func (p *pipe) commit(ctx context.Context) error {
	if p.err != nil || p.done {
		return p.err
	}
	if !p.begun && p.pending.Len() == 0 {
		return nil
	}
	b := &pgx.Batch{}
	p.queueCommit(b)
	return p.send(ctx, b)
}

// queueCommit adds COMMIT to b; done is set once the server has answered it.
func (p *pipe) queueCommit(b *pgx.Batch) {
	b.Queue("commit").Exec(func(ct pgconn.CommandTag) error {
		// COMMIT of a transaction that already failed answers ROLLBACK, not an error.
		if ct.String() == "ROLLBACK" {
			return pgx.ErrTxCommitRollback
		}
		p.done = true
		return nil
	})
}

// release rolls back what was not committed and returns the connection to the pool.
// A connection that cannot roll back is closed, which ends its transaction; the pool
// also discards any connection not left idle.
func (p *pipe) release(ctx context.Context) {
	if p.conn == nil {
		return
	}
	if p.begun && !p.done {
		if ctx.Err() != nil {
			p.conn.Conn().Close(context.WithoutCancel(ctx))
		} else if _, err := p.conn.Exec(ctx, "rollback"); err != nil {
			p.conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}
	p.conn.Release()
	p.conn = nil
}

// storeError maps the errors our SQL raises on purpose to the domain's, and a unique
// violation to a conflict naming the constraint.
func storeError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeNotFound:
			return orders.ErrNotFound
		case codeConflict:
			return orders.ErrConflict
		case "23505": // unique_violation
			return fmt.Errorf("postgres: %w (%s)", orders.ErrConflict, pgErr.ConstraintName)
		}
		return fmt.Errorf("postgres: %w", err)
	}
	var e *orders.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("postgres: %w", err)
}

// riverTx is the pgx.Tx that River's insert-only client writes jobs through. Its
// statements go through the pipe, so the transaction's queued writes and the job
// insert share one round trip. River only needs Exec, Query and QueryRow for inserts;
// the rest is there to satisfy pgx.Tx.
type riverTx struct{ p *pipe }

var _ pgx.Tx = riverTx{}

var errStoreOwnsTx = errors.New("postgres: the store commits and rolls back its own transactions")

func (r riverTx) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("postgres: nested transactions are not supported in store transactions")
}
func (r riverTx) Commit(context.Context) error   { return errStoreOwnsTx }
func (r riverTx) Rollback(context.Context) error { return errStoreOwnsTx }

func (r riverTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := r.p.send(ctx, &pgx.Batch{}); err != nil {
		return 0, err
	}
	n, err := r.p.conn.Conn().CopyFrom(ctx, table, cols, src)
	if err != nil {
		return n, r.p.fail(err)
	}
	return n, nil
}

func (r riverTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	br, err := r.p.open(ctx, b)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return &pipeBatchResults{BatchResults: br, p: r.p}
}

func (r riverTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (r riverTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := r.p.send(ctx, &pgx.Batch{}); err != nil {
		return nil, err
	}
	return r.p.conn.Conn().Prepare(ctx, name, sql)
}

func (r riverTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br, err := r.p.open(ctx, b)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	ct, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ct, r.p.fail(err)
	}
	return ct, nil
}

// jobInsertSQL marks River's job insert (sqlc names its queries in a comment).
const jobInsertSQL = "-- name: JobInsertFastMany "

func (r riverTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	if r.p.commitWithJobs && strings.Contains(sql, jobInsertSQL) {
		// The job insert is the transaction's last statement, so COMMIT can travel
		// with it. If the insert fails, Postgres skips the COMMIT (the rest of a
		// pipeline after an error is not run) and the transaction rolls back.
		r.p.commitWithJobs = false
		r.p.queueCommit(b)
	}
	br, err := r.p.open(ctx, b)
	if err != nil {
		return errRows{err}, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return errRows{r.p.fail(err)}, r.p.err
	}
	return &pipeRows{Rows: rows, br: br, p: r.p}, nil
}

func (r riverTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, _ := r.Query(ctx, sql, args...)
	return rowsRow{rows}
}

func (r riverTx) Conn() *pgx.Conn {
	if r.p.conn == nil {
		return nil
	}
	return r.p.conn.Conn()
}

// pipeBatchResults records a failure of the batch as the transaction's.
type pipeBatchResults struct {
	pgx.BatchResults
	p *pipe
}

func (br *pipeBatchResults) Close() error {
	if err := br.BatchResults.Close(); err != nil {
		return br.p.fail(err)
	}
	return nil
}

// pipeRows closes the batch its rows came from when they are closed.
type pipeRows struct {
	pgx.Rows
	br  pgx.BatchResults
	p   *pipe
	err error
}

func (r *pipeRows) Close() {
	if r.br == nil {
		return
	}
	r.Rows.Close()
	err := r.Rows.Err()
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	r.br = nil
	if err != nil {
		r.err = r.p.fail(err)
	}
}

func (r *pipeRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *pipeRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.Rows.Err()
}

// errRows are the rows of a query that failed before it was sent.
type errRows struct{ err error }

func (r errRows) Close()                                       {}
func (r errRows) Err() error                                   { return r.err }
func (r errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (r errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (r errRows) Next() bool                                   { return false }
func (r errRows) Scan(...any) error                            { return r.err }
func (r errRows) Values() ([]any, error)                       { return nil, r.err }
func (r errRows) RawValues() [][]byte                          { return nil }
func (r errRows) Conn() *pgx.Conn                              { return nil }
func (r errRows) TypeMap() *pgtype.Map                         { return nil }

// rowsRow is pgx.Row over rows, as QueryRow: the first row, or pgx.ErrNoRows.
type rowsRow struct{ rows pgx.Rows }

func (r rowsRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
