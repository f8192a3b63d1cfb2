// Package postgrestest opens throwaway Postgres stores for tests: each in a fresh
// schema of the test database, migrated, and dropped when the test ends, so that tests
// run in parallel against one server without seeing each other's rows or jobs.
package postgrestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatpay/chatpay/orders/postgres"
)

// DefaultURL is the test database used when CHATPAY_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the test database's URL.
func URL() string {
	if u := os.Getenv("CHATPAY_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Open returns a migrated store in a fresh schema named t_<random>, dropped with
// everything in it at cleanup. When the database is unreachable the test is skipped,
// unless CHATPAY_REQUIRE_SERVICES=1, when it fails.
func Open(t testing.TB) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	url := URL()
	// Probe with a single connection first, so that an absent server gives one clear
	// skip message rather than a pool error. The URL is parsed as the pool parses it,
	// so that pool settings such as pool_max_conns are not sent to the server as
	// runtime parameters.
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("postgrestest: CHATPAY_TEST_DATABASE_URL: %v", err)
	}
	probe, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err == nil {
		err = probe.Ping(ctx)
		probe.Close(ctx)
	}
	if err != nil {
		if os.Getenv("CHATPAY_REQUIRE_SERVICES") == "1" {
			t.Fatalf("postgrestest: database %s unreachable and CHATPAY_REQUIRE_SERVICES=1: %v", url, err)
		}
		t.Skipf("postgrestest: database unreachable (set CHATPAY_TEST_DATABASE_URL): %v", err)
	}

	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	s, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatalf("postgrestest: open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The code under test may have closed the store already (Main.Close does), so
		// the schema is dropped over a connection of its own.
		s.Close()
		conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
		if err == nil {
			_, err = conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			conn.Close(ctx)
		}
		if err != nil {
			t.Errorf("postgrestest: drop schema %s: %v", schema, err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("postgrestest: migrate: %v", err)
	}
	return s
}
