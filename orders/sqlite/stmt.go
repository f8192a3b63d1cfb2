package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"sync"
)

// stmtCache keeps one prepared statement per query text for a pool. SQLite spends
// more time parsing and planning a statement than running one of chatpay's indexed
// lookups, so re-preparing on every call was most of a pay page's cost. database/sql
// prepares a cached statement lazily once per pooled connection and reuses it after.
// The query texts are the store's own constants (and a bounded set of ListOrders
// filters), so the cache cannot grow without bound.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.cached(query); ok {
		return st, nil
	}
	// Preparing waits for a connection, so it must not hold the lock: on the writer,
	// the transaction holding the only connection may be looking up its statements.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if first, ok := c.m[query]; ok {
		// Another goroutine prepared it meanwhile; keep one.
		_ = st.Close()
		return first, nil
	}
	c.m[query] = st
	return st, nil
}

// cached returns the statement prepared for query, if there is one, without preparing.
func (c *stmtCache) cached(query string) (*sql.Stmt, bool) {
	c.mu.RLock()
	st, ok := c.m[query]
	c.mu.RUnlock()
	return st, ok
}

// prepare prepares the queries not yet cached. Errors are dropped: a query whose
// statement could not be prepared runs unprepared, as it did before.
func (c *stmtCache) prepare(ctx context.Context, queries []string) {
	for _, q := range queries {
		_, _ = c.stmt(ctx, q)
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for q, st := range c.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, q)
	}
	return first
}

// cachedDB is a querier on a pool that runs every query as a cached statement.
type cachedDB struct{ c *stmtCache }

func (q cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := q.c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (q cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := q.c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (q cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := q.c.stmt(ctx, query)
	if err != nil {
		// *sql.Row cannot carry an error from outside; running the query unprepared
		// reports the same error through Scan.
		return q.c.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// cachedTx is a querier on a write transaction that runs the queries the writer's
// cache has prepared as those statements (tx.StmtContext reuses what was prepared on
// the connection). A statement cannot be prepared on the writer pool while the
// transaction holds its only connection, so the queries the cache lacks run
// unprepared and are remembered in missed; InTx prepares them once the transaction
// has ended and released the connection. Later transactions then find them.
type cachedTx struct {
	tx     *sql.Tx
	c      *stmtCache
	missed []string
}

// stmt returns the transaction's handle on query's cached statement, or nil.
func (q *cachedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	st, ok := q.c.cached(query)
	if !ok {
		if !slices.Contains(q.missed, query) {
			q.missed = append(q.missed, query)
		}
		return nil
	}
	return q.tx.StmtContext(ctx, st)
}

func (q *cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q *cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q *cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}
