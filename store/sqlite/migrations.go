package sqlite

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// The SQLite schema is this store's own: schema.sql beside this file, in
// numbered sections applied once each, in order.
//
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
