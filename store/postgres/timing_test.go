package postgres

import (
	"context"
	"testing"
	"time"
)

func TestTimingFloor(t *testing.T) {
	s := openTest(t, nil)
	ctx := context.Background()
	conn, _ := s.db.Connx(ctx)
	defer conn.Close()
	conn.ExecContext(ctx, "CREATE TEMP TABLE x (a bigint)")
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"select 1", func() { conn.ExecContext(ctx, "SELECT 1") }},
		{"select $1", func() { conn.ExecContext(ctx, "SELECT $1::int", 1) }},
		{"begin+commit", func() { conn.ExecContext(ctx, "BEGIN"); conn.ExecContext(ctx, "COMMIT") }},
		{"begin+insert+commit", func() {
			conn.ExecContext(ctx, "BEGIN")
			conn.ExecContext(ctx, s.sql("INSERT INTO {schema}.settings VALUES (gen_random_uuid()::text, 'x')"))
			conn.ExecContext(ctx, "COMMIT")
		}},
		{"begin+for share+commit", func() {
			conn.ExecContext(ctx, "BEGIN")
			conn.ExecContext(ctx, s.sql("SELECT value FROM {schema}.settings WHERE name = 'closed_through' FOR SHARE"))
			conn.ExecContext(ctx, "COMMIT")
		}},
		{"db.Connx+close", func() { c, _ := s.db.Connx(ctx); c.Close() }},
	} {
		start := time.Now()
		n := 300
		for range n {
			c.f()
		}
		t.Logf("%-25s %v", c.name, time.Since(start)/time.Duration(n))
	}
}
