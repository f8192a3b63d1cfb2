// Package postgres implements orders.Store on PostgreSQL with pgx v5, and runs River's
// job tables in the same database, so that jobs are inserted in the same transaction
// as the state change they follow from.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/chatpay/chatpay/orders"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// defaultMaxConns bounds the pool when the URL does not say (pool_max_conns). A small
// machine serves best with a few more connections than cores: enough to overlap
// network waits and commit flushes, few enough that Postgres does not thrash.
const defaultMaxConns = 16

// schemaPattern is what Options.Schema may be. It is stricter than Postgres (no
// upper case, no quoting) so that the name means the same thing unquoted in
// search_path, in our SQL and in River's.
var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Options configures Open.
type Options struct {
	// Schema holds chatpay's and River's tables; "" means public. Tests use a fresh
	// schema each so that they can run in parallel against one database.
	Schema string
}

// Store is an orders.Store on a pgx connection pool.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	// inserter is an insert-only River client: Tx.Enqueue inserts jobs with it on the
	// store's own transaction. Workers run in the client returned by JobClient.
	inserter *river.Client[pgx.Tx]
}

var _ orders.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or key=value DSN). When
// opts.Schema is set, it creates the schema if needed and puts every connection's
// search_path on it. Open does not migrate; call Migrate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	return open(ctx, url, opts, nil)
}

// open is Open with a hook that adjusts the pool's configuration (tests trace with it).
func open(ctx context.Context, url string, opts Options, configure func(*pgxpool.Config)) (*Store, error) {
	if opts.Schema != "" && !schemaPattern.MatchString(opts.Schema) {
		return nil, fmt.Errorf("postgres: schema %q must be lower-case letters, digits and '_', starting with a letter or '_'", opts.Schema)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		// Scan timestamptz as UTC, so that every time the store returns compares
		// equal to the UTC times the domain writes.
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, schema: opts.Schema}
	if opts.Schema != "" {
		if err := s.createSchema(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	// Ask River's driver about the server now rather than in the first transaction
	// that inserts jobs: that transaction's job insert must be the first statement
	// River sends (see riverTx).
	driver := riverpgxv5.New(pool)
	if err := driver.GetExecutor().InitDriver(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s.inserter, err = river.NewClient(driver, &river.Config{Schema: opts.Schema})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: river insert client: %w", err)
	}
	return s, nil
}

// createSchema creates the store's schema. CREATE SCHEMA IF NOT EXISTS can still fail
// with a unique violation when two processes race, which means it exists: fine.
func (s *Store) createSchema(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s.schema}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P06") {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("postgres: create schema %s: %w", s.schema, err)
	}
	return nil
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema the store's tables live in ("" for public).
func (s *Store) Schema() string { return s.schema }

// JobClient returns a River client on the store's pool for working jobs. Its Schema
// defaults to the store's, so that it sees the jobs Tx.Enqueue inserts.
func (s *Store) JobClient(cfg *river.Config) (*river.Client[pgx.Tx], error) {
	c := river.Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.Schema == "" {
		c.Schema = s.schema
	}
	return river.NewClient(riverpgxv5.New(s.pool), &c)
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool, waiting for connections in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Migrate applies chatpay's migrations and then River's, while holding an advisory
// lock keyed by the schema, so that replicas starting together migrate once. Each
// migration runs in its own transaction (River's add enum values that later ones use,
// which Postgres allows only after a commit), so a failure leaves the schema at the
// last migration that succeeded. Migrate is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Schema: s.schema})
	if err != nil {
		return fmt.Errorf("postgres: river migrator: %w", err)
	}
	// The lock is a session lock, so everything below runs on this one connection.
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer pc.Release()
	conn := pc.Conn()
	key := migrateLockKey(s.schema)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer func() {
		ctx := context.WithoutCancel(ctx)
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			// Closing the session is the other way to release its locks.
			conn.Close(ctx)
		}
	}()

	if err := migrateOurs(ctx, conn); err != nil {
		return err
	}
	if err := backfillSearch(ctx, conn, searchBackfillBatch); err != nil {
		return err
	}
	for {
		var applied int
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			res, err := migrator.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
			if err != nil {
				return err
			}
			applied = len(res.Versions)
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: river migrations: %w", err)
		}
		if applied == 0 {
			return nil
		}
	}
}

// migrateLockKey derives the advisory lock key from the schema, so that tests
// migrating their own schemas in parallel do not wait for each other.
func migrateLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("chatpay/migrate/" + schema))
	return int64(h.Sum64())
}

// migrateOurs applies the embedded migrations not yet recorded in schema_migrations,
// in the order of their numeric prefixes, each in its own transaction.
func migrateOurs(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	if err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	rows, _ := conn.Query(ctx, "SELECT version FROM schema_migrations")
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("postgres: read schema_migrations: %w", err)
	}
	migs, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range migs {
		if slices.Contains(applied, m.version) {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
	}
	return nil
}

type migration struct {
	version   int
	name, sql string
}

// migrations returns the embedded migrations sorted by version. A file is named
// NNN_description.sql.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil {
			return nil, fmt.Errorf("postgres: migration file %s is not named NNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}
