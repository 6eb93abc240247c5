package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// serverURL returns the server SETTLE_TEST_POSTGRES names; without it the
// test is skipped, or fails when SETTLE_REQUIRE_TOOLS=1 (CI).
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

// testSchema returns a random schema name, dropped with everything in it
// when the test ends.
func testSchema(t testing.TB, url string) string {
	t.Helper()
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
