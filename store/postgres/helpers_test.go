package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// serverURL returns the PostgreSQL server the tests run against, named by
// SETTLE_TEST_POSTGRES (postgres://user@host:port/db?sslmode=disable). Without
// it the test is skipped, or fails when SETTLE_REQUIRE_TOOLS=1 (CI), so that
// a missing server never passes silently there.
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SETTLE_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("SETTLE_REQUIRE_TOOLS") == "1" {
			t.Fatal("SETTLE_TEST_POSTGRES is not set and SETTLE_REQUIRE_TOOLS=1: name the PostgreSQL server to test against")
		}
		t.Skip("SETTLE_TEST_POSTGRES is not set: no PostgreSQL server to test against")
	}
	return u
}

// testSchema returns a random schema name and drops the schema when the
// test ends: tests share the server (CI runs them in parallel).
func testSchema(t testing.TB) string {
	t.Helper()
	url := serverURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "settle_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// openTest opens a Store in a fresh schema, closed and dropped when the test
// ends. opts may be nil; its Schema is replaced.
func openTest(t testing.TB, opts *Options) *Store {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Schema = testSchema(t)
	s, err := Open(context.Background(), serverURL(t), &o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openDBFromPool(pool *pgxpool.Pool) *sql.DB { return stdlib.OpenDBFromPool(pool) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
