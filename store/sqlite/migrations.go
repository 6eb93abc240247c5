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
	// WhenEmpty names a table: the step's SQL runs only if the table has
	// no rows, and the step counts as applied either way. It is given by
	// a line "-- when empty: TABLE" right after the step's marker.
	WhenEmpty string
}

// Migrations returns the schema's migrations in order, split at the
// "-- migration: N" markers of schema.sql.
func Migrations() ([]Migration, error) { return parseMigrations(schema) }

// parseMigrations splits text, as schema.sql is written, into migrations.
func parseMigrations(text string) ([]Migration, error) {
	var out []Migration
	const marker, whenEmpty = "-- migration:", "-- when empty:"
	lines := strings.Split(text, "\n")
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
		if cur != nil && body.Len() == 0 && strings.HasPrefix(line, whenEmpty) {
			cur.WhenEmpty = strings.TrimSpace(strings.TrimPrefix(line, whenEmpty))
			if !tableName(cur.WhenEmpty) {
				return nil, fmt.Errorf("schema.sql:%d: bad table name %q", i+1, cur.WhenEmpty)
			}
		}
		if cur != nil {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	flush()
	return out, nil
}

// tableName reports whether s is a plain table name: lowercase letters,
// digits and underscores.
func tableName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}
