package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresServer returns the PostgreSQL server the tests run against, named
// by SETTLE_TEST_POSTGRES (postgres://user@host:port/db?sslmode=disable).
// Without it the test is skipped, or fails when SETTLE_REQUIRE_TOOLS=1
// (CI), so that a missing server never passes silently there.
func PostgresServer(t testing.TB) string {
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

// PostgresSchema returns the server PostgresServer names and a fresh
// schema name on it, prefix and random letters, dropped when the test ends:
// tests share the server (CI runs them in parallel, beside a session's own
// work).
func PostgresSchema(t testing.TB, prefix string) (server, schema string) {
	t.Helper()
	server = PostgresServer(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = prefix + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return server, schema
}
