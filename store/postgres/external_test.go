package postgres_test

import (
	"testing"

	"github.com/settlehq/settle/store/storetest"
)

// serverURL returns the server SETTLE_TEST_POSTGRES names; without it the
// test is skipped, or fails when SETTLE_REQUIRE_TOOLS=1 (CI).
func serverURL(t testing.TB) string {
	t.Helper()
	return storetest.PostgresServer(t)
}

// testSchema returns a random schema name on the test server, dropped with
// everything in it when the test ends.
func testSchema(t testing.TB) string {
	t.Helper()
	_, schema := storetest.PostgresSchema(t, "settle_test_")
	return schema
}
