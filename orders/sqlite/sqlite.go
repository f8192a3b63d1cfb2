// Package sqlite implements orders.Store on embedded SQLite (modernc.org/sqlite, no cgo),
// with River's riversqlite driver for background jobs. It is chatpay's default store:
// one file, nothing to install.
//
// SQLite allows one writer at a time, so the Store keeps two pools on the same file: a
// writer pool of exactly one connection, whose transactions begin IMMEDIATE (they take
// the write lock up front and so never deadlock upgrading a read lock), and a reader
// pool of several query-only connections that, thanks to WAL, read the last committed
// state while a write is in progress.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/chatpay/chatpay/orders"
)

//go:embed migrations/*.sql
var migrations embed.FS

// readerConns is the size of the reader pool. Reads in WAL mode do not block each
// other or the writer, so a few connections serve concurrent HTTP requests.
const readerConns = 4

// busyRetries is how many times InTx runs a transaction again after SQLITE_BUSY (another
// process holding the write lock past busy_timeout).
const busyRetries = 3

// Store is an orders.Store on one SQLite database file.
type Store struct {
	writer *sql.DB
	reader *sql.DB
	// rq reads from the reader pool with statements prepared once per connection
	// (see stmtCache). wstmts are the writer's statements, which transactions use
	// through cachedTx.
	rq     cachedDB
	wstmts *stmtCache
	// inserter is an insert-only River client: Tx.Enqueue inserts jobs with it on the
	// transaction's own *sql.Tx.
	inserter *river.Client[*sql.Tx]
	// tempPath is the file Open created for ":memory:", removed by Close.
	tempPath string
	now      func() time.Time
}

var _ orders.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path. A path of "" or ":memory:"
// opens a fresh temporary file that Close removes: a true in-memory database could not
// be shared by the writer and reader pools. Call Migrate before use.
func Open(ctx context.Context, path string) (*Store, error) {
	s := &Store{now: time.Now}
	if path == "" || path == ":memory:" {
		f, err := os.CreateTemp("", "chatpay-*.db")
		if err != nil {
			return nil, fmt.Errorf("sqlite: create temporary database: %w", err)
		}
		f.Close()
		path, s.tempPath = f.Name(), f.Name()
	}
	name := "file:" + (&url.URL{Path: filepath.ToSlash(path)}).EscapedPath()

	// The writer's connection keeps every query it runs prepared (stmtConn): River's
	// job queries run on it too, and parsing them anew for each job held the write
	// lock longer than running them.
	wc, err := sqlite.NewConnector(name + "?_txlock=immediate" +
		"&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, s.closeAfter(fmt.Errorf("sqlite: open writer: %w", err))
	}
	s.writer = sql.OpenDB(stmtConnector{base: wc, size: connStmts})
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	// The writer connects first, so the file exists and is in WAL mode before any
	// reader opens it.
	if err := s.writer.PingContext(ctx); err != nil {
		return nil, s.closeAfter(fmt.Errorf("sqlite: open %s: %w", path, err))
	}

	s.reader, err = sql.Open("sqlite", name+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_query_only=1")
	if err != nil {
		return nil, s.closeAfter(fmt.Errorf("sqlite: open reader: %w", err))
	}
	s.reader.SetMaxOpenConns(readerConns)
	s.reader.SetMaxIdleConns(readerConns)
	if err := s.reader.PingContext(ctx); err != nil {
		return nil, s.closeAfter(fmt.Errorf("sqlite: open %s for reading: %w", path, err))
	}

	s.rq = cachedDB{newStmtCache(s.reader)}
	s.wstmts = newStmtCache(s.writer)

	s.inserter, err = river.NewClient(riversqlite.New(s.writer), &river.Config{})
	if err != nil {
		return nil, s.closeAfter(fmt.Errorf("sqlite: river insert client: %w", err))
	}
	return s, nil
}

func (s *Store) closeAfter(err error) error {
	return errors.Join(err, s.Close())
}

// Writer returns the one-connection writer pool, for River's worker client and tools.
func (s *Store) Writer() *sql.DB { return s.writer }

// JobClient returns a River client on the writer pool, configured by cfg, for the
// process that works jobs. River's SQLite driver wants a single connection, which
// the writer pool is; River's work then queues with InTx for it.
func (s *Store) JobClient(cfg *river.Config) (*river.Client[*sql.Tx], error) {
	return river.NewClient(riversqlite.New(s.writer), cfg)
}

// Migrate applies chatpay's migrations not yet applied, then River's. It is safe to
// run at every start and from several processes: each migration runs in its own
// IMMEDIATE transaction that first checks whether it is already applied.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := s.migrate(ctx, version, string(body)); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
	}
	if err := s.backfillSearch(ctx, searchBackfillBatch); err != nil {
		return err
	}

	migrator, err := rivermigrate.New(riversqlite.New(s.writer), nil)
	if err != nil {
		return fmt.Errorf("sqlite: river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("sqlite: river migrations: %w", err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context, version, body string) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		version, s.now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}

// Ping reports whether both pools reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return err
	}
	return s.reader.PingContext(ctx)
}

// Close closes both pools, and removes the temporary file of a ":memory:" store.
func (s *Store) Close() error {
	var errs []error
	if s.rq.c != nil {
		errs = append(errs, s.rq.c.close())
	}
	if s.wstmts != nil {
		errs = append(errs, s.wstmts.close())
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if s.tempPath != "" {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(s.tempPath + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// InTx runs fn in an IMMEDIATE transaction on the writer connection. If the database
// stays locked by another process past busy_timeout, it runs fn again, up to
// busyRetries times; fn must therefore have no effect outside the transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx orders.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || !isBusy(err) || attempt == busyRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		}
	}
}

func (s *Store) inTx(ctx context.Context, fn func(tx orders.Tx) error) error {
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	q := &cachedTx{tx: sqlTx, c: s.wstmts}
	// This runs after the rollback below (defers run last first): once the transaction
	// has ended, whichever way, the writer's connection is free to prepare the
	// statements the transaction ran unprepared.
	defer func() {
		if len(q.missed) > 0 {
			s.wstmts.prepare(ctx, q.missed)
		}
	}()
	done := false
	// Rolling back in a defer also covers fn panicking or calling runtime.Goexit (a
	// failed require in a test), which would otherwise keep the only writer connection.
	defer func() {
		if !done {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(&tx{store: s, tx: sqlTx, q: q}); err != nil {
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// isBusy reports whether err is SQLite saying another connection holds a lock.
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// Secret returns the named instance secret, creating it with gen the first time.
func (s *Store) Secret(ctx context.Context, name string, gen func() (string, error)) (string, error) {
	var v string
	err := s.reader.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
	if err == nil {
		return v, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: secret %s: %w", name, err)
	}
	fresh, err := gen()
	if err != nil {
		return "", err
	}
	// Another process may have created the secret meanwhile; its value wins, so that
	// every process ends up with the same one.
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, fresh, s.now().UnixMicro()); err != nil {
		return "", fmt.Errorf("sqlite: create secret %s: %w", name, err)
	}
	if err := s.writer.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v); err != nil {
		return "", fmt.Errorf("sqlite: secret %s: %w", name, err)
	}
	return v, nil
}
