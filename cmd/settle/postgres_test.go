package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/settlehq/settle/store/storetest"
)

// pgDB returns a --db URL naming a fresh schema on the test server
// (storetest.PostgresSchema), dropped when the test ends.
func pgDB(t *testing.T) string {
	t.Helper()
	server, schema := storetest.PostgresSchema(t, "settle_cli_")
	sep := "?"
	if strings.Contains(server, "?") {
		sep = "&"
	}
	return server + sep + "schema=" + schema
}

// The CLI runs on PostgreSQL with --db postgres://… or $SETTLE_DB: a
// command that reads refuses a schema settle never created, the demo runs
// its whole pipeline, and its books read the same as on SQLite.
func TestPostgresDB(t *testing.T) {
	db := pgDB(t)
	if code, _, errOut := runCLI(t, "--db", db, "balance"); code == 0 || !strings.Contains(errOut, "run settle init") {
		t.Errorf("balance on a missing schema: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "--db", db, "demo"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "demo.db")
	if code, _, errOut := runCLI(t, "--db", file, "demo"); code != 0 {
		t.Fatalf("demo on SQLite: exit %d: %s", code, errOut)
	}
	for _, args := range [][]string{{"report", "trial-balance"}, {"report", "journal"}, {"export", "hledger"},
		{"exceptions"}, {"verify"}} {
		_, onPG, errOut := runCLI(t, append([]string{"--db", db}, args...)...)
		_, onFile, _ := runCLI(t, append([]string{"--db", file}, args...)...)
		if onPG != onFile {
			t.Errorf("%v differs:\nPostgreSQL:\n%s%s\nSQLite:\n%s", args, onPG, errOut, onFile)
		}
	}
	t.Setenv("SETTLE_DB", db)
	if code, out, errOut := runCLI(t, "balance", "assets:bank"); code != 0 || !strings.Contains(out, "assets:bank:operating") {
		t.Errorf("balance through $SETTLE_DB: exit %d: %s%s", code, out, errOut)
	}
}
