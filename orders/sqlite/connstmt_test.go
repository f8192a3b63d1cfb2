package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"
)

// openStmtDB opens a one-connection pool of stmtConns keeping size statements, with a
// table t holding 1, 2 and 3.
func openStmtDB(t *testing.T, size int) *sql.DB {
	t.Helper()
	ctx := context.Background()
	base, err := sqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "stmt.db"))
	require.NoError(t, err)
	db := sql.OpenDB(stmtConnector{base: base, size: size})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	_, err = db.ExecContext(ctx, `CREATE TABLE t (x INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)`)
	require.NoError(t, err)
	return db
}

// openStmtConn is openStmtDB's connection, held for the test.
func openStmtConn(t *testing.T, size int) *sql.Conn {
	t.Helper()
	conn, err := openStmtDB(t, size).Conn(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, conn.Close()) })
	return conn
}

// cachedStmts returns the statements the connection keeps, by query text.
func cachedStmts(t *testing.T, conn *sql.Conn) map[string]*connStmt {
	t.Helper()
	m := map[string]*connStmt{}
	require.NoError(t, conn.Raw(func(dc any) error {
		c := dc.(*stmtConn)
		for q, e := range c.stmts {
			m[q] = e.Value.(*connStmt)
		}
		return nil
	}))
	return m
}

func readAll(t *testing.T, rows *sql.Rows) []int {
	t.Helper()
	var xs []int
	for rows.Next() {
		var x int
		require.NoError(t, rows.Scan(&x))
		xs = append(xs, x)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	return xs
}

func TestStmtConnReusesStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := openStmtConn(t, 8)
	const q = `SELECT x FROM t WHERE x >= ? ORDER BY x`
	rows, err := conn.QueryContext(ctx, q, 2)
	require.NoError(t, err)
	require.Equal(t, []int{2, 3}, readAll(t, rows))
	first := cachedStmts(t, conn)[q]
	require.NotNil(t, first, "the query's statement is kept")

	rows, err = conn.QueryContext(ctx, q, 1)
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 3}, readAll(t, rows), "the kept statement runs with new arguments")
	require.Same(t, first, cachedStmts(t, conn)[q], "and is not prepared again")

	// A failing statement stays usable.
	const ins = `INSERT INTO t (x) VALUES (?)`
	_, err = conn.ExecContext(ctx, ins, 1)
	require.ErrorContains(t, err, "UNIQUE")
	_, err = conn.ExecContext(ctx, ins, 4)
	require.NoError(t, err)
	rows, err = conn.QueryContext(ctx, q, 3)
	require.NoError(t, err)
	require.Equal(t, []int{3, 4}, readAll(t, rows))
}

// TestStmtConnBusyStatement runs a query again while rows of it are open, in one
// transaction: the second run must not reset the statement under the first.
func TestStmtConnBusyStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStmtDB(t, 8)
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	const q = `SELECT x FROM t WHERE x >= ? ORDER BY x`
	outer, err := tx.QueryContext(ctx, q, 1)
	require.NoError(t, err)
	var got [][]int
	for outer.Next() {
		var x int
		require.NoError(t, outer.Scan(&x))
		inner, err := tx.QueryContext(ctx, q, x)
		require.NoError(t, err)
		got = append(got, readAll(t, inner))
		// Running it through Exec while the outer rows are open works too.
		_, err = tx.ExecContext(ctx, q, x)
		require.NoError(t, err)
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	require.Equal(t, [][]int{{1, 2, 3}, {2, 3}, {3}}, got)
}

// TestStmtConnEvictsBusyStatement fills a one-statement cache while rows of the kept
// statement are open: they must still read to the end.
func TestStmtConnEvictsBusyStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := openStmtConn(t, 1)
	const a, b = `SELECT x FROM t ORDER BY x`, `SELECT x FROM t ORDER BY x DESC`
	rows, err := conn.QueryContext(ctx, a)
	require.NoError(t, err)
	other, err := conn.QueryContext(ctx, b)
	require.NoError(t, err)
	require.Equal(t, []int{3, 2, 1}, readAll(t, other))
	stmts := cachedStmts(t, conn)
	require.Len(t, stmts, 1)
	require.Contains(t, stmts, b, "the newest statement is kept")
	require.Equal(t, []int{1, 2, 3}, readAll(t, rows), "the evicted statement's rows read to the end")
	rows, err = conn.QueryContext(ctx, a)
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 3}, readAll(t, rows))
}
