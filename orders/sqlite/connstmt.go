package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
)

// connStmts is how many prepared statements a writer connection keeps: River's SQLite
// driver runs about a hundred distinct queries and the store about as many, so the
// working set fits and a rare query cannot evict the hot ones for long.
const connStmts = 256

// stmtConnector opens connections that run every ExecContext and QueryContext as a
// statement prepared once per query text and connection (see stmtConn).
type stmtConnector struct {
	base driver.Connector
	size int
}

func (c stmtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newStmtConn(conn, c.size)
}

func (c stmtConnector) Driver() driver.Driver { return c.base.Driver() }

// stmtConn keeps prepared statements for the queries run on a connection. The River
// client works its jobs on the writer connection with plain Tx.QueryContext calls,
// which modernc's driver parses and plans every time; its statements are long (the
// completer's JobSetStateIfRunning, the inserter's JobInsertFastMany), so parsing them
// once per job was over a third of the CPU of handling a chat update, all of it spent
// holding SQLite's only write lock. The store's own queries were already prepared
// (stmtCache); this covers every query on the connection, whoever runs it.
//
// database/sql uses a driver connection from one goroutine at a time, closing rows and
// statements under the same lock, so stmtConn needs no locking of its own.
type stmtConn struct {
	conn driver.Conn
	// The connection's optional interfaces, which modernc's conn implements; a
	// stmtConn can only be made for a connection that has them all.
	prep    driver.ConnPrepareContext
	execer  driver.ExecerContext
	queryer driver.QueryerContext
	begin   driver.ConnBeginTx

	size  int
	stmts map[string]*list.Element // query text to its entry in lru
	lru   *list.List               // of *connStmt, most recently used first
}

// connStmt is one cached statement. busy is set while rows read from it are open:
// the statement cannot run again until they are closed, so a second use of the same
// query meanwhile runs unprepared. An entry evicted while busy is closed when its
// rows are.
type connStmt struct {
	query   string
	st      driver.Stmt
	busy    bool
	evicted bool
}

var (
	_ driver.Conn               = (*stmtConn)(nil)
	_ driver.ConnPrepareContext = (*stmtConn)(nil)
	_ driver.ConnBeginTx        = (*stmtConn)(nil)
	_ driver.ExecerContext      = (*stmtConn)(nil)
	_ driver.QueryerContext     = (*stmtConn)(nil)
	_ driver.Pinger             = (*stmtConn)(nil)
	_ driver.SessionResetter    = (*stmtConn)(nil)
	_ driver.Validator          = (*stmtConn)(nil)
)

func newStmtConn(conn driver.Conn, size int) (*stmtConn, error) {
	c := &stmtConn{conn: conn, size: size, stmts: map[string]*list.Element{}, lru: list.New()}
	var ok [4]bool
	c.prep, ok[0] = conn.(driver.ConnPrepareContext)
	c.execer, ok[1] = conn.(driver.ExecerContext)
	c.queryer, ok[2] = conn.(driver.QueryerContext)
	c.begin, ok[3] = conn.(driver.ConnBeginTx)
	if ok != [4]bool{true, true, true, true} {
		_ = conn.Close()
		return nil, errors.New("sqlite: the driver's connection lacks context methods")
	}
	return c, nil
}

// cached returns the statement for query, preparing it on first use, or nil when the
// cached one is busy.
func (c *stmtConn) cached(ctx context.Context, query string) (*connStmt, error) {
	if e, ok := c.stmts[query]; ok {
		c.lru.MoveToFront(e)
		s := e.Value.(*connStmt)
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	st, err := c.prep.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &connStmt{query: query, st: st}
	c.stmts[query] = c.lru.PushFront(s)
	for c.lru.Len() > c.size {
		c.evict(c.lru.Back())
	}
	return s, nil
}

func (c *stmtConn) evict(e *list.Element) {
	s := c.lru.Remove(e).(*connStmt)
	delete(c.stmts, s.query)
	if s.busy {
		s.evicted = true // closed with its rows
		return
	}
	_ = s.st.Close()
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.execer.ExecContext(ctx, query, args)
	}
	return s.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.queryer.QueryContext(ctx, query, args)
	}
	rows, err := s.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &stmtRows{Rows: rows, s: s}, nil
}

// PrepareContext prepares a statement its caller owns (database/sql's *sql.Stmt),
// outside the cache.
func (c *stmtConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.prep.PrepareContext(ctx, query)
}

func (c *stmtConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

func (c *stmtConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.begin.BeginTx(ctx, opts)
}

// Begin is driver.Conn's form without a context, which database/sql does not call on
// a connection with BeginTx.
func (c *stmtConn) Begin() (driver.Tx, error) { return c.conn.Begin() } //nolint:staticcheck // driver.Conn requires it

func (c *stmtConn) Ping(ctx context.Context) error {
	if p, ok := c.conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *stmtConn) ResetSession(ctx context.Context) error {
	if r, ok := c.conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *stmtConn) IsValid() bool {
	if v, ok := c.conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// Close finalizes the cached statements, then closes the connection.
func (c *stmtConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		if s := e.Value.(*connStmt); !s.busy {
			errs = append(errs, s.st.Close())
		}
	}
	c.stmts, c.lru = nil, list.New()
	errs = append(errs, c.conn.Close())
	return errors.Join(errs...)
}

// stmtRows are rows read from a cached statement: closing them frees the statement
// for its next use. The column type methods database/sql looks for are passed on.
type stmtRows struct {
	driver.Rows
	s *connStmt
}

func (r *stmtRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	if r.s.evicted {
		err = errors.Join(err, r.s.st.Close())
	}
	return err
}

func (r *stmtRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *stmtRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *stmtRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *stmtRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *stmtRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
