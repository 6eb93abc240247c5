// Package settle is a double-entry ledger and reconciliation engine for
// payments. The domain lives in package ledger, its SQLite persistence in
// ledger/sqlite, provider export readers in importers, matching in
// reconcile, and report writers in reports; cmd/settle is the CLI.
//
// This root package holds what every storage backend shares: the schema.
package settle

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed schema.sql
var schema string

// Migration is one versioned step of the schema.
type Migration struct {
	Version int
	SQL     string
}

// Migrations returns the schema's migrations in order, split at the
// "-- migration: N" markers of schema.sql.
func Migrations() ([]Migration, error) {
	var out []Migration
	const marker = "-- migration:"
	lines := strings.Split(schema, "\n")
	var cur *Migration
	var body strings.Builder
	flush := func() {
		if cur != nil {
			cur.SQL = body.String()
			out = append(out, *cur)
		}
		body.Reset()
	}
	for i, line := range lines {
		if strings.HasPrefix(line, marker) {
			flush()
			v, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, marker)))
			if err != nil {
				return nil, fmt.Errorf("schema.sql:%d: bad migration marker %q", i+1, line)
			}
			if n := len(out); n > 0 && out[n-1].Version >= v {
				return nil, fmt.Errorf("schema.sql:%d: migration %d out of order", i+1, v)
			}
			cur = &Migration{Version: v}
			continue
		}
		if cur != nil {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	flush()
	return out, nil
}

// DemoFS holds the demo dataset that `settle demo` records: testdata/demo.
//
//go:embed testdata/demo
var DemoFS embed.FS
